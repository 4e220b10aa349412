"""Who a sale is credited to: the distributor the customer is bound to, else the one whose
referral link they came through, else the shop's owner (``docs/commissions.md``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..shops.listing import ShopView
from ..shops.models import Distributor
from ..sql import table_of
from .binding import KEEP, LAST_CLICK
from .models import CustomerBinding


@dataclass(frozen=True, slots=True)
class Credit:
    """Who a sale is credited to and why (``binding``, ``referral``, ``shop``, ``self``):
    level 1 of its commission; ``recruiter_id`` (their recruiter) earns level 2."""

    distributor_id: int | None
    source: str
    recruiter_id: int | None = None
    #: For an own purchase (``self``): the distributor who bought.
    buyer_id: int | None = None


_binding = table_of(CustomerBinding).c
_distributor = table_of(Distributor).c
_recruiter = table_of(Distributor).alias("recruiter")
#: A distributor, their recruiter if active (who earns level 2), and their status.
_FACTS = sa.select(
    _distributor.id,
    sa.case((_recruiter.c.status == "active", _distributor.parent_id), else_=None).label(
        "parent_id"
    ),
    _distributor.status,
).outerjoin(_recruiter, _recruiter.c.id == _distributor.parent_id)
_BOUND_TO = _FACTS.join(
    table_of(CustomerBinding), _binding.distributor_id == _distributor.id
).where(_binding.customer_key == sa.bindparam("key"), _binding.expires_at > sa.bindparam("now"))
_DISTRIBUTOR = _FACTS.where(_distributor.id == sa.bindparam("id"))


def decide_credit(
    session: Session,
    shop: ShopView,
    customer_key: str,
    now: datetime,
    *,
    referred_by: int | None = None,
    buyers: Collection[int | None] = (),
    policy: str = KEEP,
) -> Credit:
    """Who the sale is credited to: the distributor the customer is bound to, else the one
    whose link they came through, else the shop's owner (a distributor who is not
    ``active`` is passed over); never a distributor buying for themselves (signed in, or
    giving their own email: ``buyers``), who earns neither level of it. ``referred_by``:
    the distributor whose referral link the customer came through, if any; under the
    ``last_click`` ``policy`` that link wins over the binding."""
    connection = session.connection()
    bound = connection.execute(_BOUND_TO, {"key": customer_key, "now": now}).first()
    binding = None
    if bound is not None and bound.status == "active":
        binding = Credit(bound.id, "binding", bound.parent_id)
    link = None
    if binding is None or (
        policy == LAST_CLICK and referred_by not in (None, binding.distributor_id)
    ):
        link = _through_link(connection, shop, referred_by)
    found = link or binding or Credit(shop.distributor_id, "shop", shop.owner_parent_id)
    if found.distributor_id in buyers:
        return Credit(None, "self", buyer_id=found.distributor_id)
    if found.recruiter_id in buyers:
        return Credit(found.distributor_id, found.source)  # (the recruiter's own purchase)
    return found


def _through_link(
    connection: sa.Connection, shop: ShopView, referred_by: int | None
) -> Credit | None:
    """The credit of the referral link of ``referred_by``, if they are active."""
    if referred_by is None:
        return None
    if referred_by == shop.distributor_id:
        return Credit(shop.distributor_id, "referral", shop.owner_parent_id)
    referrer = connection.execute(_DISTRIBUTOR, {"id": referred_by}).first()
    if referrer is not None and referrer.status == "active":
        return Credit(referrer.id, "referral", referrer.parent_id)
    return None
