"""Console security: one distributor never reaches another's shop, payloads render as text,
forms need the session's CSRF token, and every page is uncached under a strict CSP."""

from __future__ import annotations

import io
import re

import pytest
from console_support import (
    PASSWORD,
    add_products,
    csrf_token,
    make_distributor,
    shop_row,
    signed_in_client,
    variant_id,
)
from sqlmodel import select

from storefront_sdk.db import session_scope
from storefront_sdk.shops.models import ShopPrice, ShopProduct
from storefront_sdk.web.console import CSP

SCRIPT = "<script>alert(1)</script>"
SVG = '<svg onload="alert(1)">'
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SETTINGS = {
    "name": "A's shop",
    "primary_color": "#00ff00",
    "welcome_text": "hello",
    "locale": "en",
    "currency_display": "symbol",
    "host": "",
}


@pytest.fixture
def a(app):
    return make_distributor(app, "a@example.com", shop_name="Shop A")


@pytest.fixture
def b(app):
    return make_distributor(app, "b@example.com", shop_name="Shop B")


@pytest.fixture
def a_client(app, a):
    return signed_in_client(app, a)


@pytest.fixture
def b_client(app, b):
    return signed_in_client(app, b)


def _post(client, path, page="/console/", **data):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **data})


def _prices(app):
    with session_scope(app) as session:
        return sorted(
            (row.shop_id, row.variant_id, row.price_minor)
            for row in session.scalars(select(ShopPrice)).all()
        )


# --- tenancy ------------------------------------------------------------------------------


def test_no_console_url_names_a_shop(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("storefront_console."):
            # (``token``: the signed password-reset link, which names an account, not a
            # shop; ``public_id``: one of the shop's own promotions, looked up in it)
            assert rule.arguments <= {"code", "filename", "token", "public_id"}, rule.rule


@pytest.mark.parametrize(
    "page",
    ["/console/", "/console/settings", "/console/products", "/console/links", "/console/team"],
)
def test_no_console_form_names_a_shop(supplier, a_client, page):
    add_products(supplier, "P1")
    text = a_client.get(page).get_data(as_text=True)
    names = set(re.findall(r'name="([^"]+)"', text))
    assert not names & {"shop", "shop_id", "slug", "distributor", "distributor_id"}


def test_a_price_set_by_a_changes_only_as_shop(app, supplier, a, b, a_client, b_client):
    # Given B's own price for variant V
    add_products(supplier, "P1")
    variant = variant_id(supplier, "P1-M")
    _post(b_client, "/console/products/price", "/console/products", variant_id=variant, price="90")

    # When A sets a price for the same variant, adding B's shop id and slug to the form
    response = _post(
        a_client,
        "/console/products/price",
        "/console/products",
        variant_id=variant,
        price="70",
        shop_id=b.shop_id,
        slug=b.slug,
    )

    # Then only A's shop got a price; B's is untouched
    assert response.status_code == 303
    assert _prices(app) == sorted([(a.shop_id, variant, 7000), (b.shop_id, variant, 9000)])

    # And A's reset of that variant leaves B's price alone
    _post(a_client, "/console/products/price", "/console/products", variant_id=variant, reset="1")
    assert _prices(app) == [(b.shop_id, variant, 9000)]


def test_settings_saved_by_a_leave_b_alone(app, a, b, a_client):
    before = shop_row(app, b.shop_id)

    response = _post(
        a_client, "/console/settings", "/console/settings", shop_id=b.shop_id, **SETTINGS
    )

    assert response.status_code == 303
    assert shop_row(app, a.shop_id).name == "A's shop"
    after = shop_row(app, b.shop_id)
    assert (after.name, after.primary_color, after.welcome_text, after.updated_at) == (
        before.name,
        before.primary_color,
        before.welcome_text,
        before.updated_at,
    )


def test_curation_by_a_leaves_b_alone(app, supplier, a, b, a_client):
    [product] = add_products(supplier, "P1")

    _post(
        a_client,
        "/console/products/include",
        "/console/products",
        product_id=product,
        action="remove",
    )
    _post(a_client, "/console/products/markup", "/console/products", percent="20")
    _post(a_client, "/console/products/catalogue", "/console/products", follows_all="off")

    with session_scope(app) as session:
        rows = session.scalars(select(ShopProduct)).all()
        assert [(row.shop_id, row.included) for row in rows] == [(a.shop_id, False)]
    b_shop = shop_row(app, b.shop_id)
    assert (b_shop.markup_bp, b_shop.follows_all) == (None, True)


def test_logos_are_per_shop(app, a, b, a_client, b_client):
    def upload(client):
        token = csrf_token(client, "/console/settings")
        return client.post(
            "/console/settings/logo",
            data={"csrf_token": token, "logo": (io.BytesIO(PNG), "logo.png")},
            content_type="multipart/form-data",
        )

    upload(b_client)
    b_logo = shop_row(app, b.shop_id).logo_url

    upload(a_client)
    _post(a_client, "/console/settings/logo/remove", "/console/settings")

    assert shop_row(app, b.shop_id).logo_url == b_logo
    assert app.test_client().get(b_logo).status_code == 200


def test_the_team_lists_only_my_recruits(app, a, b, a_client):
    make_distributor(app, "a1@example.com", shop_name="Recruit of A", parent_code=a.code)
    make_distributor(app, "b1@example.com", shop_name="Recruit of B", parent_code=b.code)

    text = a_client.get("/console/team").get_data(as_text=True)

    assert "Recruit of A" in text
    assert "Recruit of B" not in text
    assert "b1@example.com" not in text
    assert "a1@example.com" not in text


def test_links_are_my_own(app, supplier, a, b, a_client):
    add_products(supplier, "P1")

    text = a_client.get("/console/links").get_data(as_text=True)

    assert f"/r/{a.code}" in text
    assert f"/console/join/{a.code}" in text
    assert f"/s/{a.slug}/poster.svg" in text
    assert b.code not in text
    assert f"/s/{b.slug}/" not in text


# --- escaping -----------------------------------------------------------------------------


def test_script_payloads_in_settings_render_as_text(app, a, a_client, client):
    # When A names the shop and welcomes visitors with markup
    response = _post(
        a_client,
        "/console/settings",
        "/console/settings",
        **{**SETTINGS, "name": SCRIPT, "welcome_text": SVG + SCRIPT},
    )
    assert response.status_code == 303

    # Then every page shows it as text
    for page in (
        a_client.get("/console/"),
        a_client.get("/console/settings"),
        client.get(f"/s/{a.slug}/"),
    ):
        text = page.get_data(as_text=True)
        assert SCRIPT not in text
        assert SVG not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_script_payloads_from_recruits_render_as_text(app, a, a_client):
    make_distributor(app, "r@example.com", name=SVG, shop_name=SCRIPT, parent_code=a.code)

    text = a_client.get("/console/team").get_data(as_text=True)

    assert SCRIPT not in text
    assert SVG not in text
    assert "&lt;script&gt;" in text


def test_an_inviter_named_with_markup_renders_as_text(app, client):
    inviter = make_distributor(app, "x@example.com", name=SCRIPT, shop_name=SVG)

    text = client.get(f"/console/join/{inviter.code}").get_data(as_text=True)

    assert SCRIPT not in text
    assert SVG not in text


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged", "ImFiYyI.Zz.bad"])
def test_a_form_without_the_sessions_token_is_refused(app, a, a_client, token):
    data = dict(SETTINGS)
    if token is not None:
        data["csrf_token"] = token

    response = a_client.post("/console/settings", data=data)

    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)
    assert shop_row(app, a.shop_id).name == "Shop A"


def test_a_token_from_another_session_is_refused(app, a, b, a_client, b_client):
    b_token = csrf_token(b_client, "/console/settings")

    response = a_client.post("/console/settings", data={"csrf_token": b_token, **SETTINGS})

    assert response.status_code == 400
    assert shop_row(app, a.shop_id).name == "Shop A"


def test_csrf_holds_even_when_the_host_disables_flask_wtf_csrf(app, a, a_client):
    app.config["WTF_CSRF_ENABLED"] = False

    response = a_client.post("/console/settings", data=SETTINGS)

    assert response.status_code == 400
    assert shop_row(app, a.shop_id).name == "Shop A"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/console/products/price", {"variant_id": "1", "price": "70"}),
        ("/console/products/markup", {"percent": "10"}),
        ("/console/products/catalogue", {"follows_all": "off"}),
        ("/console/settings/logo/remove", {}),
    ],
)
def test_every_console_form_needs_the_token(app, a, a_client, path, data):
    assert a_client.post(path, data=data).status_code == 400
    shop = shop_row(app, a.shop_id)
    assert (shop.markup_bp, shop.follows_all) == (None, True)


def test_logout_and_login_need_the_token(app, a, a_client, client):
    assert a_client.post("/console/logout").status_code == 400
    assert a_client.get("/console/").status_code == 200

    response = client.post("/console/login", data={"email": a.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/console/").status_code == 303


# --- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    ["/console/", "/console/settings", "/console/products", "/console/links", "/console/team"],
)
def test_console_pages_are_uncached_under_a_strict_csp(a_client, page):
    response = a_client.get(page)

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.get_data(as_text=True)  # only the same-origin file


def test_the_login_and_redirects_are_uncached_too(client):
    for response in (client.get("/console/login"), client.get("/console/")):
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers["Content-Security-Policy"] == CSP


def test_the_session_cookie_is_http_only_and_same_site(app, a, client):
    from console_support import sign_in

    response = sign_in(client, a.email)

    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
