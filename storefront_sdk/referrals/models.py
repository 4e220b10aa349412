"""Tables of referrals: visits through referral links, customers bound to a distributor,
and the history of each binding (:mod:`.binding`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, one_of, reference_field, timestamp_field


class ReferralVisit(SQLModel, table=True):
    """One arrival through a referral link (``/r/<code>``); checkout credits the sale
    to it. ``token_id`` is carried in the signed share token and attribution cookie."""

    __tablename__ = "sf_referral_visit"
    __table_args__ = (sa.Index("ix_sf_referral_visit_distributor", "distributor_id", "created_at"),)

    id: int | None = id_field()
    token_id: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    distributor_id: int = reference_field("sf_distributor.id")
    shop_id: int = reference_field("sf_shop.id")
    product_id: int | None = reference_field("sf_product.id", nullable=True)
    #: The distributor followed their own link: recorded, but it earns nothing.
    self_referral: bool = False
    created_at: datetime | None = timestamp_field()


class CustomerBinding(SQLModel, table=True):
    """A customer bound to a distributor until ``expires_at`` (see :mod:`.binding`): their
    later orders credit that distributor. One row per customer: it is the binding now, and
    :class:`BindingEvent` rows tell how it came to be."""

    __tablename__ = "sf_customer_binding"

    id: int | None = id_field()
    customer_key: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    distributor_id: int = reference_field("sf_distributor.id", index=True)
    order_id: int = reference_field("sf_order.id")
    bound_at: datetime | None = timestamp_field()
    expires_at: datetime | None = timestamp_field()


#: What happened to a binding (:class:`BindingEvent`).
BINDING_EVENT_KINDS = ("bound", "renewed", "expired", "kept")


class BindingEvent(SQLModel, table=True):
    """One step in the history of a customer's binding, never changed afterwards: the
    customer was ``bound`` to ``distributor_id`` (taken over from ``other_distributor_id``
    when set), the binding was ``renewed`` by another paid order, it ``expired``, or it was
    ``kept`` although the customer came through ``other_distributor_id``'s link."""

    __tablename__ = "sf_binding_event"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", BINDING_EVENT_KINDS), name="kind"),
        sa.Index("ix_sf_binding_event_distributor", "distributor_id", "id"),
        sa.Index("ix_sf_binding_event_other", "other_distributor_id", "id"),
    )

    id: int | None = id_field()
    customer_key: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    #: Whose binding it is (after this event).
    distributor_id: int = reference_field("sf_distributor.id")
    #: The other distributor concerned: whose binding was taken over (``bound``), or whose
    #: link the customer came through (``kept``).
    other_distributor_id: int | None = reference_field("sf_distributor.id", nullable=True)
    #: The shop and the paid order that caused it (none for an expiry).
    shop_id: int | None = reference_field("sf_shop.id", nullable=True)
    order_id: int | None = reference_field("sf_order.id", nullable=True)
    #: The referral visit (``ReferralVisit.token_id``) the order came through, if any.
    visit_token_id: str | None = Field(default=None, max_length=32)
    #: When the binding ends after this event (for ``expired``: when it ended).
    expires_at: datetime | None = timestamp_field()
    #: When it happened (an expiry: when the binding ran out).
    happened_at: datetime | None = timestamp_field()
