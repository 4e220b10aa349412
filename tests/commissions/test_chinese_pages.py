"""In Simplified Chinese, the console and the admin have no English left: every page is
walked with data (orders in several statuses, ledger entries of every kind, payouts, a form
refused), and its visible text must hold no English word but the data's own (names, emails,
SKUs, codes) — no status, label, ledger kind or message left untranslated."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world
from flask.testing import FlaskClient
from promotion_pages_support import add_promotion

from storefront_sdk.commissions.models import CommissionEntry
from storefront_sdk.orders.models import Order
from storefront_sdk.promotions.models import FLASH_SALE, SHOP, SUPPLIER, THRESHOLD
from storefront_sdk.shops.models import Shop

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_HIDDEN = re.compile(r"<(script|style|code|title)\b.*?</\1>", re.S)
_TAG = re.compile(r"<[^>]+>")
#: A word of letters only (not part of an order number, a SKU or a code).
_WORD = re.compile(r"(?<![\w-])[A-Za-z][A-Za-z']+(?![\w-])")
#: English words the data itself brings (names, emails, products, the supplier's category
#: path and option names, references), the names of the languages in the language switch,
#: and technical names Chinese pages keep as they are.
_DATA = {
    "Ann", "Bob", "Product", "TEE", "CAP", "TEA", "Supplier", "Apparel", "Tops", "Size",
    "SF", "BANK", "REF", "example", "com", "ann", "bob", "buyer", "root", "Li", "Lei",
    "Nanjing", "Road", "Shanghai", "damaged", "out", "of", "stock", "http", "localhost",
    "console", "join", "admin", "English",
    "CNY", "CN", "ID", "SKU", "API", "CSV", "Stripe", "Connect", "Webhook", "PNG", "JPEG",
    "WebP", "MB", "SVG", "UTC",
    # The IANA time zone promotion forms are typed in ("Asia/Shanghai").
    "Asia",
    # The refund reason a supplier's cancellation writes ("cancelled by the supplier: ..."),
    # stored as text (refund kinds belong to the refunds work).
    "cancelled", "by", "the", "supplier",
}  # fmt: skip


def _visible_words(page: str) -> set[str]:
    text = html_lib.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))
    return {word for word in _WORD.findall(text) if word not in _DATA}


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url, STOREFRONT_PAYOUT_MINIMUM_MINOR=100)
    # Orders in several statuses and ledger entries of every kind: earned, settled,
    # reversed (a cancellation, a refund), paid out.
    delivered = made.buy({"TEE": 1, "CAP": 1})
    made.deliver(delivered)
    made.settle()
    made.refund(delivered, "CAP", 500)
    made.pay_out(made.bob)
    cancelled = made.buy({"TEA": 2})
    made.cancel(cancelled, "TEA", 1)
    made.buy({"CAP": 1})
    yield made
    dispose(made)


def _signed_in(world: World, door: str, email: str) -> FlaskClient:
    client = world.app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    page = client.get(f"/{door}/login").get_data(as_text=True)
    found = _CSRF.search(page)
    assert found
    answer = client.post(
        f"/{door}/login",
        data={"csrf_token": found.group(1), "email": email, "password": "password123"},
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def _english_on(client: FlaskClient, paths: list[str]) -> dict[str, set[str]]:
    found = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert '<html lang="zh-Hans">' in response.get_data(as_text=True), path
        words = _visible_words(response.get_data(as_text=True))
        if words:
            found[path] = words
    return found


def _ledger_kinds(world: World) -> set[str]:
    with world.session() as session:
        return set(session.scalars(sa.select(CommissionEntry.kind).distinct()))


def test_every_console_page_is_all_chinese(world: World) -> None:
    kinds = {"earned", "settled", "reversed", "payout_requested", "payout_sent"}
    assert kinds <= _ledger_kinds(world)  # the data is there
    bob = _signed_in(world, "console", "bob@example.com")
    pages = ["/console/", "/console/links", "/console/team", "/console/orders"]
    pages += ["/console/settings", "/console/products", "/console/earnings", "/console/payouts"]
    assert _english_on(bob, pages) == {}
    ann = _signed_in(world, "console", "ann@example.com")
    assert _english_on(ann, ["/console/team", "/console/earnings"]) == {}


def test_a_refused_console_form_speaks_chinese(world: World) -> None:
    bob = _signed_in(world, "console", "bob@example.com")
    page = bob.get("/console/settings").get_data(as_text=True)
    token = _CSRF.search(page)
    assert token
    refused = bob.post(
        "/console/settings",
        data={"csrf_token": token.group(1), "name": "", "primary_color": "red", "locale": ""},
    )
    assert refused.status_code in (400, 422)
    assert _visible_words(refused.get_data(as_text=True)) == set()


def test_every_admin_page_is_all_chinese(world: World) -> None:
    admin = _signed_in(world, "admin", "root@example.com")
    with world.session() as session:
        numbers = list(session.scalars(sa.select(Order.number)))
    pages = ["/admin/", "/admin/suppliers", "/admin/distributors", "/admin/rates"]
    pages += ["/admin/orders", "/admin/deliveries?status=pending", "/admin/payouts?status=paid"]
    pages += ["/admin/statements"] + [f"/admin/orders/{number}" for number in numbers]
    assert _english_on(admin, pages) == {}


def test_a_refused_admin_form_speaks_chinese(world: World) -> None:
    admin = _signed_in(world, "admin", "root@example.com")
    token = _CSRF.search(admin.get("/admin/rates").get_data(as_text=True))
    assert token
    refused = admin.post(
        "/admin/rates",
        data={"csrf_token": token.group(1), "scope": "platform", "level1": "ten", "level2": ""},
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "比例" in page  # "A rate is a percentage such as 10 or 2.5.", in Chinese
    assert _visible_words(page) == set()


def _promotions(world: World) -> list[str]:
    """A shop coupon of Bob's shop, a platform threshold, a supplier's flash sale (one of
    them ended): their public ids."""
    with world.session() as session:
        shop_id = session.scalars(sa.select(Shop.id).where(Shop.slug == world.shop_slug)).one()
    made = [
        add_promotion(world.app, name="新人券", funder=SHOP, shop_id=shop_id, uses=2),
        add_promotion(
            world.app,
            name="满减",
            kind=THRESHOLD,
            amount_off_minor=None,
            claimable=False,
            tiers=[{"spend": 10000, "off": 2000}],
        ),
        add_promotion(
            world.app,
            name="品牌日",
            kind=FLASH_SALE,
            funder=SUPPLIER,
            supplier_id=world.supplier_id,
            variant_id=world.variants["TEE"],
            price_minor=3900,
            quota=10,
            amount_off_minor=None,
            claimable=False,
            ended_at=world.now,
        ),
    ]
    return [promotion.public_id for promotion in made]


def test_the_promotion_pages_are_all_chinese(world: World) -> None:
    own, threshold, flash = _promotions(world)
    bob = _signed_in(world, "console", "bob@example.com")
    pages = ["/console/promotions", f"/console/promotions/{own}/end"]
    assert _english_on(bob, pages) == {}
    admin = _signed_in(world, "admin", "root@example.com")
    pages = ["/admin/promotions", f"/admin/promotions/{threshold}/end"]
    assert _english_on(admin, [*pages, f"/admin/promotions/{flash}/end"]) == {}


def test_a_refused_promotion_form_speaks_chinese(world: World) -> None:
    bob = _signed_in(world, "console", "bob@example.com")
    token = _CSRF.search(bob.get("/console/promotions").get_data(as_text=True))
    assert token
    refused = bob.post(
        "/console/promotions/coupon",
        data={"csrf_token": token.group(1), "discount": "amount", "amount_off": "五元",
              "currency": "CNY", "code": "BOB5", "starts": "2030-01-01T08:00",
              "ends": "2030-01-02T08:00"},
    )  # fmt: skip
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "请填写金额数字" in page
    assert _visible_words(page) == set()
