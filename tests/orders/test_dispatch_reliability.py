"""Webhook deliveries to suppliers under trouble (``webhooks.md``, "Delivery"): signed
requests, retries on the documented schedule under an injected clock, timeouts, a supplier
down for hours, concurrent dispatchers, a dispatcher killed mid-delivery, suppliers without
a webhook and addresses that became forbidden. Receivers are small HTTP servers on
127.0.0.1."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import SupplierClient, build_app
from flask import Flask
from order_support import app_on, buy, dev_pay, stocked_shop
from sqlalchemy.orm import Session

from storefront_sdk.db import create_engine, session_scope, utcnow
from storefront_sdk.dispatcher import Dispatcher
from storefront_sdk.fulfillment import handoff
from storefront_sdk.fulfillment.dispatch import LEASE, _deliver, claim, dispatch_once
from storefront_sdk.fulfillment.handoff import rfc3339
from storefront_sdk.fulfillment.models import DeliveryAttempt, OutboxEvent
from storefront_sdk.models import storefront_tables
from storefront_sdk.orders.models import SupplierOrder
from storefront_sdk.outbound import TransportPolicy
from storefront_sdk.webhooks import SIGNATURE_HEADER, WebhookSignatureError, verify

REPO = Path(__file__).resolve().parents[2]
#: What the tests' direct dispatch_once calls may do: plain http to 127.0.0.1.
POLICY = TransportPolicy(allow_http=True, allow_private=True, timeout=5.0)
#: The documented waits before each retry (``webhooks.md``); the last one repeats...
SCHEDULE = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
#: ...until three days after the event was written.
HORIZON = timedelta(days=3)


# --- a receiver ---------------------------------------------------------------------------


@dataclass
class Received:
    event_id: str | None
    headers: dict[str, str]
    body: bytes
    start: float
    end: float | None = None


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that records every request with its start and end
    (``time.monotonic()``) and answers ``status`` after ``sleep`` seconds; while ``gate``
    is set, each request is held until that event is set."""

    port: int = 0
    status: int = 200
    sleep: float = 0.0
    gate: threading.Event | None = None
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                record = Received(
                    self.headers.get("Storefront-Event-Id"),
                    dict(self.headers.items()),
                    body,
                    time.monotonic(),
                )
                with receiver._lock:
                    receiver.requests.append(record)
                receiver.arrived.set()
                gate, sleep, status = receiver.gate, receiver.sleep, receiver.status
                try:
                    if gate is not None:
                        gate.wait(30)
                    if sleep:
                        time.sleep(sleep)
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                finally:
                    record.end = time.monotonic()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/storefront/webhooks"

    def ids(self) -> list[str | None]:
        with self._lock:
            return [r.event_id for r in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Clock:
    """An injected ``now``: moves only when the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# --- helpers ------------------------------------------------------------------------------


@dataclass
class Paid:
    supplier: SupplierClient
    so_id: str
    event_id: str
    secret: str | None


def paid_order(app: Flask, webhook_url: str | None) -> Paid:
    """A supplier (with its webhook at ``webhook_url``, if any) and one paid order: one
    ``order.created`` in the outbox."""
    supplier, shop, skus = stocked_shop(app)
    secret = None
    if webhook_url is not None:
        answer = supplier.put("/webhook", json={"url": webhook_url})
        assert answer.status_code == 200, answer.get_json()
        secret = answer.get_json()["secret"]
    client = app.test_client()
    token = buy(client, shop.slug, {skus["A"]: 1})
    assert dev_pay(client, shop.slug, token).status_code == 303
    with session_scope(app) as session:
        event = session.scalars(sa.select(OutboxEvent)).one()
        part = session.get_one(SupplierOrder, event.supplier_order_id)
        assert (event.type, event.status, event.attempts) == ("order.created", "pending", 0)
        return Paid(supplier, part.public_id, event.event_id, secret)


def outbox(app: Flask, event_id: str) -> OutboxEvent:
    with session_scope(app) as session:
        event = session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.event_id == event_id)
        ).one()
        session.expunge(event)
        return event


def attempts_of(app: Flask, event_id: str) -> list[DeliveryAttempt]:
    with session_scope(app) as session:
        found = list(
            session.scalars(
                sa.select(DeliveryAttempt)
                .join(OutboxEvent, OutboxEvent.id == DeliveryAttempt.outbox_event_id)
                .where(OutboxEvent.event_id == event_id)
                .order_by(DeliveryAttempt.id)
            )
        )
        session.expunge_all()
        return found


@contextmanager
def dispatch_session(app: Flask) -> Iterator[Session]:
    session = app.extensions["storefront"].sessionmaker()
    try:
        yield session
    finally:
        session.close()


def deliveries(supplier: SupplierClient) -> dict[str, dict[str, Any]]:
    answer = supplier.get("/webhook/deliveries")
    assert answer.status_code == 200, answer.get_json()
    return {item["id"]: item for item in answer.get_json()["items"]}


def pending_pull(supplier: SupplierClient) -> list[str]:
    answer = supplier.get("/orders?status=pending")
    assert answer.status_code == 200, answer.get_json()
    return [item["id"] for item in answer.get_json()["items"]]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# --- (a) signed requests ------------------------------------------------------------------


def test_each_delivery_is_signed_and_names_its_event(db_url: str) -> None:
    with app_on(db_url) as app, Receiver() as receiver:
        paid = paid_order(app, receiver.url)
        before = int(time.time())
        counts = Dispatcher(app).run_once()
        assert counts == {"delivered": 1, "retrying": 0, "failed": 0, "skipped": 0, "refunds": 0}
        [request] = receiver.requests
        body = json.loads(request.body)
        assert request.event_id == body["id"] == paid.event_id
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"] == "storefront-sdk-webhooks/1"
        assert (body["type"], body["data"]["object"]["id"]) == ("order.created", paid.so_id)
        assert paid.secret is not None
        assert paid.secret.startswith("whsec_")
        header = request.headers[SIGNATURE_HEADER]
        verify(request.body, header, paid.secret)  # raises if it does not check out
        timestamp = int(header.split(",")[0].removeprefix("t="))
        assert before - 1 <= timestamp <= int(time.time()) + 1
        with pytest.raises(WebhookSignatureError):
            verify(request.body, header, "whsec_someone_else")
        with pytest.raises(WebhookSignatureError):
            verify(request.body.replace(b"order.created", b"order.cancelled"), header, paid.secret)
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts, event.last_status_code) == ("delivered", 1, 200)
        assert event.delivered_at is not None
        assert event.body.encode() == request.body
        shown = deliveries(paid.supplier)[paid.event_id]
        assert (shown["status"], shown["attempts"], shown["last_status_code"]) == (
            "delivered",
            1,
            200,
        )
        assert shown["next_attempt_at"] is None
        assert shown["order_id"] == paid.so_id
        # Nothing is due any more.
        assert Dispatcher(app).run_once()["delivered"] == 0
        assert len(receiver.requests) == 1


# --- (b) retries on the schedule, failed after three days, re-queued by hand ---------------


def test_failing_receiver_is_retried_on_schedule_until_failed_then_requeued(
    db_url: str,
) -> None:
    with app_on(db_url) as app, Receiver(status=500) as receiver:
        paid = paid_order(app, receiver.url)
        created = outbox(app, paid.event_id).created_at
        assert created is not None
        clock = Clock(utcnow())
        with dispatch_session(app) as session:
            counts = dispatch_once(session, POLICY, clock, commit=session.commit)
            assert counts.as_dict() == {"delivered": 0, "retrying": 1, "failed": 0, "skipped": 0}
            assert receiver.ids() == [paid.event_id]
            event = outbox(app, paid.event_id)
            assert (event.status, event.attempts, event.last_status_code) == ("pending", 1, 500)
            assert event.last_error == "HTTP 500"
            assert event.leased_until is None
            assert event.next_attempt_at is not None
            first_wait = event.next_attempt_at - clock.now
            assert timedelta(seconds=54) <= first_wait <= timedelta(seconds=66)

            # Before the first delay has passed nothing is sent.
            clock.advance(seconds=50)
            assert dispatch_once(session, POLICY, clock, commit=session.commit).total == 0
            assert len(receiver.requests) == 1

            shown = deliveries(paid.supplier)[paid.event_id]
            assert shown["status"] == "pending"
            assert shown["attempts"] == 1
            assert shown["last_status_code"] == 500
            assert shown["last_error"] == "HTTP 500"
            assert shown["next_attempt_at"] == rfc3339(event.next_attempt_at)
            assert pending_pull(paid.supplier) == [paid.so_id]

            ratios: list[float] = []
            tries = 1
            while True:
                event = outbox(app, paid.event_id)
                if event.status == "failed":
                    break
                assert event.status == "pending"
                assert event.next_attempt_at is not None
                assert event.last_attempt_at is not None
                delay = SCHEDULE[min(tries, len(SCHEDULE)) - 1]
                ratio = (event.next_attempt_at - event.last_attempt_at) / delay
                assert 0.9 <= ratio <= 1.1, (tries, ratio)
                ratios.append(ratio)
                clock.now = event.next_attempt_at - timedelta(seconds=1)
                assert dispatch_once(session, POLICY, clock, commit=session.commit).total == 0, (
                    tries
                )
                assert len(receiver.requests) == tries
                clock.now = event.next_attempt_at
                counts = dispatch_once(session, POLICY, clock, commit=session.commit)
                tries += 1
                assert len(receiver.requests) == tries
                if clock.now - created >= HORIZON:
                    assert counts.failed == 1, tries
                else:
                    assert counts.retrying == 1, tries
                    if tries == 6:  # mid-way: pull still has the order
                        assert pending_pull(paid.supplier) == [paid.so_id]
                assert tries < 30
            # 1 + 4 backed-off tries (2 h 36 min) + tries every 6 h (±10 %) to three days.
            assert 16 <= tries <= 18
            assert any(abs(r - 1) > 1e-6 for r in ratios)  # jittered
            log = attempts_of(app, paid.event_id)
            assert len(log) == tries == event.attempts
            assert {a.status_code for a in log} == {500}
            assert log[-1].attempted_at is not None
            assert log[-2].attempted_at is not None
            assert log[-1].attempted_at - created >= HORIZON
            assert log[-2].attempted_at - created < HORIZON
            assert receiver.ids() == [paid.event_id] * tries

            shown = deliveries(paid.supplier)[paid.event_id]
            assert (shown["status"], shown["attempts"], shown["last_status_code"]) == (
                "failed",
                tries,
                500,
            )
            assert shown["next_attempt_at"] is None
            assert pending_pull(paid.supplier) == [paid.so_id]

            # A failed delivery waits for a person.
            clock.advance(days=1)
            assert dispatch_once(session, POLICY, clock, commit=session.commit).total == 0

            receiver.status = 200
            answer = paid.supplier.post(f"/webhook/deliveries/{paid.event_id}/retry")
            assert answer.status_code == 200, answer.get_json()
            assert answer.get_json()["status"] == "pending"
            counts = dispatch_once(session, POLICY, utcnow, commit=session.commit)
            assert counts.as_dict() == {"delivered": 1, "retrying": 0, "failed": 0, "skipped": 0}
        assert receiver.ids() == [paid.event_id] * (tries + 1)
        assert receiver.requests[-1].body == receiver.requests[0].body
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts, event.last_status_code) == (
            "delivered",
            tries + 1,
            200,
        )
        assert deliveries(paid.supplier)[paid.event_id]["status"] == "delivered"


def test_retry_of_an_unknown_delivery_is_404(db_url: str) -> None:
    with app_on(db_url) as app:
        paid = paid_order(app, None)
        answer = paid.supplier.post("/webhook/deliveries/evt_not_there/retry")
        assert answer.status_code == 404


# --- (c) a receiver slower than the timeout -----------------------------------------------


def test_slow_receiver_times_out_and_is_retried(db_url: str) -> None:
    with app_on(db_url) as app, Receiver(sleep=1.5) as receiver:
        paid = paid_order(app, receiver.url)
        policy = TransportPolicy(allow_http=True, allow_private=True, timeout=0.5)
        clock = Clock(utcnow())
        with dispatch_session(app) as session:
            started = time.monotonic()
            counts = dispatch_once(session, policy, clock, commit=session.commit)
            took = time.monotonic() - started
            assert counts.as_dict() == {"delivered": 0, "retrying": 1, "failed": 0, "skipped": 0}
            assert took < 1.4  # the delivery gave up at its deadline, not at the answer
            event = outbox(app, paid.event_id)
            assert (event.status, event.attempts) == ("pending", 1)
            assert event.last_status_code is None
            assert event.last_error == "timed out after 0.5 s"
            [attempt] = attempts_of(app, paid.event_id)
            assert attempt.error == "timed out after 0.5 s"
            assert attempt.status_code is None
            assert 400 <= attempt.duration_ms < 1400
            shown = deliveries(paid.supplier)[paid.event_id]
            assert (shown["status"], shown["last_error"]) == ("pending", "timed out after 0.5 s")

            receiver.sleep = 0
            assert event.next_attempt_at is not None
            clock.now = event.next_attempt_at
            counts = dispatch_once(session, policy, clock, commit=session.commit)
            assert counts.delivered == 1
        assert receiver.ids() == [paid.event_id, paid.event_id]
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts, event.last_status_code) == ("delivered", 2, 200)


# --- (d) a supplier down for six hours ----------------------------------------------------


def test_supplier_down_for_six_hours_gets_the_event_when_back(db_url: str) -> None:
    with app_on(db_url) as app:
        with Receiver() as gone:
            port = gone.port
            paid = paid_order(app, gone.url)
        t0 = utcnow()
        clock = Clock(t0)
        step = timedelta(seconds=30)
        with dispatch_session(app) as session:
            while clock.now < t0 + timedelta(hours=6):
                counts = dispatch_once(session, POLICY, clock, commit=session.commit)
                assert counts.delivered == counts.failed == counts.skipped == 0
                clock.now += step
            log = attempts_of(app, paid.event_id)
            # At 0, 1 min, 6 min, 36 min and 2 h 36 min (each wait ±10 %, checked at 30 s
            # steps); the next is due about 6 h after the last.
            assert len(log) == 5
            assert {(a.status_code, a.error) for a in log} == {(None, "connection refused")}
            times = [a.attempted_at for a in log]
            for index, (before, after) in enumerate(itertools.pairwise(times)):
                assert before is not None
                assert after is not None
                delay = SCHEDULE[index]
                assert delay * 0.9 <= after - before <= delay * 1.1 + step, index
            event = outbox(app, paid.event_id)
            assert (event.status, event.attempts) == ("pending", 5)
            assert event.next_attempt_at is not None
            assert event.next_attempt_at > t0 + timedelta(hours=6)
            assert pending_pull(paid.supplier) == [paid.so_id]

            with Receiver(port=port) as back:
                assert back.url == gone.url
                delivered_at = None
                while clock.now < t0 + timedelta(hours=10):
                    counts = dispatch_once(session, POLICY, clock, commit=session.commit)
                    if counts.delivered:
                        delivered_at = clock.now
                        break
                    assert counts.total == 0
                    clock.now += step
                assert delivered_at is not None
                assert event.next_attempt_at <= delivered_at < event.next_attempt_at + step
                assert back.ids() == [paid.event_id]
                assert paid.secret is not None
                body = back.requests[0].body
                verify(
                    body,
                    back.requests[0].headers[SIGNATURE_HEADER],
                    paid.secret,
                    now=delivered_at.timestamp(),
                )
                assert json.loads(body)["data"]["object"]["id"] == paid.so_id
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts, event.last_status_code) == ("delivered", 6, 200)


# --- (e) two dispatchers at once (PostgreSQL row locking) ---------------------------------


@pytest.fixture
def pg_db(postgres_url: str) -> str:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(storefront_tables())} RESTART IDENTITY CASCADE")
    engine.dispose()
    return postgres_url


def test_two_dispatchers_never_deliver_an_event_twice(pg_db: str) -> None:
    with app_on(pg_db) as app, Receiver(sleep=0.05) as receiver:
        paid = paid_order(app, receiver.url)
        with session_scope(app) as session:
            part = session.scalars(sa.select(SupplierOrder)).one()
            for _ in range(49):
                handoff.queue(session, part, handoff.ORDER_CREATED, utcnow())
        with session_scope(app) as session:
            wanted = set(session.scalars(sa.select(OutboxEvent.event_id)))
        assert len(wanted) == 50
        assert paid.event_id in wanted

        delivered = {"one": 0, "two": 0}
        errors: list[BaseException] = []

        def left() -> int:
            with session_scope(app) as session:
                return int(
                    session.scalar(
                        sa.select(sa.func.count()).where(OutboxEvent.status == "pending")
                    )
                    or 0
                )

        def dispatcher(name: str) -> None:
            try:
                with dispatch_session(app) as session:
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline:
                        counts = dispatch_once(
                            session, POLICY, utcnow, commit=session.commit, limit=3
                        )
                        delivered[name] += counts.delivered
                        assert counts.retrying == counts.failed == 0
                        if counts.total == 0:
                            if left() == 0:
                                return
                            time.sleep(0.01)
            except BaseException as error:  # reported by the test thread
                errors.append(error)

        threads = [threading.Thread(target=dispatcher, args=(name,)) for name in delivered]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        assert delivered["one"] + delivered["two"] == 50
        assert delivered["one"] > 0
        assert delivered["two"] > 0
        assert len(receiver.requests) == 50
        assert set(receiver.ids()) == wanted
        by_id: dict[str | None, list[Received]] = {}
        for request in receiver.requests:
            by_id.setdefault(request.event_id, []).append(request)
        for event_id, seen in by_id.items():
            seen.sort(key=lambda r: r.start)
            for first, second in itertools.pairwise(seen):
                assert first.end is not None, event_id
                assert first.end <= second.start, event_id
        with session_scope(app) as session:
            rows = session.execute(sa.select(OutboxEvent.status, OutboxEvent.attempts)).all()
            log = session.scalar(sa.select(sa.func.count()).select_from(DeliveryAttempt))
        assert sorted(set(rows)) == [("delivered", 1)]
        assert log == 50


# --- (f) a dispatcher killed mid-delivery -------------------------------------------------


def test_killed_dispatcher_loses_nothing_and_never_overlaps(pg_db: str, tmp_path: Path) -> None:
    with app_on(pg_db) as app, Receiver(gate=threading.Event()) as receiver:
        paid = paid_order(app, receiver.url)
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("STOREFRONT_", "STRIPE_", "FLASK_"))
        }
        env.update(
            STOREFRONT_DATABASE_URL=pg_db,
            EXAMPLE_SHOP_INSTANCE_PATH=str(tmp_path / "instance"),
            SECRET_KEY="dispatch-test-secret-key-0123456789",
            STOREFRONT_WEBHOOK_ALLOW_HTTP="true",
            STOREFRONT_WEBHOOK_ALLOW_PRIVATE="true",
            STOREFRONT_PAYMENT_PROVIDER="dev",
        )
        with open(tmp_path / "dispatch.log", "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "flask",
                    "--app",
                    "example_shop.wsgi:app",
                    "storefront",
                    "dispatch",
                    "--poll",
                    "0.05",
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            arrived = receiver.arrived.wait(30)
            assert arrived, (tmp_path / "dispatch.log").read_text()[-2000:]
            held = outbox(app, paid.event_id)
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(10) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        gate = receiver.gate
        assert gate is not None
        receiver.gate = None
        gate.set()  # the held request ends (its sender is gone)
        wait_until(lambda: receiver.requests[0].end is not None)

        # The event is still pending, leased by the dead dispatcher, never attempted.
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts) == ("pending", 0)
        assert event.leased_until is not None
        assert event.leased_until == held.leased_until
        assert event.leased_until > utcnow() + LEASE - timedelta(seconds=45)

        # Before the lease ends no other dispatcher sends it.
        assert Dispatcher(app).run_once()["delivered"] == 0
        with dispatch_session(app) as session:
            assert dispatch_once(session, POLICY, utcnow, commit=session.commit).total == 0
        assert len(receiver.requests) == 1

        # Once the lease has run out, another dispatcher delivers it, under the same id.
        later = Clock(event.leased_until + timedelta(seconds=1))
        with dispatch_session(app) as session:
            counts = dispatch_once(session, POLICY, later, commit=session.commit)
        assert counts.as_dict() == {"delivered": 1, "retrying": 0, "failed": 0, "skipped": 0}
        assert receiver.ids() == [paid.event_id, paid.event_id]
        first, second = receiver.requests
        assert first.body == second.body
        assert first.end is not None
        assert first.end <= second.start
        assert paid.secret is not None
        verify(
            second.body,
            second.headers[SIGNATURE_HEADER],
            paid.secret,
            now=later.now.timestamp(),
        )
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts, event.leased_until) == ("delivered", 1, None)
        with dispatch_session(app) as session:
            assert (
                dispatch_once(
                    session, POLICY, Clock(utcnow() + LEASE * 2), commit=session.commit
                ).total
                == 0
            )
        assert len(receiver.requests) == 2


def test_an_event_whose_hold_ran_out_in_a_waiting_batch_is_left_to_its_new_holder(
    db_url: str,
) -> None:
    with app_on(db_url) as app, Receiver() as receiver:
        # Given an event claimed by a dispatcher whose batch then waited past the lease
        paid = paid_order(app, receiver.url)
        engine = app.extensions["storefront"].engine
        start = Clock(utcnow())
        with dispatch_session(app) as session:
            (stale,) = claim(session, start(), limit=1, commit=session.commit)
        # and which another dispatcher has taken and delivered meanwhile
        later = Clock(start.now + LEASE + timedelta(seconds=1))
        with dispatch_session(app) as session:
            assert dispatch_once(session, POLICY, later, commit=session.commit).delivered == 1
        # When the first dispatcher's turn to send it comes
        outcome = _deliver(engine, POLICY, later, LEASE, stale)
        # Then it sends nothing and records nothing: the event is the other one's
        assert outcome is None
        assert receiver.ids() == [paid.event_id]
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts) == ("delivered", 1)
        assert len(attempts_of(app, paid.event_id)) == 1


# --- (g) a supplier without a webhook -----------------------------------------------------


def test_supplier_without_webhook_is_skipped_and_pulls(db_url: str) -> None:
    with app_on(db_url) as app:
        paid = paid_order(app, None)
        counts = Dispatcher(app).run_once()
        assert counts == {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 1, "refunds": 0}
        event = outbox(app, paid.event_id)
        assert (event.status, event.attempts, event.leased_until) == ("skipped", 0, None)
        assert attempts_of(app, paid.event_id) == []
        shown = deliveries(paid.supplier)[paid.event_id]
        assert (shown["status"], shown["attempts"], shown["next_attempt_at"]) == (
            "skipped",
            0,
            None,
        )
        assert pending_pull(paid.supplier) == [paid.so_id]
        got = paid.supplier.get(f"/orders/{paid.so_id}")
        assert got.status_code == 200
        assert got.get_json()["status"] == "pending"
        assert Dispatcher(app).run_once()["skipped"] == 0  # once


# --- (h) an address that became forbidden -------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_target_is_blocked_at_delivery(db_url: str, host: str) -> None:
    with Receiver() as receiver:
        with app_on(db_url) as permissive:
            url = receiver.url.replace("127.0.0.1", host)
            paid = paid_order(permissive, url)
        strict = build_app(
            db_url, STOREFRONT_PAYMENT_PROVIDER="dev", STOREFRONT_WEBHOOK_ALLOW_HTTP=True
        )
        try:
            assert strict.config["STOREFRONT_WEBHOOK_ALLOW_PRIVATE"] is False
            counts = Dispatcher(strict).run_once()
            assert counts["retrying"] == 1
            assert counts["delivered"] == 0
            event = outbox(strict, paid.event_id)
            assert event.status == "pending"
            assert event.last_status_code is None
            assert event.last_error is not None
            assert "blocked" in event.last_error
            assert "loopback" in event.last_error
            [attempt] = attempts_of(strict, paid.event_id)
            assert attempt.error == event.last_error
        finally:
            strict.extensions["storefront"].engine.dispose()
        assert receiver.requests == []
