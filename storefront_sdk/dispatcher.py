"""The process behind ``flask storefront dispatch``: outbox deliveries and due refunds."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from flask import Flask

from .config import transport_policy
from .db import utcnow
from .fulfillment.dispatch import dispatch_once
from .payments.service import run_refunds

#: Batches of deliveries between two looks at the due refunds, while the outbox is busy.
REFUNDS_EVERY = 10


class Dispatcher:
    """Delivers due outbox events and asks the provider for due refunds, in a loop.

    Up to ``concurrency`` deliveries of a batch are under way at once (a slow supplier
    endpoint holds up one of them, not the whole outbox)."""

    def __init__(
        self, app: Flask, *, batch: int = 20, concurrency: int = 4, clock: Any = utcnow
    ) -> None:
        self.app = app
        self.batch = batch
        self.clock = clock
        self.concurrency = concurrency
        self.stopping = threading.Event()
        self._pool: ThreadPoolExecutor | None = None  # run_forever's, for every pass

    def run_once(self) -> dict[str, int]:
        """One pass: every event due now (in batches), then due refunds; the counts."""
        if self._pool is not None or self.concurrency == 1:
            return self._pass(self._pool)
        with self._new_pool() as pool:
            return self._pass(pool)

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self.concurrency, thread_name_prefix="storefront-delivery")

    def _pass(self, pool: ThreadPoolExecutor | None) -> dict[str, int]:
        state = self.app.extensions["storefront"]
        policy = transport_policy(self.app.config)
        totals = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0, "refunds": 0}
        with self.app.app_context():
            session = state.sessionmaker()
            try:
                providers = {state.payments.name: state.payments} if state.payments else {}
                batches = 0
                while not self.stopping.is_set():
                    counts = dispatch_once(
                        session,
                        policy,
                        self.clock,
                        commit=session.commit,
                        limit=self.batch,
                        pool=pool,
                    )
                    for name, value in counts.as_dict().items():
                        totals[name] += value
                    if counts.total < self.batch:
                        break
                    batches += 1
                    if batches % REFUNDS_EVERY == 0:  # a busy outbox holds up no refund
                        totals["refunds"] += run_refunds(
                            session, providers, self._now(), commit=session.commit
                        )
                totals["refunds"] += run_refunds(
                    session, providers, self._now(), commit=session.commit
                )
            finally:
                session.close()
        return totals

    def run_forever(self, poll: float) -> None:
        """Pass after pass until SIGTERM or SIGINT; sleeps ``poll`` s when idle."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stopping.set())
        if self.concurrency > 1:
            self._pool = self._new_pool()
        try:
            while not self.stopping.is_set():
                totals = self.run_once()
                if not any(totals.values()):
                    self.stopping.wait(poll)
        finally:
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=True)  # (after the deliveries under way)

    def _now(self) -> datetime:
        now: datetime = self.clock()
        return now
