"""The example shop's reactions to orders: a confirmation email per paid order, and, in the
demo, a dispatcher and a simulated supplier so a full order lifecycle runs on one machine.

Emails go to ``<instance>/outbox/<order number>.eml`` (open them with any mail reader), or
through SMTP when ``EXAMPLE_SHOP_SMTP_HOST`` is set (``EXAMPLE_SHOP_SMTP_PORT``, default
25; ``EXAMPLE_SHOP_MAIL_FROM``).
"""

from __future__ import annotations

import json
import os
import smtplib
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from storefront_sdk import session_scope, signals
from storefront_sdk.commissions.ledger import settle
from storefront_sdk.db import utcnow
from storefront_sdk.dispatcher import Dispatcher
from storefront_sdk.money import money_formatter
from storefront_sdk.orders.models import Order
from storefront_sdk.shops.models import Shop
from storefront_sdk.testing.supplier_simulator import HttpApi, SupplierSimulator


def init_app(app: Flask) -> None:
    """Send a confirmation email for each paid order of ``app``."""

    def confirm(sender: Any, order_id: int, **_: Any) -> None:
        if sender is app:
            send_confirmation(app, order_id)

    signals.order_paid.connect(confirm, weak=False)


def send_confirmation(app: Flask, order_id: int) -> EmailMessage | None:
    """The confirmation email of order ``order_id``, written to the outbox (or sent)."""
    with session_scope(app) as session:
        order = session.get(Order, order_id)
        if order is None or not order.contact_email:
            return None
        shop = session.scalars(sa.select(Shop).where(Shop.id == order.shop_id)).one()
        total = money_formatter(order.currency, "en", "symbol")(order.total_minor)
        base = os.environ.get("EXAMPLE_SHOP_BASE_URL", "http://127.0.0.1:5000")
        message = EmailMessage()
        message["From"] = os.environ.get("EXAMPLE_SHOP_MAIL_FROM", f"orders@{shop.slug}.example")
        message["To"] = order.contact_email
        message["Subject"] = f"{shop.name}: order {order.number} is paid"
        message.set_content(
            f"Thank you for your order {order.number} ({total}).\n\n"
            f"Follow it here: {base}/s/{shop.slug}/orders/{order.token}\n"
        )
    host = os.environ.get("EXAMPLE_SHOP_SMTP_HOST")
    if host:
        port = int(os.environ.get("EXAMPLE_SHOP_SMTP_PORT", "25"))
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.send_message(message)
    else:
        outbox = Path(app.instance_path) / "outbox"
        outbox.mkdir(exist_ok=True)
        (outbox / f"{order.number}.eml").write_bytes(bytes(message))
    return message


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
