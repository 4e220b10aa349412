"""What the console's and the admin's promotion pages share: reading their forms (amounts in
the currency's units such as ``12.50``, times in the shop's or platform's time zone, a
threshold's tiers), the rows of their lists with each promotion's figures, and a service's
refusal as a message.

Amounts are parsed by :meth:`storefront_sdk.money.Money.from_major` (no floats); a time typed
as ``2026-12-24T20:00`` (the browser's ``datetime-local``) is in ``zone``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ..catalog.models import Supplier
from ..errors import StorefrontError, ValidationError
from ..money import Money
from ..promotions.manage import promotion_figures
from ..promotions.models import Promotion
from .pages import gettext as _
from .promotion_texts import MoneyText, kind_name, offered_by, terms

#: Tiers a threshold's form offers.
TIER_ROWS = 3
#: Promotions a list shows (newest first).
LIST_SIZE = 100
_LOCAL = "%Y-%m-%dT%H:%M"


def amount_of(text: str | None, currency: str, label: str, *, required: bool = True) -> int:
    """An amount typed in the currency's units (``12.50``) in minor units, more than 0;
    ``0`` for an empty optional one."""
    text = (text or "").strip()
    if not text and not required:
        return 0
    try:
        amount = Money.from_major(text, currency).minor
    except (TypeError, ValueError):
        amount = 0
    if amount < 1:
        raise ValidationError(_("%(field)s: a plain amount such as 12.50.", field=label))
    return amount


def count_of(text: str | None, label: str, *, least: int = 1) -> int | None:
    """A whole number typed in a form (``None`` when left empty)."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9 or int(text) < least:
        raise ValidationError(
            _("%(field)s: a whole number from %(least)s.", field=label, least=least)
        )
    return int(text)


def time_of(text: str | None, zone: str, label: str) -> datetime:
    """A time typed as ``YYYY-MM-DDTHH:MM`` in ``zone``, as UTC."""
    try:
        local = datetime.strptime((text or "").strip()[:16], _LOCAL)
    except ValueError:
        raise ValidationError(
            _("%(field)s: a date and time such as 2026-12-24 20:00.", field=label)
        ) from None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))


def window_of(
    starts: str | None, ends: str | None, zone: str, now: datetime
) -> tuple[datetime, datetime]:
    """A promotion's window from its form: it ends after it starts, and in the future."""
    starts_at = time_of(starts, zone, _("Starts"))
    ends_at = time_of(ends, zone, _("Ends"))
    if ends_at <= starts_at:
        raise ValidationError(_("The end must be after the start."))
    if ends_at <= now:
        raise ValidationError(_("The end must be in the future."))
    return starts_at, ends_at


def local_input(moment: datetime, zone: str) -> str:
    """``moment`` as a ``datetime-local`` field shows it in ``zone``."""
    return moment.astimezone(ZoneInfo(zone)).strftime(_LOCAL)


def default_window(now: datetime, zone: str) -> dict[str, str]:
    """A new promotion's window as its form first shows it: from now, for a week."""
    return {"starts": local_input(now, zone), "ends": local_input(now + timedelta(days=7), zone)}


def tiers_of(form: Any, currency: str) -> list[dict[str, int]]:
    """A threshold's tiers from ``spend_<n>`` / ``off_<n>`` (rows left empty are skipped)."""
    tiers = []
    for row in range(1, TIER_ROWS + 1):
        spend, off = form.get(f"spend_{row}", "").strip(), form.get(f"off_{row}", "").strip()
        if not spend and not off:
            continue
        tiers.append(
            {
                "spend": amount_of(spend, currency, _("Spend")),
                "off": amount_of(off, currency, _("Off")),
            }
        )
    if not tiers:
        raise ValidationError(_("Give at least one tier: spend and off, such as 100 and 20."))
    return tiers


def refusal(error: StorefrontError) -> str:
    """A service's refusal as a page shows it: its first field message, in the page's
    language when the message carries its ``msgid`` and ``values`` (the services' field
    messages do), else as the service wrote it."""
    if isinstance(error, ValidationError) and error.errors:
        first = _first_message(error.errors)
        msgid = getattr(first, "msgid", None)
        reason = _(msgid, **getattr(first, "values", {})) if msgid else error.message
        return _("This promotion was refused: %(reason)s", reason=reason)
    return error.message


def _first_message(tree: Any) -> Any:
    while isinstance(tree, dict | list) and tree:
        tree = next(iter(tree.values())) if isinstance(tree, dict) else tree[0]
    return tree


def status_of(promotion: Promotion, now: datetime) -> str:
    """ "Scheduled", "Live" or "Ended"."""
    if promotion.ended_at is not None or (promotion.ends_at and promotion.ends_at <= now):
        return _("Ended")
    if promotion.starts_at and promotion.starts_at > now:
        return _("Scheduled")
    return _("Live")


def supplier_names(session: Session, promotions: Sequence[Promotion]) -> dict[int, str]:
    """The names of the suppliers the promotions are scoped to."""
    ids = sorted({p.supplier_id for p in promotions if p.supplier_id is not None})
    if not ids:
        return {}
    rows = session.execute(
        sa.select(col(Supplier.id), col(Supplier.name)).where(col(Supplier.id).in_(ids))
    )
    return {id_ or 0: name for id_, name in rows}


def promotion_rows(
    session: Session, promotions: Sequence[Promotion], money: MoneyText, now: datetime
) -> list[dict[str, Any]]:
    """Each promotion as a list shows it: terms, window, status and figures (uses, discount
    given, paid orders and their sales)."""
    figures = promotion_figures(session, [p.id or 0 for p in promotions])
    names = supplier_names(session, promotions)
    rows = []
    for promotion in promotions:
        found = figures.get(promotion.id or 0)
        currency = promotion.currency or "CNY"
        rows.append(
            {
                "promotion": promotion,
                "kind": kind_name(promotion.kind),
                "terms": terms(promotion, money),
                "offered_by": offered_by(promotion, names),
                "status": status_of(promotion, now),
                "can_end": promotion.ended_at is None
                and promotion.ends_at is not None
                and promotion.ends_at > now,
                "uses": found.uses if found else 0,
                "discount_given": money(found.discount_given if found else 0, currency),
                "orders": found.orders if found else 0,
                "sales": money(found.sales if found else 0, currency),
            }
        )
    return rows
