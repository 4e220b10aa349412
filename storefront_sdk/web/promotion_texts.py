"""What a promotion's terms say, in the page's language: the same words in the shop's coupon
centre and badges, the console and the admin ("¥5.00 off orders over ¥50.00", "10% off",
"满¥100.00减¥20.00", who offers it).

Amounts are written by the page's own ``money(minor, currency)`` (the shop's currency
display, or the console's), never here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..promotions.models import COUPON, FLASH_SALE, PLATFORM, SHOP, SUPPLIER, Promotion
from .pages import gettext as _

#: ``money(minor, currency)`` of the page.
MoneyText = Callable[[int, str], str]


def coupon_terms(promotion: Promotion, money: MoneyText) -> str:
    """What a coupon takes off: "¥5.00 off orders over ¥50.00", "10% off"."""
    currency = promotion.currency or ""
    spend = promotion.min_spend_minor or 0
    if promotion.percent_off is not None:
        if spend and currency:
            return _(
                "%(percent)s%% off orders over %(spend)s",
                percent=promotion.percent_off,
                spend=money(spend, currency),
            )
        return _("%(percent)s%% off", percent=promotion.percent_off)
    off = money(promotion.amount_off_minor or 0, currency)
    if spend:
        return _("%(off)s off orders over %(spend)s", off=off, spend=money(spend, currency))
    return _("%(off)s off", off=off)


def tier_terms(tiers: Sequence[dict[str, Any]], currency: str, money: MoneyText) -> list[str]:
    """Each tier of a threshold (满减): "满¥100.00减¥20.00" ("¥20.00 off over ¥100.00")."""
    return [
        _(
            "%(off)s off over %(spend)s",
            off=money(int(tier["off"]), currency),
            spend=money(int(tier["spend"]), currency),
        )
        for tier in tiers
    ]


def flash_terms(promotion: Promotion, money: MoneyText) -> str:
    """A flash sale's price and quota: "¥39.00 each, 100 units"."""
    return _(
        "%(price)s each, %(count)s units",
        price=money(promotion.price_minor or 0, promotion.currency or ""),
        count=promotion.quota or 0,
    )


def terms(promotion: Promotion, money: MoneyText) -> str:
    """The terms of any promotion, on one line."""
    if promotion.kind == COUPON:
        return coupon_terms(promotion, money)
    if promotion.kind == FLASH_SALE:
        return flash_terms(promotion, money)
    return " · ".join(tier_terms(promotion.tiers, promotion.currency or "", money))


def kind_name(kind: str) -> str:
    """ "Coupon", "Spend-and-save" (满减) or "Flash sale"."""
    names = {COUPON: _("Coupon"), FLASH_SALE: _("Flash sale")}
    return names.get(kind, _("Spend-and-save"))


def offered_by(promotion: Promotion, supplier_names: dict[int, str]) -> str:
    """Who offers (and pays for) a promotion, as a consumer or an operator reads it."""
    if promotion.funder == PLATFORM:
        return _("Offered by the platform")
    if promotion.funder == SHOP:
        return _("Offered by this shop")
    if promotion.funder == SUPPLIER and promotion.supplier_id in supplier_names:
        return _("Offered by %(supplier)s", supplier=supplier_names[promotion.supplier_id])
    return _("Offered by the supplier")
