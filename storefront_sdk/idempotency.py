"""Remembered responses for ``Idempotency-Key`` requests.

A response is stored in the same transaction as the effect it reports, under a unique
``(scope, key)``. Two concurrent requests with one key cannot both commit: the loser's
transaction (effect included) rolls back and it answers with the winner's response.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col, select

from .db import BigIntKey, UTCDateTime, utcnow


class IdempotencyRecord(SQLModel, table=True):
    """The first successful response to a request carrying an ``Idempotency-Key``."""

    __tablename__ = "sf_idempotency_key"
    __table_args__ = (
        sa.UniqueConstraint("scope", "key"),
        sa.Index("ix_sf_idempotency_key_scope_created", "scope", "created_at"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(BigIntKey, primary_key=True, autoincrement=True)
    )
    #: Whose key this is, e.g. ``supplier:12``: keys of different clients never collide.
    scope: str = Field(max_length=64)
    key: str = Field(max_length=255)
    #: SHA-256 of method, path, query and body: the same key with another request is a 409.
    fingerprint: str = Field(max_length=64)
    status_code: int
    content_type: str = Field(max_length=100)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False, default=utcnow))


def find_record(
    session: Session, scope: str, key: str, now: datetime, ttl: timedelta
) -> IdempotencyRecord | None:
    """The live record for ``key`` in ``scope``, if any."""
    return session.scalars(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.scope) == scope,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.created_at) >= now - ttl,
        )
    ).one_or_none()


def remember(session: Session, record: IdempotencyRecord, ttl: timedelta) -> None:
    """Store ``record`` (expired records of its scope are dropped first).

    Raises :class:`sqlalchemy.exc.IntegrityError` when a concurrent request stored the key.
    """
    session.execute(
        sa.delete(IdempotencyRecord).where(
            col(IdempotencyRecord.scope) == record.scope,
            col(IdempotencyRecord.created_at) < record.created_at - ttl,
        )
    )
    session.add(record)
    session.flush()
