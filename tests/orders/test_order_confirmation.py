"""The example shop's order confirmation: sent through the library's message sender after
the payment is committed, in the consumer's language, linking to the shop's real address."""

from __future__ import annotations

import email
import email.header
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from order_support import buy, dev_pay, stocked_shop

from example_shop import create_app
from storefront_sdk.db import session_scope
from storefront_sdk.shops.models import Shop


@pytest.fixture
def shop_app(db_url, tmp_path, monkeypatch):
    """The example shop on ``db_url`` with its instance folder (and outbox) in ``tmp_path``."""
    monkeypatch.setenv("EXAMPLE_SHOP_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "STOREFRONT_DATABASE_URL": db_url,
            "STOREFRONT_PAYMENT_PROVIDER": "dev",
            "STOREFRONT_WEBHOOK_ALLOW_HTTP": True,
            "STOREFRONT_WEBHOOK_ALLOW_PRIVATE": True,
        }
    )
    yield app
    app.extensions["storefront"].engine.dispose()


class ShopHostClient(FlaskClient):
    """A browser visiting the shop at ``http://shop.example.net``."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "http://shop.example.net")
        return super().open(*args, **kwargs)


def _outbox(app) -> list[email.message.Message]:
    folder = Path(app.instance_path) / "outbox"
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def _decoded(header: str) -> str:
    return str(email.header.make_header(email.header.decode_header(header)))


def test_the_confirmation_links_to_the_host_paid_on_in_the_consumers_language(shop_app):
    # Given a consumer shopping in Chinese on the shop's own address
    _supplier, shop, variants = stocked_shop(shop_app)
    shop_app.test_client_class = ShopHostClient
    client = shop_app.test_client()
    client.environ_base.update(HTTP_ACCEPT_LANGUAGE="zh-CN")
    token = buy(client, shop.slug, {variants["A"]: 1})

    # When they pay
    assert dev_pay(client, shop.slug, token).status_code == 303

    # Then one confirmation is sent, in Chinese, linking to that address
    [message] = _outbox(shop_app)
    body = message.get_payload(decode=True).decode()
    assert message["To"] == "buyer@example.com"
    assert "已支付" in _decoded(message["Subject"])
    assert f"http://shop.example.net/s/{shop.slug}/orders/{token}" in body
    assert "感谢" in body


def test_the_confirmation_links_under_the_public_url_in_an_english_shop(shop_app):
    # Given a public URL and a shop that speaks English
    shop_app.config["STOREFRONT_PUBLIC_URL"] = "https://shops.example.com"
    _supplier, shop, variants = stocked_shop(shop_app)
    with session_scope(shop_app) as session:
        session.execute(sa.update(Shop).where(Shop.id == shop.shop_id).values(locale="en"))
    client = shop_app.test_client()
    token = buy(client, shop.slug, {variants["A"]: 1})

    # When an order is paid
    dev_pay(client, shop.slug, token)

    # Then its confirmation is in English and links under the public URL
    [message] = _outbox(shop_app)
    body = message.get_payload(decode=True).decode()
    assert f"https://shops.example.com/s/{shop.slug}/orders/{token}" in body
    assert body.startswith("Thank you for your order")
