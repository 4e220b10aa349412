"""Tables of commissions: the ledger and payouts.

The ledger (:class:`CommissionEntry`) is append-only: the database refuses to update or
delete its rows (triggers, migration 0006). A distributor's balances are sums of entries per
*bucket*, never a stored number:

- ``pending``: earned on a paid order, held until its part is delivered and the return
  window has passed;
- ``available``: may be paid out (negative after a refund of money already paid out: later
  payouts absorb it);
- ``payout``: asked for, waiting for the platform;
- ``paid``: sent to the distributor.

Moving money between buckets writes a pair of entries with the same ``move_id``, one
taking the amount out of a bucket and one putting it into another.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from ..db import id_field, one_of, reference_field, timestamp_field
from ..errors import Conflict

#: Ledger buckets.
PENDING = "pending"
AVAILABLE = "available"
PAYOUT = "payout"
PAID = "paid"
BUCKETS = (PENDING, AVAILABLE, PAYOUT, PAID)

#: Why an entry was written.
EARNED = "earned"  # a paid order line's commission (pending)
SETTLED = "settled"  # pending -> available after delivery and the return window
REVERSED = "reversed"  # a refund or cancellation takes back its share
PAYOUT_REQUESTED = "payout_requested"  # available -> payout
PAYOUT_SENT = "payout_sent"  # payout -> paid
PAYOUT_RETURNED = "payout_returned"  # payout -> available (rejected, or the transfer failed)
CLAWBACK = "clawback"  # paid -> available: a transfer taken back for a negative balance
KINDS = (EARNED, SETTLED, REVERSED, PAYOUT_REQUESTED, PAYOUT_SENT, PAYOUT_RETURNED, CLAWBACK)


class PayoutStatus(StrEnum):
    #: Asked for by the distributor: the amount left their available balance.
    REQUESTED = "requested"
    #: Approved by the platform, to be sent (manual payouts: a bank transfer to make).
    APPROVED = "approved"
    #: Sent (a Stripe Transfer, or a bank transfer marked paid with its reference).
    PAID = "paid"
    #: Turned down by the platform: the amount is available again.
    REJECTED = "rejected"
    #: The provider refused the transfer: the amount is available again.
    FAILED = "failed"


class PayoutAction(StrEnum):
    APPROVE = "approve"
    PAY = "pay"
    REJECT = "reject"
    FAIL = "fail"


_P, _PA = PayoutStatus, PayoutAction
#: ``{status: {action: next status}}`` of payouts; absent statuses are final.
PAYOUT_TRANSITIONS: Mapping[PayoutStatus, Mapping[PayoutAction, PayoutStatus]] = {
    _P.REQUESTED: {_PA.APPROVE: _P.APPROVED, _PA.REJECT: _P.REJECTED},
    _P.APPROVED: {_PA.PAY: _P.PAID, _PA.FAIL: _P.FAILED, _PA.REJECT: _P.REJECTED},
}


def advance_payout(status: PayoutStatus | str, action: PayoutAction) -> PayoutStatus:
    """The payout's status after ``action``; :class:`Conflict` naming the status if the
    action is not allowed in it."""
    found = PAYOUT_TRANSITIONS.get(PayoutStatus(status), {}).get(action)
    if found is None:
        raise Conflict(f"cannot {action.value} a payout that is {PayoutStatus(status).value}")
    return found


class CommissionEntry(SQLModel, table=True):
    """One line of a distributor's ledger (see the module). Never updated or deleted."""

    __tablename__ = "sf_commission_entry"
    __table_args__ = (
        sa.CheckConstraint(one_of("bucket", BUCKETS), name="bucket"),
        sa.CheckConstraint(one_of("kind", KINDS), name="kind"),
        sa.CheckConstraint("level IS NULL OR level IN (1, 2)", name="level"),
        sa.Index("ix_sf_commission_entry_balance", "distributor_id", "currency", "bucket"),
        sa.Index("ix_sf_commission_entry_line", "order_line_id", "level"),
        sa.Index("ix_sf_commission_entry_created", "distributor_id", "created_at"),
    )

    id: int | None = id_field()
    distributor_id: int = reference_field("sf_distributor.id")
    currency: str = Field(max_length=3)
    bucket: str = Field(max_length=16)
    #: Signed minor units: what this entry adds to (or takes out of) its bucket.
    amount_minor: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    kind: str = Field(max_length=24)
    #: Entries moving money between buckets share a move id.
    move_id: str | None = Field(default=None, max_length=40)
    order_id: int | None = reference_field("sf_order.id", nullable=True, index=True)
    order_line_id: int | None = reference_field("sf_order_line.id", nullable=True)
    #: 1 (the credited distributor) or 2 (their recruiter); ``None`` for payout moves.
    level: int | None = None
    payout_id: int | None = reference_field("sf_payout.id", nullable=True, index=True)
    created_at: datetime | None = timestamp_field()


class Payout(SQLModel, table=True):
    """A distributor's request to be paid their available balance in one currency, and
    what became of it."""

    __tablename__ = "sf_payout"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount"),
        sa.CheckConstraint(one_of("status", tuple(PayoutStatus)), name="status"),
        sa.Index("ix_sf_payout_status", "status", "id"),
    )

    id: int | None = id_field()
    distributor_id: int = reference_field("sf_distributor.id", index=True)
    amount_minor: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(default=PayoutStatus.REQUESTED, max_length=16)
    #: ``manual`` (a bank transfer marked paid by the platform) or ``stripe_connect``.
    provider: str | None = Field(default=None, max_length=24)
    #: The bank reference, or the Stripe Transfer id.
    reference: str | None = Field(default=None, max_length=255)
    #: What went wrong (a refused transfer), or why it was rejected.
    note: str | None = Field(default=None, max_length=500)
    #: The Stripe Transfer's amount already taken back (clawbacks).
    reversed_minor: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))
    #: Clawbacks the provider refused so far: each retry after a refusal is a new request
    #: (a new idempotency key), while a retry after a crash repeats the last one.
    reversal_refusals: int = 0
    requested_at: datetime | None = timestamp_field()
    decided_at: datetime | None = timestamp_field(nullable=True)
    decided_by: int | None = reference_field("sf_platform_admin.id", nullable=True)
