"""Helpers of the promotion pages' tests: promotions and consumers written straight into the
tables (what the services of ``promotions.manage`` would store), and a clock moved by moving
a promotion's window."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlmodel import col

from storefront_sdk.consumers.models import Consumer
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.promotions.models import COUPON, PLATFORM, Promotion


def add_promotion(app: Flask, **fields: Any) -> Promotion:
    """A promotion live from an hour ago for a day (a platform coupon, 5.00 off, claimable,
    unless ``fields`` say otherwise)."""
    now = utcnow()
    values: dict[str, Any] = {
        "public_id": "pr_" + secrets.token_hex(8),
        "kind": COUPON,
        "funder": PLATFORM,
        "name": "Welcome coupon",
        "currency": "CNY",
        "amount_off_minor": 500,
        "claimable": True,
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(days=1),
        "created_by": "admin:1",
        **fields,
    }
    with session_scope(app) as session:
        promotion = Promotion(**values)
        session.add(promotion)
        session.flush()
        session.expunge(promotion)
        return promotion


def set_window(app: Flask, promotion_id: int, **times: Any) -> None:
    """Moves a promotion's ``starts_at`` / ``ends_at`` / ``ended_at`` (time passing, as the
    page sees it), with a raw update that clears no cache."""
    with session_scope(app) as session:
        session.execute(
            sa.update(Promotion).where(col(Promotion.id) == promotion_id).values(**times)
        )


def add_consumer(app: Flask, email: str = "cc@example.com") -> int:
    """A verified consumer; their id."""
    with session_scope(app) as session:
        consumer = Consumer(email=email)
        session.add(consumer)
        session.flush()
        return consumer.id or 0


def sign_in_consumer(client: Any, consumer_id: int) -> None:
    """The browser of ``client`` is signed in as the consumer (the session key the
    consumers' sign-in sets)."""
    with client.session_transaction() as session:
        session["sf_consumer_id"] = consumer_id
