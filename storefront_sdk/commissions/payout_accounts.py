"""Where a distributor's manual payouts are paid: a bank account or an Alipay account.

A distributor has at most one payout account (:class:`PayoutAccount`); setting it again
replaces it, and every change is recorded (:class:`PayoutAccountChange`, masked: the
history never holds a whole account number). Account numbers are shown masked
(:func:`mask`, ``•••• 1234``) everywhere but the platform's bank-transfer CSV
(:func:`.payouts.export_csv`), which must carry them whole to be paid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col

from ..db import id_field, one_of, reference_field, timestamp_field
from ..errors import ValidationError


class AccountKind(StrEnum):
    """How a payout is paid: a bank transfer, or to an Alipay account."""

    BANK = "bank"
    ALIPAY = "alipay"


#: Longest holder and bank names.
MAX_NAME = 100
_BANK_NUMBER = re.compile(r"[0-9]{8,30}")
_ALIPAY_PHONE = re.compile(r"1[0-9]{10}")
_ALIPAY_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}")
#: What a masked number begins with.
MASK = "••••"


class PayoutAccount(SQLModel, table=True):
    """A distributor's payout account, as the platform pays it."""

    __tablename__ = "sf_payout_account"
    __table_args__ = (sa.CheckConstraint(one_of("kind", tuple(AccountKind)), name="kind"),)

    id: int | None = id_field()
    distributor_id: int = reference_field("sf_distributor.id", unique=True)
    kind: str = Field(max_length=8)
    holder_name: str = Field(max_length=MAX_NAME)
    #: The bank's name (bank accounts only).
    bank_name: str | None = Field(default=None, max_length=MAX_NAME)
    #: The bank account number (digits) or the Alipay id (a phone number or an email).
    account_number: str = Field(max_length=100)
    updated_at: datetime | None = timestamp_field()


class PayoutAccountChange(SQLModel, table=True):
    """A payout account set or changed: what it became (masked), and when."""

    __tablename__ = "sf_payout_account_change"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", tuple(AccountKind)), name="kind"),
        sa.Index("ix_sf_payout_account_change_distributor", "distributor_id", "id"),
    )

    id: int | None = id_field()
    distributor_id: int = reference_field("sf_distributor.id")
    kind: str = Field(max_length=8)
    holder_name: str = Field(max_length=MAX_NAME)
    bank_name: str | None = Field(default=None, max_length=MAX_NAME)
    #: The new account, masked (:func:`mask`).
    masked: str = Field(max_length=120)
    #: The masked account it replaced, if any.
    replaced: str | None = Field(default=None, max_length=120)
    changed_at: datetime | None = timestamp_field()


class PayoutAccountError(ValidationError):
    """A payout account field that is not acceptable (HTTP 422); ``field`` names it."""

    code = "payout_account_invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class AccountDetails:
    """A payout account as typed, checked and normalised by :func:`check_account`."""

    kind: str
    holder_name: str
    bank_name: str | None
    account_number: str


def check_account(kind: str, holder_name: str, bank_name: str, number: str) -> AccountDetails:
    """The account typed, normalised (spaces out of bank numbers, emails lower-case);
    :class:`PayoutAccountError` naming the first field that is not acceptable."""
    if kind not in tuple(AccountKind):
        raise PayoutAccountError("kind", "choose a bank account or Alipay")
    holder = " ".join(holder_name.split())
    if not 1 <= len(holder) <= MAX_NAME:
        raise PayoutAccountError("holder_name", "the holder's name must be 1 to 100 characters")
    if kind == AccountKind.BANK:
        bank = " ".join(bank_name.split())
        if not 2 <= len(bank) <= MAX_NAME:
            raise PayoutAccountError("bank_name", "the bank's name must be 2 to 100 characters")
        digits = re.sub(r"[\s\-]", "", number)
        if not _BANK_NUMBER.fullmatch(digits):
            raise PayoutAccountError("account_number", "a bank account number is 8 to 30 digits")
        return AccountDetails(kind, holder, bank, digits)
    alipay = number.strip()
    if _ALIPAY_EMAIL.fullmatch(alipay) and len(alipay) <= 100:
        return AccountDetails(kind, holder, None, alipay.lower())
    if _ALIPAY_PHONE.fullmatch(re.sub(r"[\s\-]", "", alipay)):
        return AccountDetails(kind, holder, None, re.sub(r"[\s\-]", "", alipay))
    raise PayoutAccountError("account_number", "an Alipay id is a mobile number or an email")


def mask(number: str) -> str:
    """An account number or Alipay id as shown: ``•••• 1234``, or ``l•••@example.com``."""
    if "@" in number:
        name, _, domain = number.partition("@")
        return f"{name[:1]}{MASK}@{domain}"
    return f"{MASK} {number[-4:]}"


def payout_account_of(session: Session, distributor_id: int) -> PayoutAccount | None:
    """The distributor's payout account, if they gave one."""
    return session.scalar(
        sa.select(PayoutAccount).where(col(PayoutAccount.distributor_id) == distributor_id)
    )


def set_payout_account(
    session: Session, distributor_id: int, details: AccountDetails, now: datetime
) -> PayoutAccount:
    """Give the distributor ``details`` as their payout account (replacing any other),
    and record the change."""
    account = payout_account_of(session, distributor_id)
    replaced = None if account is None else mask(account.account_number)
    if account is None:
        account = PayoutAccount(
            distributor_id=distributor_id,
            kind=details.kind,
            holder_name=details.holder_name,
            account_number=details.account_number,
        )
    account.kind, account.holder_name = details.kind, details.holder_name
    account.bank_name, account.account_number = details.bank_name, details.account_number
    account.updated_at = now
    session.add(account)
    session.add(
        PayoutAccountChange(
            distributor_id=distributor_id,
            kind=details.kind,
            holder_name=details.holder_name,
            bank_name=details.bank_name,
            masked=mask(details.account_number),
            replaced=replaced,
            changed_at=now,
        )
    )
    session.flush()
    return account


def account_changes(
    session: Session, distributor_id: int, limit: int = 10
) -> list[PayoutAccountChange]:
    """The distributor's latest payout account changes, newest first."""
    return list(
        session.scalars(
            sa.select(PayoutAccountChange)
            .where(col(PayoutAccountChange.distributor_id) == distributor_id)
            .order_by(col(PayoutAccountChange.id).desc())
            .limit(limit)
        )
    )


def accounts_of(session: Session, distributor_ids: list[int]) -> dict[int, PayoutAccount]:
    """The payout accounts of these distributors, by distributor id."""
    if not distributor_ids:
        return {}
    found = session.scalars(
        sa.select(PayoutAccount).where(col(PayoutAccount.distributor_id).in_(distributor_ids))
    )
    return {account.distributor_id: account for account in found}
