"""A minimal local fake of the Stripe Connect endpoints localstripe lacks, for tests of
Stripe Connect payouts through the official SDK (point ``STRIPE_API_BASE`` at :attr:`url`).

It keeps, in memory: Express accounts (``POST /v1/accounts``), onboarding links (``POST
/v1/account_links``), transfers to accounts (``POST /v1/transfers``) and their reversals
(``POST /v1/transfers/<id>/reversals``). Like Stripe it honours ``Idempotency-Key`` (the same
key answers the same response), refuses a transfer to an unknown account, a transfer beyond
the platform's :attr:`balance`, and a reversal beyond what the connected account still holds
of the transfer (:attr:`spent` marks money an account paid out onwards). Requests are
recorded in :attr:`requests` so tests can check what was asked.
"""

from __future__ import annotations

import http.server
import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ConnectFake:
    """The running fake; :meth:`close` stops it."""

    #: What the platform may still transfer, in minor units (one currency for all).
    balance: int = 10**9
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Per transfer, what its account paid out onwards (cannot be reversed).
    spent: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)
    #: Answer the next transfer request with HTTP 500 after making the transfer (Stripe
    #: acted, the answer was an error).
    fail_after_transfer: bool = False
    _replies: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        fake = self
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                params = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
                with lock:
                    fake.requests.append((path, params, None))
                    if path == "/v1/transfers":
                        group = params.get("transfer_group")
                        found = [t for t in fake.transfers.values() if t["group"] == group]
                        body: dict[str, Any] = {
                            "object": "list", "url": "/v1/transfers", "has_more": False,
                            "data": found[: int(params.get("limit", "10"))],
                        }  # fmt: skip
                        status = 200
                    else:
                        status, body = 404, {"error": {"type": "invalid_request_error",
                                                       "message": "Unrecognized URL"}}  # fmt: skip
                self._reply(status, body)

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                params = {key: values[-1] for key, values in form.items()}
                key = self.headers.get("Idempotency-Key")
                with lock:
                    fake.requests.append((self.path, params, key))
                    if key and key in fake._replies:
                        status, body = fake._replies[key]
                    else:
                        status, body = fake.answer(self.path, params)
                        if key:
                            fake._replies[key] = (status, body)
                self._reply(status, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The fake's answer to ``POST path`` with form ``params``."""
        parts = path.split("?")[0].strip("/").split("/")
        if parts == ["v1", "accounts"]:
            account: dict[str, Any] = {"id": f"acct_{next(self._ids)}", "object": "account",
                       "type": params.get("type"), "email": params.get("email")}  # fmt: skip
            self.accounts[account["id"]] = account
            return 200, account
        if parts == ["v1", "account_links"]:
            if params.get("account", "") not in self.accounts:
                return _error("No such account")
            url = f"https://connect.stripe.test/setup/{params['account']}"
            return 200, {"object": "account_link", "url": url}
        if parts == ["v1", "transfers"]:
            amount = int(params.get("amount", "0"))
            destination = params.get("destination", "")
            if destination not in self.accounts:
                return _error("No such destination account")
            if amount > self.balance:
                return _error("Insufficient funds in your Stripe balance")
            self.balance -= amount
            transfer: dict[str, Any] = {
                "id": f"tr_{next(self._ids)}",
                "object": "transfer",
                "amount": amount,
                "currency": params.get("currency"),
                "destination": destination,
                "amount_reversed": 0,
                "group": params.get("transfer_group"),
            }
            self.transfers[transfer["id"]] = transfer
            if self.fail_after_transfer:
                self.fail_after_transfer = False
                return 500, {"error": {"type": "api_error", "message": "Something went wrong"}}
            return 200, transfer
        if len(parts) == 4 and parts[:2] == ["v1", "transfers"] and parts[3] == "reversals":
            found = self.transfers.get(parts[2])
            if found is None:
                return _error("No such transfer")
            amount = int(params.get("amount", "0"))
            left = found["amount"] - found["amount_reversed"] - self.spent.get(parts[2], 0)
            if amount > left:
                return _error("Insufficient funds in the connected account")
            found["amount_reversed"] += amount
            self.balance += amount
            return 200, {"id": f"trr_{next(self._ids)}", "object": "transfer_reversal",
                         "amount": amount, "transfer": found["id"]}  # fmt: skip
        return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized URL"}}


def _error(message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error": {"type": "invalid_request_error", "message": message}}
