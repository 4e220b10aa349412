"""Shared input validation pieces: safe text types and error-location trees.

Errors are reported as nested objects keyed by field name and item index (as strings),
ending in a list of messages: ``{"products": {"3": {"variants": {"0": {"sku": ["..."]}}}}}``
— the shape marshmallow and the API contract use.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import pydantic
from pydantic import Field

#: The largest integer the API accepts in any integer field (fits a 32-bit column).
MAX_INT = 2**31 - 1

ErrorTree = dict[str, Any]


#: Text the database can store: PostgreSQL refuses NUL. (Lone surrogates, legal in JSON
#: escapes, are already refused by pydantic as invalid Unicode.)
NUL_FREE = r"^[^\x00]*$"

#: Friendly messages for the regular expressions fields are checked against.
PATTERN_MESSAGES: dict[str, str] = {NUL_FREE: "Must not contain NUL characters."}


#: A non-negative integer that fits the database (strict: no floats, strings or booleans).
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_INT)]


def add_error(tree: ErrorTree, location: Sequence[str | int], message: str) -> None:
    """Add ``message`` at ``location`` (field names and indexes) in ``tree``."""
    node = tree
    *parents, leaf = [str(part) for part in location] or ["_schema"]
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):  # a message list already sits here
            child = node[part] = {"_schema": child}
        node = child
    existing = node.setdefault(leaf, [])
    if isinstance(existing, dict):
        existing.setdefault("_schema", []).append(message)
    else:
        existing.append(message)


def tree_from_pydantic(errors: Iterable[Any]) -> ErrorTree:
    """The error tree of a pydantic ``ValidationError.errors()`` list."""
    tree: ErrorTree = {}
    for error in errors:
        add_error(tree, list(error["loc"]), _message(error))
    return tree


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "Unknown field."
    if error["type"] == "missing":
        return "Missing data for required field."
    if error["type"] == "string_pattern_mismatch":
        pattern: str = error["ctx"]["pattern"]
        return PATTERN_MESSAGES.get(pattern, str(error["msg"]))
    message: str = error["msg"]
    return message.removeprefix("Value error, ")


@functools.cache
def _list_adapter(model: type[pydantic.BaseModel]) -> pydantic.TypeAdapter[list[Any]]:
    return pydantic.TypeAdapter(list[model])  # type: ignore[valid-type]


def validate_items(
    model: type[pydantic.BaseModel], items: Sequence[Any]
) -> tuple[list[tuple[int, Any]], dict[int, ErrorTree]]:
    """Validate each item on its own: the valid ``(index, model)`` pairs and the errors by
    index, so callers can reject the whole batch or keep the valid part."""
    try:  # the common case, all valid, in one call to pydantic-core
        return list(enumerate(_list_adapter(model).validate_python(items))), {}
    except pydantic.ValidationError:
        pass
    valid: list[tuple[int, Any]] = []
    failed: dict[int, ErrorTree] = {}
    validate = model.model_validate
    for index, item in enumerate(items):
        try:
            valid.append((index, validate(item)))
        except pydantic.ValidationError as exc:
            failed[index] = tree_from_pydantic(exc.errors(include_url=False))
    return valid, failed
