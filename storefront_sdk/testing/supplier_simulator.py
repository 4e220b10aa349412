"""A small supplier for demos and tests: it receives order webhooks, verifies their
signatures, and accepts, ships and delivers its orders through the supplier API, each step
``delay`` seconds after the one before (``0``: at once).

It is also a conformance check of the contract: every delivery must carry a valid
``Storefront-Signature`` and ``Storefront-Event-Id``, and a body whose ``id`` is that event id;
anything else is answered ``400`` and recorded in :attr:`SupplierSimulator.rejected`.

::

    sim = SupplierSimulator(HttpApi("http://127.0.0.1:5000/api/v1/supplier", api_key))
    sim.start()                     # a webhook server on 127.0.0.1, a free port
    sim.register_webhook()          # PUT /webhook with sim.url; keeps the secret
    ...
    sim.stop()
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..webhooks import WebhookSignatureError, verify


class SupplierApi(Protocol):
    """How the simulator calls the supplier API: ``(method, path, json) -> (status, body)``."""

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...


@dataclass
class HttpApi:
    """The supplier API over HTTP at ``base`` (``.../api/v1/supplier``) with ``api_key``."""

    base: str
    api_key: str
    timeout: float = 10.0

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (the platform's own API)
            self.base + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None


@dataclass
class SupplierSimulator:
    """See the module docstring. ``carrier`` and ``tracking`` name the parcels it ships."""

    api: SupplierApi
    delay: float = 0.0
    carrier: str = "SF"
    tracking: Callable[[str], str] = lambda order_id: "SIM" + order_id[-8:].upper()
    #: Verified events, in arrival order: ``(event id, type, supplier order id)``.
    events: list[tuple[str, str, str]] = field(default_factory=list)
    #: Deliveries refused (bad signature, malformed): ``(reason, headers)``.
    rejected: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    #: Errors of its own API calls: ``(path, status, body)``.
    api_errors: list[tuple[str, int, Any]] = field(default_factory=list)
    secret: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        self._server: http.server.ThreadingHTTPServer | None = None
        self._changed = threading.Condition()
        self._workers: list[threading.Thread] = []

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve webhooks at ``http://host:port/webhook``; returns that URL."""
        simulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status = simulator._receive(self.rfile.read(length), dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://{host}:{self._server.server_port}/webhook"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for worker in self._workers:
            worker.join(timeout=self.delay * 3 + 10)

    def register_webhook(self) -> str:
        """``PUT /webhook`` with this simulator's URL; keeps (and returns) the secret."""
        status, body = self.api("PUT", "/webhook", {"url": self.url})
        if status != 200:
            raise RuntimeError(f"PUT /webhook answered {status}: {body}")
        self.secret = body["secret"]
        return str(self.secret)

    def wait_for(
        self, predicate: Callable[[tuple[str, str, str]], bool], timeout: float = 10.0
    ) -> tuple[str, str, str]:
        """The first event matching ``predicate`` (waiting up to ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching event in {timeout} s: {self.events}")
                self._changed.wait(left)

    def fulfil(self, order_id: str) -> None:
        """Accept, ship everything, then mark delivered, ``delay`` s apart."""
        steps: list[tuple[str, Any]] = [
            (f"/orders/{order_id}/accept", None),
            (
                f"/orders/{order_id}/shipments",
                {"carrier": self.carrier, "tracking_number": self.tracking(order_id)},
            ),
            (f"/orders/{order_id}/deliver", None),
        ]
        for path, body in steps:
            if self.delay:
                time.sleep(self.delay)
            status, answer = self.api("POST", path, body)
            if status >= 300:
                self.api_errors.append((path, status, answer))
                return

    def _receive(self, body: bytes, headers: dict[str, str]) -> int:
        lowered = {name.lower(): value for name, value in headers.items()}
        try:
            verify(body, lowered.get("storefront-signature"), self.secret or "")
            event = json.loads(body)
            event_id = lowered.get("storefront-event-id")
            if not event_id or event.get("id") != event_id:
                raise ValueError("Storefront-Event-Id does not match the body's id")
            order_id = str(event["data"]["object"]["id"])
            event_type = str(event["type"])
        except (WebhookSignatureError, ValueError, KeyError, TypeError) as error:
            self.rejected.append((str(error), headers))
            return 400
        with self._changed:
            seen = any(known[0] == event_id for known in self.events)
            self.events.append((event_id, event_type, order_id))
            self._changed.notify_all()
        if event_type == "order.created" and not seen:
            worker = threading.Thread(target=self.fulfil, args=(order_id,), daemon=True)
            self._workers.append(worker)
            worker.start()
        return 200
