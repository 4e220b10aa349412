"""The example shop's reactions to orders: a confirmation email per paid order, and, in the
demo, a dispatcher and a simulated supplier so a full order lifecycle runs on one machine.

Confirmations go through the library's message sender (``STOREFRONT_MESSAGE_SENDER``: with
``dev``, files under ``<instance>/outbox/`` that any mail reader opens; ``smtp`` sends them),
in the language the order was placed in. Their link is under ``STOREFRONT_PUBLIC_URL`` when
it is set, else under the address the payment's request came to (a shop's own host name when
the order was paid through it), else ``EXAMPLE_SHOP_BASE_URL`` (default
``http://127.0.0.1:5000``) for payments confirmed outside a request.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, has_request_context, request, url_for

from storefront_sdk import session_scope, signals
from storefront_sdk.commissions.ledger import settle
from storefront_sdk.db import utcnow
from storefront_sdk.dispatcher import Dispatcher
from storefront_sdk.messages import Message
from storefront_sdk.orders.confirmation import confirmation_message
from storefront_sdk.orders.models import Order
from storefront_sdk.shops.models import Shop
from storefront_sdk.testing.supplier_simulator import HttpApi, SupplierSimulator


def init_app(app: Flask) -> None:
    """Send a confirmation email for each paid order of ``app``."""

    def confirm(sender: Any, order_id: int, **_: Any) -> None:
        if sender is app:
            send_confirmation(app, order_id)

    signals.order_paid.connect(confirm, weak=False)


def send_confirmation(app: Flask, order_id: int) -> Message | None:
    """The confirmation email of order ``order_id``, sent through the message sender."""
    with app.app_context(), session_scope(app) as session:
        order = session.get(Order, order_id)
        if order is None:
            return None
        shop = session.scalars(sa.select(Shop).where(Shop.id == order.shop_id)).one()
        message = confirmation_message(order, shop.name, order_link(app, shop.slug, order.token))
    if message is not None:
        app.extensions["storefront"].messages.send(message)
    return message


def order_link(app: Flask, slug: str, token: str) -> str:
    """The full address of an order's page (see the module's docstring)."""
    public = app.config.get("STOREFRONT_PUBLIC_URL")
    if has_request_context():
        path = url_for("storefront_shop.order_page", slug=slug, token=token)
        return (public or request.host_url).rstrip("/") + path
    base = public or os.environ.get("EXAMPLE_SHOP_BASE_URL", "http://127.0.0.1:5000")
    return f"{base.rstrip('/')}/s/{slug}/orders/{token}"


def start_demo_workers(app: Flask, port: int, delay: float = 5.0) -> None:
    """Deliver webhooks (a dispatcher thread) to a simulated demo supplier that accepts,
    ships and delivers each order ``delay`` seconds apart, through this app's own API."""
    summary = Path(app.instance_path) / "demo.json"

    def run() -> None:
        time.sleep(1.0)  # let the server start listening
        key = json.loads(summary.read_text())["supplier_api_key"] if summary.exists() else None
        if key:
            base = f"http://127.0.0.1:{port}{app.config['STOREFRONT_API_PREFIX']}/supplier"
            simulator = SupplierSimulator(HttpApi(base, key), delay=delay)
            simulator.start()
            simulator.register_webhook()
            app.logger.warning("demo supplier simulator receiving webhooks at %s", simulator.url)
        Dispatcher(app).run_forever(poll=0.5)

    def settle_now_and_then() -> None:
        # What `flask storefront settle` does, every few seconds (cron, in production).
        window = timedelta(days=app.config["STOREFRONT_RETURN_WINDOW_DAYS"])
        while True:
            time.sleep(delay)
            with session_scope(app) as session:
                settle(session, utcnow(), window, commit=session.commit)

    threading.Thread(target=run, name="demo-workers", daemon=True).start()
    threading.Thread(target=settle_now_and_then, name="demo-settle", daemon=True).start()
