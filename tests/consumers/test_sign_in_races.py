"""Sign-in codes raced on PostgreSQL (real threads, one connection each): a code signs in
once however many submit it at the same moment, and parallel guesses get no more than
:data:`~storefront_sdk.consumers.codes.MAX_TRIES` checked."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from storefront_sdk.consumers import codes
from storefront_sdk.consumers.models import Consumer
from storefront_sdk.db import create_engine, make_sessionmaker, utcnow
from storefront_sdk.models import storefront_tables

SECRET = "race-secret"
WORKERS = 12


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(storefront_tables())} RESTART IDENTITY CASCADE")
    engine.dispose()


def _race(url: str, attempt: Callable[[Any], Any]) -> list[Any]:
    """:data:`WORKERS` threads run ``attempt(session)`` at once, each committing its own."""
    engine = create_engine(url, {"pool_size": WORKERS, "max_overflow": 0})
    sessions = make_sessionmaker(engine)
    start = threading.Barrier(WORKERS)

    def run(_i: int) -> Any:
        session = sessions()
        try:
            start.wait()
            outcome = attempt(session)
            session.commit()
            return outcome
        except codes.CodeRefused as refused:
            session.rollback()
            return refused.reason
        finally:
            session.close()

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            return list(pool.map(run, range(WORKERS)))
    finally:
        engine.dispose()


def _issued(url: str) -> tuple[codes.SignInContact, str]:
    contact = codes.contact_of("ada@example.com")
    assert contact is not None
    engine = create_engine(url)
    try:
        with make_sessionmaker(engine).begin() as session:
            code = codes.issue_code(session, contact, SECRET, utcnow(), timedelta(minutes=10))
    finally:
        engine.dispose()
    return contact, code


def test_a_code_submitted_twelve_times_at_once_signs_in_once(postgres_url: str):
    _empty(postgres_url)
    contact, code = _issued(postgres_url)

    def attempt(session: Any) -> Any:
        now = utcnow()
        counted = codes.count_try(session, contact, SECRET, now)
        session.commit()
        return codes.sign_in_with_code(session, counted, contact, code, SECRET, now)

    outcomes = _race(postgres_url, attempt)

    signed_in = [o for o in outcomes if isinstance(o, int)]
    assert len(signed_in) == 1
    # the others found it used up, or no tries left
    assert [o for o in outcomes if not isinstance(o, int)] == ["expired"] * (WORKERS - 1)
    engine = create_engine(postgres_url)
    with make_sessionmaker(engine)() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Consumer)) == 1
    engine.dispose()


def test_parallel_guesses_get_five_tries_checked(postgres_url: str):
    _empty(postgres_url)
    contact, _code = _issued(postgres_url)

    def attempt(session: Any) -> Any:
        return codes.count_try(session, contact, SECRET, utcnow())

    outcomes = _race(postgres_url, attempt)

    assert len([o for o in outcomes if o is not None]) == codes.MAX_TRIES
    assert outcomes.count(None) == WORKERS - codes.MAX_TRIES
