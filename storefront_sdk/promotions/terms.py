"""Checks of a promotion's terms before it is created: who funds it and what it may apply
to (``growth.md``, "Who pays"), its amounts, window, code and limits.

Each check adds a message at its field to an :data:`~storefront_sdk.validation.ErrorTree`;
:func:`refuse_if_any` raises one :class:`~storefront_sdk.errors.ValidationError` naming
every field at fault, so the supplier API, the console, the admin and the CLI all show the
same messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..catalog.models import Category, Product, Supplier, Variant
from ..errors import ValidationError
from ..money import currency_exponent
from ..shops.models import Shop
from ..validation import MAX_INT, ErrorTree, add_error
from .models import FUNDERS, PLATFORM, SHOP, SUPPLIER, Promotion

#: A coupon code: 3 to 32 upper-case letters, digits and hyphens (stored upper-case).
CODE_SHAPE = re.compile(r"[A-Z0-9-]{3,32}\Z")
#: A threshold has at most this many tiers.
MAX_TIERS = 10
#: The longest name a promotion may have (its column).
MAX_NAME = 120


def refuse_if_any(errors: ErrorTree, what: str) -> None:
    """Raise a :class:`ValidationError` carrying ``errors`` if there are any."""
    if errors:
        raise ValidationError(f"{what} refused: {_first(errors)}", errors=errors)


def _first(tree: Any, path: str = "") -> str:
    if isinstance(tree, list):
        return f"{path}: {tree[0]}" if path else str(tree[0])
    key = next(iter(tree))
    return _first(tree[key], f"{path}.{key}" if path else key)


def check_funder(
    session: Session,
    errors: ErrorTree,
    funder: str,
    supplier_id: int | None,
    shop_id: int | None,
) -> Supplier | None:
    """The funder is known and names its owner: a supplier's promotion its supplier, a
    shop's its shop; both must exist. Returns the supplier (if one is named)."""
    if funder not in FUNDERS:
        add_error(errors, ["funder"], f"Must be one of {', '.join(FUNDERS)}.")
    if funder == SUPPLIER and supplier_id is None:
        add_error(errors, ["supplier_id"], "Required when the funder is the supplier.")
    if funder == SHOP and shop_id is None:
        add_error(errors, ["shop_id"], "Required when the funder is the shop.")
    supplier = session.get(Supplier, supplier_id) if supplier_id is not None else None
    if supplier_id is not None and supplier is None:
        add_error(errors, ["supplier_id"], f"Unknown supplier {supplier_id}.")
    if shop_id is not None and session.get(Shop, shop_id) is None:
        add_error(errors, ["shop_id"], f"Unknown shop {shop_id}.")
    return supplier


def check_window(errors: ErrorTree, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """It starts before it ends, and ends in the future (an ended promotion is pointless)."""
    if ends_at <= starts_at:
        add_error(errors, ["ends_at"], "Must be after the start.")
    elif ends_at <= now:
        add_error(errors, ["ends_at"], "Must be in the future.")


def check_currency(
    errors: ErrorTree, currency: str | None, supplier: Supplier | None, needed: bool
) -> str | None:
    """The currency of its amounts: given, else the supplier's; required when there are
    amounts (``needed``); a supplier's promotion is in the supplier's currency."""
    if currency is None and supplier is not None:
        currency = supplier.currency
    if currency is None:
        if needed:
            add_error(errors, ["currency"], "Required for amounts (an ISO 4217 code).")
        return None
    if not _known_currency(currency):
        add_error(errors, ["currency"], f"Unknown currency {currency!r}.")
    elif supplier is not None and currency != supplier.currency:
        add_error(errors, ["currency"], f"Must be the supplier's currency, {supplier.currency}.")
    return currency


def _known_currency(code: str) -> bool:
    if len(code) != 3 or not code.isupper():
        return False
    try:
        currency_exponent(code)
    except ValueError:
        return False
    return True


def check_count(
    errors: ErrorTree, field: str, value: int | None, least: int, most: int = MAX_INT
) -> None:
    """An optional whole number from ``least`` to ``most`` (that fits the database)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        add_error(errors, [field], "Must be a whole number.")
    elif not least <= value <= most:
        add_error(errors, [field], f"Must be between {least} and {most}.")


def normalised_code(session: Session, errors: ErrorTree, code: str | None) -> str | None:
    """The code upper-case, of the right shape and not taken by another promotion."""
    if code is None:
        return None
    code = code.strip().upper()
    if not CODE_SHAPE.match(code):
        add_error(errors, ["code"], "Must be 3 to 32 letters, digits or hyphens.")
        return code
    if session.scalar(sa.select(col(Promotion.id)).where(col(Promotion.code) == code)):
        add_error(errors, ["code"], f"The code {code} is already taken.")
    return code


def check_name(errors: ErrorTree, name: str | None) -> str | None:
    """A given name, trimmed: 1 to 120 characters, no NUL."""
    if name is None:
        return None
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME or "\x00" in name:
        add_error(errors, ["name"], f"Must be 1 to {MAX_NAME} characters.")
    return name


def check_discount(
    errors: ErrorTree, percent_off: int | None, amount_off: int | None, min_spend: int
) -> None:
    """A coupon gives a percent off (1 to 100) or an amount off (above 0), not both."""
    if (percent_off is None) == (amount_off is None):
        add_error(errors, ["percent_off"], "Give either a percent off or an amount off.")
    check_count(errors, "percent_off", percent_off, 1, 100)
    check_count(errors, "amount_off", amount_off, 1)
    check_count(errors, "min_spend", min_spend, 0)


def check_tiers(errors: ErrorTree, tiers: Sequence[Any]) -> list[dict[str, int]]:
    """Tiers ``[{"spend", "off"}]``: 1 to 10, spends and offs rising, each off below its
    spend. Returns them as stored."""
    if not isinstance(tiers, Sequence) or not 1 <= len(tiers) <= MAX_TIERS:
        add_error(errors, ["tiers"], f"Give 1 to {MAX_TIERS} tiers.")
        return []
    stored: list[dict[str, int]] = []
    for index, tier in enumerate(tiers):
        spend, off = _tier_values(tier)
        if spend is None or off is None or not 0 < off < spend <= MAX_INT:
            add_error(errors, ["tiers", index], "Needs a spend and an off, 0 < off < spend.")
            continue
        if stored and (spend <= stored[-1]["spend"] or off <= stored[-1]["off"]):
            add_error(errors, ["tiers", index], "Spends and offs must rise from tier to tier.")
        stored.append({"spend": spend, "off": off})
    return stored


def _tier_values(tier: Any) -> tuple[int | None, int | None]:
    if not isinstance(tier, dict):
        return None, None
    values = [tier.get("spend"), tier.get("off")]
    spend, off = (v if isinstance(v, int) and not isinstance(v, bool) else None for v in values)
    return spend, off


def check_scope(
    session: Session,
    errors: ErrorTree,
    supplier_id: int | None,
    product_ids: Sequence[int],
    category_ids: Sequence[int],
) -> tuple[list[int], list[int]]:
    """Products and categories in scope exist; with a supplier, they are its own (its
    products, categories it has products in). Returns them sorted, without repeats."""
    products = sorted(set(product_ids))
    categories = sorted(set(category_ids))
    found = _existing(session, Product, products, supplier_id)
    for product_id in products:
        if product_id not in found:
            add_error(errors, ["product_ids"], f"Unknown product {product_id}.")
    known = _known_categories(session, categories, supplier_id)
    for category_id in categories:
        if category_id not in known:
            add_error(errors, ["category_ids"], f"Unknown category {category_id}.")
    return products, categories


def _existing(
    session: Session, model: type[Product], ids: list[int], supplier_id: int | None
) -> set[int]:
    if not ids:
        return set()
    query = sa.select(col(model.id)).where(col(model.id).in_(ids))
    if supplier_id is not None:
        query = query.where(col(model.supplier_id) == supplier_id)
    return set(session.scalars(query))


def _known_categories(session: Session, ids: list[int], supplier_id: int | None) -> set[int]:
    if not ids:
        return set()
    query = sa.select(col(Category.id)).where(col(Category.id).in_(ids))
    if supplier_id is not None:
        query = query.where(
            sa.exists().where(
                col(Product.category_id) == col(Category.id),
                col(Product.supplier_id) == supplier_id,
            )
        )
    return set(session.scalars(query))


def check_supplier_percent(
    session: Session,
    errors: ErrorTree,
    supplier_id: int,
    percent_off: int,
    product_ids: Sequence[int],
    category_ids: Sequence[int],
) -> None:
    """A supplier's percent off must fit in its supply price at the suggested retail price
    of every variant in scope (``docs/promotions.md``, "What a funder can bear")."""
    query = (
        sa.select(col(Variant.sku))
        .join(Product, col(Product.id) == col(Variant.product_id))
        .where(
            col(Variant.supplier_id) == supplier_id,
            col(Variant.retail_price_minor) * percent_off > col(Variant.supply_price_minor) * 100,
        )
        .order_by(col(Variant.sku))
        .limit(1)
    )
    if product_ids:
        query = query.where(col(Variant.product_id).in_(list(product_ids)))
    if category_ids:
        query = query.where(col(Product.category_id).in_(list(category_ids)))
    sku = session.scalar(query)
    if sku is not None:
        add_error(
            errors,
            ["percent_off"],
            f"More than the supplier can bear on SKU {sku}: its supply price is a smaller "
            "share of its retail price.",
        )


def check_flash_funder(errors: ErrorTree, funder: str) -> None:
    """A flash sale is funded by its supplier or the platform, never by a shop."""
    if funder not in (SUPPLIER, PLATFORM):
        add_error(errors, ["funder"], "A flash sale is funded by the supplier or the platform.")
