"""The shared category tree, addressed by path (``Apparel/Tops``); created on demand."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..sql import insert_for, rows_where_in, table_of
from .models import Category


def normalize_path(path: str) -> str:
    """``" Apparel / Tops "`` → ``"Apparel/Tops"``."""
    return "/".join(part.strip() for part in path.split("/"))


def ensure_categories(session: Session, paths: Iterable[str]) -> dict[str, int]:
    """Ids of the categories at ``paths`` (normalised), creating them and their ancestors.

    Safe under concurrency: inserts are ``ON CONFLICT DO NOTHING`` and parents are written
    before children.
    """
    paths = list(paths)
    wanted: set[str] = set()
    for path in paths:
        parts = normalize_path(path).split("/")
        wanted.update("/".join(parts[: depth + 1]) for depth in range(len(parts)))
    if not wanted:
        return {}
    table = table_of(Category)
    ids = _existing(session, wanted)
    missing = sorted(wanted - ids.keys(), key=lambda p: p.count("/"))
    for depth in sorted({p.count("/") for p in missing}):
        rows = [
            {
                "path": path,
                "name": path.rsplit("/", 1)[-1],
                "parent_id": ids.get(path.rsplit("/", 1)[0]) if depth else None,
                "depth": depth,
            }
            for path in missing
            if path.count("/") == depth
        ]
        session.execute(insert_for(session, table).on_conflict_do_nothing(), rows)
        ids.update(_existing(session, {str(row["path"]) for row in rows}))
    return {path: ids[normalize_path(path)] for path in paths}


def _existing(session: Session, paths: set[str]) -> dict[str, int]:
    rows = rows_where_in(
        session, select(Category.path, Category.id), col(Category.path), sorted(paths)
    )
    return {path: id_ for path, id_ in rows if id_ is not None}
