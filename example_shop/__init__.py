"""The example shop: a complete app built only on the public API of ``storefront_sdk``.

Configuration comes from the environment: every ``STOREFRONT_*`` and ``STRIPE_*`` variable
overrides the config key of the same name, and ``SECRET_KEY`` the secret (generated and kept
in the instance folder when absent), ``SESSION_COOKIE_SECURE=1`` marks the session cookie
Secure (set it behind HTTPS). ``EXAMPLE_SHOP_INSTANCE_PATH`` moves the instance folder
(default: ``instance/`` beside the package), where the SQLite database and the demo summary
live. ``STOREFRONT_DEMO_MODE`` (``make demo`` sets it) shows the demo's logins on the front
page and takes test payments without Stripe keys; without it, neither.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request

from example_shop import orders
from storefront_sdk import Storefront
from storefront_sdk.config import from_environ
from storefront_sdk.testing.demo import demo_image_svg


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the example shop; ``config`` overrides the environment (tests use it)."""
    app = Flask(__name__, instance_path=os.environ.get("EXAMPLE_SHOP_INSTANCE_PATH"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY") or _instance_secret(app)
    # Behind HTTPS (production), set SESSION_COOKIE_SECURE=1: the console's session cookie
    # then never travels over plain HTTP. The demo serves http://127.0.0.1, so it is off.
    app.config["SESSION_COOKIE_SECURE"] = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in (
        "1",
        "true",
        "yes",
    )
    app.config.update(from_environ())
    # `make demo`: webhooks go to a simulated supplier on this machine, which fulfils each
    # order through the API (plain http to 127.0.0.1, allowed for the demo only).
    demo_workers = os.environ.get("EXAMPLE_SHOP_DEMO_WORKERS") == "1"
    if demo_workers:
        app.config.setdefault("STOREFRONT_WEBHOOK_ALLOW_HTTP", True)
        app.config.setdefault("STOREFRONT_WEBHOOK_ALLOW_PRIVATE", True)
    app.config.update(config or {})
    _choose_payments(app)
    Storefront(app)
    _add_pages(app)
    orders.init_app(app)
    if demo_workers:
        orders.start_demo_workers(app, int(os.environ.get("PORT", "5000")))
    return app


def _choose_payments(app: Flask) -> None:
    """Stripe when ``STRIPE_SECRET_KEY`` is set; else test payments (the dev provider) in
    demo mode only, and outside it none: the checkout then says payments are not set up."""
    if "STOREFRONT_PAYMENT_PROVIDER" in app.config:
        return
    if app.config.get("STRIPE_SECRET_KEY"):
        app.config["STOREFRONT_PAYMENT_PROVIDER"] = "stripe"
    elif app.config.get("STOREFRONT_DEMO_MODE"):
        app.config["STOREFRONT_PAYMENT_PROVIDER"] = "dev"


def _instance_secret(app: Flask) -> str:
    path = Path(app.instance_path) / "secret_key"
    try:
        # Created exclusively and private from the start: workers starting together all
        # end up reading the one secret the first of them wrote.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another worker may be between creating and writing the file
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it to generate a new secret")


def _add_pages(app: Flask) -> None:
    @app.get("/")
    def front_page() -> str:
        demo = _demo_summary(app)
        base = request.host_url.rstrip("/")
        return render_template(
            "front.html",
            demo=demo,
            api_base=f"{base}{app.config['STOREFRONT_API_PREFIX']}",
            curl=_curl_example(base, app.config["STOREFRONT_API_PREFIX"], demo),
        )

    @app.get("/demo-images/<name>.svg")
    def demo_image(name: str) -> Response:
        response = Response(demo_image_svg(name), mimetype="image/svg+xml")
        response.cache_control.public = True
        response.cache_control.max_age = 86400
        return response


def _demo_summary(app: Flask) -> dict[str, Any] | None:
    """What ``seed-demo`` created (its logins and API key), shown only in demo mode."""
    path = Path(app.instance_path) / "demo.json"
    if not app.config["STOREFRONT_DEMO_MODE"] or not path.exists():
        return None
    summary: dict[str, Any] = json.loads(path.read_text())
    return summary


#: The contract's example product, pushed by the front page's ``curl``.
EXAMPLE_PRODUCT = {
    "products": [
        {
            "external_id": "TEE-001",
            "title": "Organic cotton tee",
            "title_i18n": {"zh-Hans": "有机棉T恤"},
            "description": "Plain text or limited Markdown",
            "category": "Apparel/Tops",
            "images": ["https://cdn.example.com/tee.jpg"],
            "status": "active",
            "currency": "CNY",
            "variants": [
                {
                    "sku": "TEE-001-RED-M",
                    "options": {"Color": "Red", "Size": "M"},
                    "supply_price": 3500,
                    "retail_price": 6900,
                    "min_price": 5900,
                    "stock": 120,
                    "weight_grams": 180,
                }
            ],
        }
    ]
}


def _curl_example(base: str, prefix: str, demo: dict[str, Any] | None) -> str:
    key = demo["supplier_api_key"] if demo else "<your API key>"
    body = json.dumps(EXAMPLE_PRODUCT, ensure_ascii=False)
    return (
        f"curl -X PUT {base}{prefix}/supplier/products \\\n"
        f'  -H "Authorization: Bearer {key}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )
