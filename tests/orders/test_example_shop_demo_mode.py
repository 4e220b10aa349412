"""No demo secrets outside the demo: the example shop shows the demo's logins and API key on
its front page, and takes test payments without Stripe keys, only in demo mode
(``STOREFRONT_DEMO_MODE``, which ``make demo`` sets); outside it the front page shows
neither and its checkout refuses with "payments are not set up"."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from order_support import add_to_cart, checkout, order_token, stocked_shop
from shop_support import edit_shop

from example_shop import create_app

#: What ``seed-demo`` printed into ``instance/demo.json`` (its shape; made-up values).
SUMMARY = {
    "supplier_id": 1,
    "supplier_api_key": "sfk_demo_0123456789abcdef",
    "products": {"created": 36, "updated": 0, "unchanged": 0},
    "shops": [
        {
            "shop_slug": "lily",
            "shop_name": "Lily",
            "referral_code": "LILY01",
            "email": "lily@demo.example",
            "password": "demo-lily-2026",
            "recruited_by": None,
        }
    ],
    "admin": {"email": "admin@demo.example", "password": "demo-admin-2026"},
}
SECRETS = ("demo-lily-2026", "demo-admin-2026", "sfk_demo_0123456789abcdef")


@pytest.fixture
def instance(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder with a migrated database and a demo summary."""
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "storefront.sqlite3")
    (folder / "demo.json").write_text(json.dumps(SUMMARY))
    monkeypatch.setenv("EXAMPLE_SHOP_INSTANCE_PATH", str(folder))
    for name in ("EXAMPLE_SHOP_DEMO_WORKERS", "STOREFRONT_DEMO_MODE", "STRIPE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return folder


def _shop_app(instance: Path, **config: object) -> Iterator[Flask]:
    url = f"sqlite:///{instance / 'storefront.sqlite3'}"
    app = create_app({"STOREFRONT_DATABASE_URL": url, "TESTING": True, **config})
    yield app
    app.extensions["storefront"].engine.dispose()


@pytest.fixture
def production(instance: Path) -> Iterator[Flask]:
    yield from _shop_app(instance)


@pytest.fixture
def demo(instance: Path) -> Iterator[Flask]:
    yield from _shop_app(instance, STOREFRONT_DEMO_MODE=True)


def test_outside_demo_mode_the_front_page_shows_no_demo_login_or_key(production: Flask) -> None:
    # Given the example shop, seeded once, started outside demo mode
    # When its front page is opened
    page = production.test_client().get("/").get_data(as_text=True)
    # Then no demo password or API key is on it
    assert [secret for secret in SECRETS if secret in page] == []
    assert "No demo shops yet" in page


def test_in_demo_mode_the_front_page_lists_the_demo_logins(demo: Flask) -> None:
    # Given the example shop in demo mode
    # When its front page is opened
    page = demo.test_client().get("/").get_data(as_text=True)
    # Then it lists the demo logins and the supplier's key
    assert [secret for secret in SECRETS if secret in page] == list(SECRETS)


def test_outside_demo_mode_without_stripe_keys_checkout_takes_no_test_payment(
    production: Flask,
) -> None:
    # Given the example shop outside demo mode, without Stripe keys, and a shop with stock
    _, shop, skus = stocked_shop(production)
    edit_shop(production, shop, lambda _session, found: setattr(found, "locale", "en"))
    client = production.test_client()
    add_to_cart(client, shop.slug, skus["A"])
    # When a consumer places the order
    answer = checkout(client, shop.slug)
    # Then it is refused: the shop takes no payments
    assert production.extensions["storefront"].payments is None
    assert answer.status_code == 422
    assert "Payments are not set up in this shop yet." in answer.get_data(as_text=True)


def test_in_demo_mode_checkout_takes_test_payments(demo: Flask) -> None:
    # Given the example shop in demo mode without Stripe keys
    _, shop, skus = stocked_shop(demo)
    client = demo.test_client()
    add_to_cart(client, shop.slug, skus["A"])
    # When a consumer places the order
    token = order_token(checkout(client, shop.slug))
    # Then it goes to the test payment page
    assert demo.extensions["storefront"].payments.name == "dev"
    page = client.get(f"/s/{shop.slug}/orders/{token}/pay").get_data(as_text=True)
    assert 'data-testid="dev-pay"' in page
