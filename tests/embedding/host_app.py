"""A host app that is not the example shop: its own pages, Jinja globals and filters,
Flask-WTF's ``CSRFProtect`` and, when asked, its own Flask-Babel, with a storefront inside.

It imports nothing from the tests, so the wheel test runs it as a script in a virtual
environment that has only the installed wheel (``python host_app.py <command>``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from flask_wtf.csrf import CSRFProtect

from storefront_sdk import Storefront

#: The host's own templates (a page of its own, and a shop layout extending the library's).
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Test-only Stripe keys: events are signed with the webhook secret, nothing calls Stripe.
STRIPE_KEYS = {"STRIPE_SECRET_KEY": "sk_test_host", "STRIPE_WEBHOOK_SECRET": "whsec_host"}


def host_gettext(text: str) -> str:
    """The host's own ``_`` in its templates."""
    return f"host:{text}"


def shout(text: str) -> str:
    """A filter of the host's named like one of Flask-Babel's."""
    return text.upper() + "!"


def create_app(db_url: str, *, csrf: str = "before", **config: Any) -> Flask:
    """The host app on ``db_url``; its ``CSRFProtect`` is made ``before`` or ``after`` the
    storefront (or ``none``)."""
    app = Flask("host_app", template_folder=str(TEMPLATES))
    app.config.update(
        TESTING=True,
        SECRET_KEY="host-secret-key-0123456789",
        STOREFRONT_DATABASE_URL=db_url,
        STOREFRONT_DEFAULT_LOCALE="en",  # an English-speaking host
    )
    app.config.update(config)
    app.jinja_env.globals["_"] = host_gettext
    app.jinja_env.filters["datetimeformat"] = shout
    _add_pages(app)
    if csrf == "before":
        CSRFProtect(app)
    Storefront(app)
    if csrf == "after":
        CSRFProtect(app)
    return app


def _add_pages(app: Flask) -> None:
    @app.get("/")
    def welcome() -> str:
        return render_template("host_page.html", title="welcome")

    @app.post("/contact")
    def contact() -> str:
        return "sent"


def main(argv: list[str]) -> None:
    """``host_app.py <db_url>``: sets up a shop with a product and prints, as JSON, what a
    shop page, the supplier API and the Stripe hook answer with the host's CSRFProtect on."""
    from storefront_sdk import migrate, session_scope
    from storefront_sdk.shops.accounts import create_distributor
    from storefront_sdk.testing.factories import make_supplier, product_payload

    app = create_app(argv[0], **STRIPE_KEYS, STOREFRONT_PAYMENT_PROVIDER="stripe")
    migrate.upgrade(app.extensions["storefront"].engine)
    with session_scope(app) as session:
        slug = create_distributor(
            session, "ann@example.com", "password123", shop_name="Ann"
        ).shop.slug
        _, key = make_supplier(session)
    client = app.test_client()
    api = client.put(
        "/api/v1/supplier/products",
        json={"products": [product_payload("TEA-1")]},
        headers={"Authorization": f"Bearer {key}"},
    )
    body = json.dumps({"id": "evt_1", "type": "customer.created", "data": {"object": {}}})
    hook = client.post(
        "/hooks/stripe", data=body, headers={"Stripe-Signature": sign(body.encode())}
    )
    page = client.get(f"/s/{slug}/")
    import storefront_sdk

    print(
        json.dumps(
            {
                "api": api.status_code,
                "hook": [hook.status_code, hook.get_data(as_text=True)],
                "shop": [page.status_code, "host-layout" in page.get_data(as_text=True)],
                "library": storefront_sdk.__file__,
            }
        )
    )


def sign(body: bytes, secret: str = STRIPE_KEYS["STRIPE_WEBHOOK_SECRET"]) -> str:
    """A ``Stripe-Signature`` header of ``body`` for now."""
    import hashlib
    import hmac
    import time

    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


if __name__ == "__main__":
    main(sys.argv[1:])
