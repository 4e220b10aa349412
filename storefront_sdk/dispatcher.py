"""The process behind ``flask storefront dispatch``: outbox deliveries and due refunds."""

from __future__ import annotations

import signal
import threading
from datetime import datetime
from typing import Any

from flask import Flask

from .config import transport_policy
from .db import utcnow
from .fulfillment.dispatch import dispatch_once
from .payments.service import run_refunds


class Dispatcher:
    """Delivers due outbox events and asks the provider for due refunds, in a loop."""

    def __init__(self, app: Flask, *, batch: int = 20, clock: Any = utcnow) -> None:
        self.app = app
        self.batch = batch
        self.clock = clock
        self.stopping = threading.Event()

    def run_once(self) -> dict[str, int]:
        """One pass: every event due now (in batches), then due refunds; the counts."""
        state = self.app.extensions["storefront"]
        policy = transport_policy(self.app.config)
        totals = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0, "refunds": 0}
        with self.app.app_context():
            session = state.sessionmaker()
            try:
                while not self.stopping.is_set():
                    counts = dispatch_once(session, policy, self.clock, limit=self.batch)
                    for name, value in counts.as_dict().items():
                        totals[name] += value
                    if counts.total < self.batch:
                        break
                providers = {state.payments.name: state.payments} if state.payments else {}
                totals["refunds"] = run_refunds(session, providers, self._now())
            finally:
                session.close()
        return totals

    def run_forever(self, poll: float) -> None:
        """Pass after pass until SIGTERM or SIGINT; sleeps ``poll`` s when idle."""
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stopping.set())
        while not self.stopping.is_set():
            totals = self.run_once()
            if not any(totals.values()):
                self.stopping.wait(poll)

    def _now(self) -> datetime:
        now: datetime = self.clock()
        return now
