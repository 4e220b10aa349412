"""A shop's own host name (``shop.example.com``) and its verification.

A host name is never one of the platform's own (the caller passes them: ``SERVER_NAME``,
``STOREFRONT_PLATFORM_HOSTS``, the host the request came in on), never another shop's, and
is served only once ``verified``: its owner publishes the DNS TXT record
:func:`verification_record` names and the platform checks it (:func:`check_host`, through a
:data:`TxtLookup` the host app provides), or a platform admin approves it
(:func:`decide_host`). Until then it is ``pending``; an admin may also refuse it. A changed
host name starts again from ``pending`` with a new token.

Refusals carry ``errors={"host": <reason>}`` with a reason of :data:`REASONS`, so that each
front door words them in its visitor's language.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import Conflict, NotFound, ValidationError
from ..sql import table_of
from .models import Shop

#: Looks up the TXT records of a DNS name: their texts (each record's strings joined), empty
#: when there is none; raises :class:`OSError` when the lookup itself fails.
TxtLookup = Callable[[str], Sequence[str]]
#: The label in front of the host name where its TXT record lives.
RECORD_LABEL = "_storefront-verify"
#: What the TXT record's text starts with, before the shop's token.
RECORD_PREFIX = "storefront-verify="
#: Why a host name was refused: not a host name, one of the platform's, another shop's.
REASONS = ("invalid", "platform", "taken")
_HOST = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def normalise_host(raw: str | None) -> str | None:
    """``raw`` as it is stored: trimmed, lower-case, without a final dot (``None`` if
    empty)."""
    return (raw or "").strip().lower().rstrip(".") or None


def set_host(session: Session, shop: Shop, raw: str | None, *, reserved: Collection[str]) -> None:
    """The shop's own host name becomes ``raw`` (``pending``, with a new token), or none;
    the same name again changes nothing. Refused with :class:`ValidationError` if it is not
    a host name or is in ``reserved`` (the platform's own names), with :class:`Conflict` if
    another shop has it."""
    host = normalise_host(raw)
    if host == shop.host:
        return
    if host is None:
        shop.host = shop.host_status = shop.host_token = None
    else:
        _check_available(session, shop, host, reserved)
        shop.host, shop.host_status, shop.host_token = host, "pending", secrets.token_hex(16)
    shop.updated_at = utcnow()
    session.flush()


def _check_available(session: Session, shop: Shop, host: str, reserved: Collection[str]) -> None:
    if not _HOST.fullmatch(host):
        raise ValidationError(f"not a host name: {host!r}", errors={"host": "invalid"})
    if host in {name.lower() for name in reserved}:
        raise ValidationError(
            f"{host!r} is one of the platform's own host names", errors={"host": "platform"}
        )
    shops = table_of(Shop).c
    owner = session.scalars(sa.select(shops.id).where(shops.host == host)).first()
    if owner is not None and owner != shop.id:
        raise Conflict(
            f"the host name {host!r} is already used by another shop", errors={"host": "taken"}
        )


def verification_record(shop: Shop) -> tuple[str, str] | None:
    """The DNS TXT record that verifies the shop's host name: its name and its text
    (``None`` without a host name)."""
    if shop.host is None or shop.host_token is None:
        return None
    return f"{RECORD_LABEL}.{shop.host}", f"{RECORD_PREFIX}{shop.host_token}"


def check_host(session: Session, shop: Shop, lookup: TxtLookup) -> bool:
    """Looks for the shop's TXT record through ``lookup``; a ``pending`` host name with its
    record becomes ``verified``. Whether the host name is verified now. An :class:`OSError`
    of the lookup is left to the caller."""
    record = verification_record(shop)
    if record is None or shop.host_status == "refused":
        return False
    if shop.host_status == "pending":
        name, text = record
        if text not in (found.strip() for found in lookup(name)):
            return False
        shop.host_status = "verified"
        shop.updated_at = utcnow()
        session.flush()
    return shop.host_status == "verified"


#: What an admin's decision makes of a host name, and from which statuses.
DECISIONS = {
    "approve": ("verified", ("pending", "refused")),
    "refuse": ("refused", ("pending", "verified")),
}


def decide_host(session: Session, shop_id: int, decision: str) -> Shop:
    """A platform admin approves (``verified``) or refuses a shop's host name.
    :class:`NotFound` without such a shop or host name, :class:`Conflict` if the host name is
    already so."""
    if decision not in DECISIONS:
        raise ValidationError(f"unknown decision {decision!r}")
    target, sources = DECISIONS[decision]
    shop = session.get(Shop, shop_id, with_for_update=True)
    if shop is None or shop.host is None:
        raise NotFound(f"no shop {shop_id} with a host name")
    if shop.host_status not in sources:
        raise Conflict(f"the host name {shop.host!r} is already {shop.host_status}")
    shop.host_status = target
    shop.updated_at = utcnow()
    session.flush()
    return shop
