"""Payouts: a distributor asks for their available balance in one currency; the platform
approves (a Stripe Connect payout is sent then) or rejects; a manual payout is marked paid
with the bank's reference once transferred. Every step moves money between ledger buckets
(:mod:`.ledger`) in the transaction that changes the payout's status
(:data:`.models.PAYOUT_TRANSITIONS`).

Two requests at once cannot take the same balance: a request locks the distributor's row
first (PostgreSQL; SQLite writers take turns), and a distributor has at most one open
payout per currency. Money is never sent inside a database transaction: approval commits
first, the provider is asked after, with the payout's id as idempotency key, so asking
again after a crash sends nothing twice. The steps that talk to a provider (:func:`approve`,
:func:`send`, :func:`clawback`) are jobs: they commit through the ``commit`` their caller
gives them; every other function only flushes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from .. import signals
from ..db import Commit
from ..errors import Conflict, NotFound, ValidationError
from ..money import Money
from ..shops.models import Distributor
from ..sql import table_of
from . import ledger
from .models import (
    AVAILABLE,
    CLAWBACK,
    PAID,
    PAYOUT,
    PAYOUT_REQUESTED,
    PAYOUT_RETURNED,
    PAYOUT_SENT,
    CommissionEntry,
    Payout,
    PayoutAction,
    PayoutStatus,
    advance_payout,
)
from .payout_accounts import PayoutAccount, accounts_of
from .payout_providers import PayoutError, PayoutProvider
from .statements import csv_cell

#: Statuses whose amount is still in the ``payout`` bucket.
OPEN = (PayoutStatus.REQUESTED, PayoutStatus.APPROVED)


def lock_distributor(session: Session, distributor_id: int) -> Distributor:
    """The distributor, locked for this transaction (their payouts are decided one at a
    time)."""
    found = session.get(Distributor, distributor_id, with_for_update=True, populate_existing=True)
    if found is None:
        raise NotFound(f"no distributor {distributor_id}")
    return found


def request_payout(
    session: Session, distributor_id: int, currency: str, minimum: int, now: datetime
) -> Payout:
    """Ask for the distributor's whole available balance in ``currency``; refused below
    ``minimum`` (minor units) or while another payout in it is open."""
    distributor = lock_distributor(session, distributor_id)
    if distributor.status != "active":
        raise Conflict("a suspended distributor cannot ask for payouts")
    open_one = session.scalar(
        sa.select(col(Payout.id)).where(
            col(Payout.distributor_id) == distributor_id,
            col(Payout.currency) == currency,
            col(Payout.status).in_(OPEN),
        )
    )
    if open_one is not None:
        raise Conflict("a payout in this currency is already on its way")
    available = ledger.balance(session, distributor_id, currency, AVAILABLE)
    if available < max(minimum, 1):
        raise ValidationError(
            f"payouts start at {Money(max(minimum, 1), currency)}; "
            f"available now: {Money(available, currency)}"
        )
    payout = Payout(
        distributor_id=distributor_id,
        amount_minor=available,
        currency=currency,
        status=PayoutStatus.REQUESTED,
        requested_at=now,
    )
    session.add(payout)
    session.flush()
    ledger.move(
        session,
        distributor_id,
        currency,
        available,
        AVAILABLE,
        PAYOUT,
        PAYOUT_REQUESTED,
        now,
        payout_id=payout.id,
    )
    signals.send_after_commit(
        session,
        signals.payout_requested,
        payout_id=payout.id,
        distributor_id=distributor_id,
        amount_minor=available,
        currency=currency,
    )
    return payout


def lock_payout(session: Session, payout_id: int) -> Payout:
    """The payout, locked for this transaction."""
    found = session.get(Payout, payout_id, with_for_update=True, populate_existing=True)
    if found is None:
        raise NotFound(f"no payout {payout_id}")
    return found


def approve(
    session: Session,
    payout_id: int,
    admin_id: int,
    provider: PayoutProvider,
    now: datetime,
    *,
    commit: Commit,
) -> Payout:
    """Approve a requested payout and commit it with ``commit``; a provider that sends is
    asked to next (:func:`send`)."""
    payout = lock_payout(session, payout_id)
    payout.status = advance_payout(payout.status, PayoutAction.APPROVE)
    payout.provider = provider.name
    payout.decided_at, payout.decided_by = now, admin_id
    session.add(payout)
    commit()
    if provider.sends:
        send(session, payout_id, provider, now, commit=commit)
    return payout


def send(
    session: Session, payout_id: int, provider: PayoutProvider, now: datetime, *, commit: Commit
) -> Payout:
    """Send an approved payout through ``provider`` (outside any transaction: ``commit``
    ends the one that read it), then record the outcome and commit it with ``commit``:
    ``paid``; ``failed`` with the amount available again when the
    provider refused; still ``approved`` (with a note) when it could not tell — sending
    again asks with the same idempotency key, so nothing is paid twice."""
    payout = session.get_one(Payout, payout_id, populate_existing=True)
    if payout.status != PayoutStatus.APPROVED:
        raise Conflict(f"cannot send a payout that is {payout.status}")
    amount, currency = payout.amount_minor, payout.currency
    account = session.scalar(
        sa.select(col(Distributor.stripe_account_id)).where(
            col(Distributor.id) == payout.distributor_id
        )
    )
    commit()  # (no transaction stays open during the call)
    try:
        reference = provider.send(payout_id, amount, currency, account)
    except PayoutError as error:
        if error.retryable:
            held = lock_payout(session, payout_id)
            held.note = f"not sent yet: {error.message}"[:500]
            session.add(held)
            commit()
            return held
        failed = _failed(session, payout_id, error.message, now)
        commit()
        return failed
    paid = mark_paid(session, payout_id, reference, None, now)
    commit()
    return paid


def mark_paid(
    session: Session, payout_id: int, reference: str, admin_id: int | None, now: datetime
) -> Payout:
    """Record that an approved payout was sent (``reference``: the bank's, or the
    Transfer's)."""
    reference = reference.strip()
    if not reference or len(reference) > 255:
        raise ValidationError("give the transfer's reference (at most 255 characters)")
    payout = lock_payout(session, payout_id)
    payout.status = advance_payout(payout.status, PayoutAction.PAY)
    payout.reference = reference
    payout.note = None
    if admin_id is not None:
        payout.decided_by = admin_id
    payout.decided_at = now
    session.add(payout)
    session.flush()
    ledger.move(
        session,
        payout.distributor_id,
        payout.currency,
        payout.amount_minor,
        PAYOUT,
        PAID,
        PAYOUT_SENT,
        now,
        payout_id=payout.id,
    )
    signals.send_after_commit(
        session,
        signals.payout_sent,
        payout_id=payout.id,
        distributor_id=payout.distributor_id,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
    )
    return payout


def reject(session: Session, payout_id: int, note: str, admin_id: int, now: datetime) -> Payout:
    """Turn down an open payout: its amount is available again. A payout approved for a
    provider that sends (Stripe Connect) may be on its way: it is sent again, not
    rejected. The reason (``note``) is required: the distributor is shown it."""
    reason = " ".join(note.split())
    if not 1 <= len(reason) <= 500:
        raise ValidationError("give the reason for turning this payout down (1 to 500 characters)")
    payout = lock_payout(session, payout_id)
    if payout.status == PayoutStatus.APPROVED and payout.provider not in (None, "manual"):
        raise Conflict("this payout may be on its way through the provider: send it again")
    payout.status = advance_payout(payout.status, PayoutAction.REJECT)
    payout.note = reason
    payout.decided_at, payout.decided_by = now, admin_id
    session.add(payout)
    session.flush()
    _return(session, payout, now)
    return payout


def _failed(session: Session, payout_id: int, reason: str, now: datetime) -> Payout:
    payout = lock_payout(session, payout_id)
    payout.status = advance_payout(payout.status, PayoutAction.FAIL)
    payout.note = reason[:500]
    payout.decided_at = now
    session.add(payout)
    session.flush()
    _return(session, payout, now)
    return payout


def _return(session: Session, payout: Payout, now: datetime) -> None:
    ledger.move(
        session,
        payout.distributor_id,
        payout.currency,
        payout.amount_minor,
        PAYOUT,
        AVAILABLE,
        PAYOUT_RETURNED,
        now,
        payout_id=payout.id,
    )


def clawback(session: Session, provider: PayoutProvider, now: datetime, *, commit: Commit) -> int:
    """Take back, by reversing Stripe transfers, what refunds left distributors owing (a
    negative available balance), as far as their latest paid payouts allow; each reversal
    committed with ``commit`` (which also ends every read before a provider call); how many
    were made. Manual payouts cannot be taken back: later payouts absorb the debt."""
    if not provider.sends:
        return 0
    entry = table_of(CommissionEntry).c
    owing = session.execute(
        sa.select(entry.distributor_id, entry.currency, sa.func.sum(entry.amount_minor))
        .where(entry.bucket == AVAILABLE)
        .group_by(entry.distributor_id, entry.currency)
        .having(sa.func.sum(entry.amount_minor) < 0)
    ).all()
    commit()
    made = 0
    for distributor_id, currency, balance in owing:
        debt = -int(balance)
        candidates = [
            (p.id or 0, p.reference or "", p.amount_minor, p.reversed_minor, p.reversal_refusals)
            for p in _reversible(session, distributor_id, currency, provider.name)
        ]
        commit()  # (no transaction stays open during the calls)
        for payout_id, reference, amount_paid, reversed_before, refusals in candidates:
            if debt <= 0:
                break
            amount = min(debt, amount_paid - reversed_before)
            key = f"storefront-clawback-{payout_id}-{reversed_before + amount}-{refusals}"
            try:
                provider.reverse(reference, amount, key)
            except PayoutError:
                # The account's balance does not allow it now: tried again later, as a new
                # request (the provider remembers its answer to this one).
                refused = lock_payout(session, payout_id)
                if refused.reversal_refusals == refusals:
                    refused.reversal_refusals += 1
                    session.add(refused)
                commit()
                continue
            held = lock_payout(session, payout_id)
            if held.reversed_minor != reversed_before:
                commit()  # another settle run recorded this very reversal
                continue
            held.reversed_minor += amount
            session.add(held)
            session.flush()
            ledger.move(
                session,
                distributor_id,
                currency,
                amount,
                PAID,
                AVAILABLE,
                CLAWBACK,
                now,
                payout_id=payout_id,
            )
            commit()
            debt -= amount
            made += 1
    return made


def _reversible(
    session: Session, distributor_id: int, currency: str, provider: str
) -> Sequence[Payout]:
    return session.scalars(
        sa.select(Payout)
        .where(
            col(Payout.distributor_id) == distributor_id,
            col(Payout.currency) == currency,
            col(Payout.status) == PayoutStatus.PAID,
            col(Payout.provider) == provider,
            col(Payout.reversed_minor) < col(Payout.amount_minor),
        )
        .order_by(col(Payout.id).desc())
    ).all()


def payouts_of(session: Session, distributor_id: int, limit: int = 50) -> list[Payout]:
    """The distributor's payouts, newest first."""
    return list(
        session.scalars(
            sa.select(Payout)
            .where(col(Payout.distributor_id) == distributor_id)
            .order_by(col(Payout.id).desc())
            .limit(limit)
        )
    )


CSV_COLUMNS = (
    "payout",
    "distributor",
    "email",
    "name",
    "amount",
    "currency",
    "requested_at",
    "account_kind",
    "account_holder",
    "bank_name",
    "account_number",
)


def export_csv(session: Session, status: str = PayoutStatus.APPROVED) -> str:
    """The payouts in ``status`` as CSV for the bank (amounts in major units), each with the
    distributor's payout account in full (blank where none was given)."""
    rows = session.execute(
        sa.select(Payout, col(Distributor.email), col(Distributor.name))
        .join(Distributor, col(Distributor.id) == col(Payout.distributor_id))
        .where(col(Payout.status) == status)
        .order_by(col(Payout.id))
    ).all()
    accounts = accounts_of(session, sorted({payout.distributor_id for payout, _, _ in rows}))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for payout, email, name in rows:
        account = accounts.get(payout.distributor_id)
        writer.writerow(
            [
                payout.id,
                payout.distributor_id,
                csv_cell(email),
                csv_cell(name),
                Money(payout.amount_minor, payout.currency).to_major(),
                payout.currency,
                payout.requested_at.isoformat() if payout.requested_at else "",
                *_account_cells(account),
            ]
        )
    return out.getvalue()


def _account_cells(account: PayoutAccount | None) -> list[str]:
    if account is None:
        return ["", "", "", ""]
    return [
        account.kind,
        csv_cell(account.holder_name),
        csv_cell(account.bank_name or ""),
        csv_cell(account.account_number),
    ]
