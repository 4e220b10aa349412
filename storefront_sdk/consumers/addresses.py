"""A consumer's address book: saved shipping addresses with province, city and district,
one of them the default that checkout fills in first.

Every function takes the consumer's id and finds addresses among theirs only: another
consumer's address id is :class:`~storefront_sdk.errors.NotFound`, as if it did not exist.
The page checks each field first (:data:`ADDRESS_FIELDS`, :data:`REQUIRED`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationError
from ..sql import table_of
from .models import ConsumerAddress

#: The fields of an address and their longest lengths.
ADDRESS_FIELDS = {
    "name": 100,
    "phone": 32,
    "province": 100,
    "city": 100,
    "district": 50,
    "line1": 200,
    "line2": 140,
    "postal_code": 20,
    "country": 2,
}
#: The fields an address must have.
REQUIRED = ("name", "phone", "province", "city", "line1", "country")
#: Most addresses one consumer keeps.
MAX_ADDRESSES = 20
_address = table_of(ConsumerAddress).c
#: A change of one of a consumer's addresses: ``change(session, consumer_id, address_id)``.
AddressChange = Callable[[Session, int, int], None]


def addresses_of(session: Session, consumer_id: int) -> list[ConsumerAddress]:
    """The consumer's addresses: the default first, then the newest."""
    return list(
        session.scalars(
            sa.select(ConsumerAddress)
            .where(_address.consumer_id == consumer_id)
            .order_by(_address.is_default.desc(), _address.id.desc())
        )
    )


def find_address(session: Session, consumer_id: int, address_id: int) -> ConsumerAddress:
    """The consumer's address ``address_id``; :class:`NotFound` if it is not theirs."""
    found = session.scalars(
        sa.select(ConsumerAddress).where(
            _address.id == address_id, _address.consumer_id == consumer_id
        )
    ).first()
    if found is None:
        raise NotFound("no such address")
    return found


def add_address(
    session: Session, consumer_id: int, fields: Mapping[str, str], now: datetime
) -> ConsumerAddress:
    """Saves a new address (the first one becomes the default); :class:`ValidationError`
    past :data:`MAX_ADDRESSES`."""
    kept = session.scalar(sa.select(sa.func.count()).where(_address.consumer_id == consumer_id))
    if int(kept or 0) >= MAX_ADDRESSES:
        raise ValidationError(f"an address book holds at most {MAX_ADDRESSES} addresses")
    address = ConsumerAddress(
        consumer_id=consumer_id, is_default=not kept, created_at=now, **_values(fields)
    )
    session.add(address)
    session.flush()
    return address


def change_address(
    session: Session, consumer_id: int, address_id: int, fields: Mapping[str, str]
) -> ConsumerAddress:
    """Rewrites the consumer's address ``address_id`` with ``fields``."""
    address = find_address(session, consumer_id, address_id)
    for name, value in _values(fields).items():
        setattr(address, name, value)
    session.flush()
    return address


def remove_address(session: Session, consumer_id: int, address_id: int) -> None:
    """Deletes the consumer's address ``address_id``; if it was the default, the newest of
    the others becomes the default."""
    address = find_address(session, consumer_id, address_id)
    was_default = address.is_default
    session.delete(address)
    session.flush()
    if was_default:
        rest = addresses_of(session, consumer_id)
        if rest:
            rest[0].is_default = True
            session.flush()


def set_default_address(session: Session, consumer_id: int, address_id: int) -> None:
    """Makes the consumer's address ``address_id`` their default (and no other)."""
    address = find_address(session, consumer_id, address_id)
    session.execute(
        sa.update(table_of(ConsumerAddress))
        .where(_address.consumer_id == consumer_id, _address.id != address.id)
        .values(is_default=False)
    )
    address.is_default = True
    session.flush()


def as_order_address(address: ConsumerAddress) -> dict[str, str]:
    """The address as the checkout's fields (``orders.checkout.ADDRESS_FIELDS``): the
    province as ``region``, the district before the second line (``line2``)."""
    line2 = " ".join(part for part in (address.district, address.line2) if part)
    return {
        "name": address.name,
        "phone": address.phone,
        "line1": address.line1,
        "line2": line2,
        "city": address.city,
        "region": address.province,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _values(fields: Mapping[str, str]) -> dict[str, Any]:
    values = {name: str(fields.get(name, "")).strip() for name in ADDRESS_FIELDS}
    for name, longest in ADDRESS_FIELDS.items():
        if len(values[name]) > longest:
            raise ValidationError(f"{name} has more than {longest} characters")
    missing = [name for name in REQUIRED if not values[name]]
    if missing:
        raise ValidationError("missing: " + ", ".join(missing))
    values["country"] = values["country"].upper()
    return values
