"""A host app that is not the example shop keeps what is its own: its CSRFProtect spares
the supplier API and the Stripe hook, the doors sit at the mount points it chose (or are
off), its routes never collide silently with ours, and its Jinja globals, filters and
Flask-Babel stay its own while our pages keep their translations."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import Babel
from host_app import STRIPE_KEYS, create_app, sign

from storefront_sdk import ConfigurationError, Storefront, session_scope
from storefront_sdk.shops.accounts import create_distributor
from storefront_sdk.shops.models import Shop
from storefront_sdk.sql import table_of
from storefront_sdk.testing.factories import make_supplier, product_payload

MOVED = {
    "STOREFRONT_SHOP_PREFIX": "/shop",
    "STOREFRONT_REFERRAL_PREFIX": "/go",
    "STOREFRONT_CONSOLE_PREFIX": "/partners",
    "STOREFRONT_ADMIN_PREFIX": "/platform",
    "STOREFRONT_API_PREFIX": "/partner-api",
    "STOREFRONT_HOOKS_PREFIX": "/payhooks",
}


def _shop_and_key(app: Flask) -> tuple[str, str, str]:
    with session_scope(app) as session:
        signup = create_distributor(session, "ann@example.com", "password123", shop_name="Ann")
        _, key = make_supplier(session)
        return signup.shop.slug, signup.distributor.referral_code, key


def _stripe_event(client, path: str = "/hooks/stripe"):
    body = json.dumps({"id": "evt_host", "type": "customer.created", "data": {"object": {}}})
    return client.post(path, data=body, headers={"Stripe-Signature": sign(body.encode())})


@pytest.mark.parametrize("csrf", ["before", "after"])
def test_a_hosts_csrf_protect_spares_the_supplier_api_and_the_stripe_hook(db_url, csrf):
    # Given a host app whose CSRFProtect is made before (or after) the storefront
    app = create_app(db_url, csrf=csrf, **STRIPE_KEYS, STOREFRONT_PAYMENT_PROVIDER="stripe")
    app.config["WTF_CSRF_CHECK_DEFAULT"] = True
    _slug, _code, key = _shop_and_key(app)
    client = app.test_client()
    # When a supplier pushes a product with its key, and Stripe sends a signed event
    pushed = client.put(
        "/api/v1/supplier/products",
        json={"products": [product_payload("TEA-1")]},
        headers={"Authorization": f"Bearer {key}"},
    )
    hook = _stripe_event(client)
    # Then both are answered by the storefront, not refused for a missing CSRF token
    assert pushed.status_code == 200, pushed.get_data(as_text=True)
    assert (hook.status_code, hook.get_data(as_text=True)) == (200, "ignored\n")
    # And the host's own forms are still protected
    assert client.post("/contact").status_code == 400


def test_every_door_sits_at_the_mount_point_the_host_chose(db_url):
    # Given a host that moves every door
    app = create_app(db_url, **STRIPE_KEYS, STOREFRONT_PAYMENT_PROVIDER="stripe", **MOVED)
    slug, code, key = _shop_and_key(app)
    client = app.test_client()
    # When its users open each door at its new place
    home = client.get(f"/shop/{slug}/")
    # Then each answers there, and the shop's links point inside the new mount point
    assert home.status_code == 200
    assert f'href="/shop/{slug}/cart"' in home.get_data(as_text=True)
    assert client.get(f"/shop/{slug}/poster.svg").status_code == 200
    assert client.get(f"/go/{code}").headers["Location"].startswith(f"/shop/{slug}/")
    assert client.get("/partners/login").status_code == 200
    assert client.get("/platform/login").status_code == 200
    products = client.get(
        "/partner-api/supplier/products", headers={"Authorization": f"Bearer {key}"}
    )
    assert products.status_code == 200
    assert client.get("/partner-api/openapi.json").status_code == 200
    assert _stripe_event(client, "/payhooks/stripe").status_code == 200
    # And nothing is left at the old places
    for old in (f"/s/{slug}/", f"/r/{code}", "/console/login", "/admin/login", "/hooks/stripe"):
        assert client.get(old).status_code in (404, 405), old


def test_a_shop_on_its_own_host_name_follows_the_moved_shop_prefix(db_url):
    # Given shops mounted at /shop, and Ann's shop on its own (verified) host name
    app = create_app(
        db_url, csrf="none", STOREFRONT_SHOP_PREFIX="/shop", STOREFRONT_CUSTOM_HOSTS=True
    )
    slug, _code, _key = _shop_and_key(app)
    with session_scope(app) as session:
        session.execute(
            sa.update(table_of(Shop))
            .where(table_of(Shop).c.slug == slug)
            .values(host="ann.example", host_status="verified")
        )
    # When a visitor opens that host's root
    page = app.test_client().get("/", headers={"Host": "ann.example"})
    # Then it is Ann's shop front page
    assert page.status_code == 200
    assert f'href="/shop/{slug}/cart"' in page.get_data(as_text=True)


def test_the_admin_and_the_open_sign_up_can_be_turned_off(db_url):
    # Given a host without the platform admin nor the console's open sign-up, and with an
    # /admin page of its own
    app = Flask("host_without_admin")
    app.config.update(TESTING=True, SECRET_KEY="host-secret-key-0123456789")
    app.add_url_rule("/admin/", "host_admin", lambda: "the host's own admin")
    Storefront(
        app,
        database_url=db_url,
        admin=False,
        console_signup=False,
        default_locale="en",
    )
    client = app.test_client()
    # When its visitors open /admin/, the sign-up page and the sign-in page
    admin = client.get("/admin/")
    join = client.get("/console/join")
    login = client.get("/console/login")
    # Then the admin is the host's, there is no sign-up, and sign-in does not offer one
    assert admin.get_data(as_text=True) == "the host's own admin"
    assert client.get("/admin/login").status_code == 404
    assert join.status_code == 404
    assert client.get("/console/join/ABCDEFGH").status_code == 404
    assert login.status_code == 200
    assert "/console/join" not in login.get_data(as_text=True)
    # And a distributor's team page offers no invite link that would lead nowhere
    with session_scope(app) as session:
        create_distributor(session, "ann@example.com", "password123", shop_name="Ann")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.get_data(as_text=True))
    signed_in = client.post(
        "/console/login",
        data={"email": "ann@example.com", "password": "password123", "csrf_token": token[1]},
    )
    assert signed_in.status_code == 303
    team = client.get("/console/team").get_data(as_text=True)
    assert "Distributors you recruited" in team
    assert "invite-link" not in team


def test_a_host_route_under_one_of_our_mount_points_is_refused_at_start_up(tmp_path):
    # Given a host with a page of its own under /console
    app = Flask("colliding_host", instance_path=str(tmp_path))
    app.config.update(TESTING=True)
    app.add_url_rule("/console/help", "help", lambda: "help")
    # When the storefront is added, then it refuses, naming the route
    with pytest.raises(ConfigurationError, match=r"/console/help \(help\)"):
        Storefront(app)


def test_a_host_route_added_after_the_storefront_fails_the_first_request(tmp_path):
    # Given a host that adds a route under the shops' mount point after the storefront
    app = create_app(f"sqlite:///{tmp_path}/x.sqlite3", csrf="none")
    app.add_url_rule("/s/special-offer", "offer", lambda: "offer")
    # When the first request comes in, then it fails loudly, naming the route
    with pytest.raises(ConfigurationError, match=r"/s/special-offer \(offer\)"):
        app.test_client().get("/")


def test_two_doors_on_one_path_are_refused(tmp_path):
    both = r"STOREFRONT_SHOP_PREFIX \('/console'\) and STOREFRONT_CONSOLE_PREFIX \('/console'\)"
    with pytest.raises(ConfigurationError, match=both + " overlap"):
        create_app(f"sqlite:///{tmp_path}/x.sqlite3", STOREFRONT_SHOP_PREFIX="/console")


def test_the_hosts_jinja_globals_and_filters_stay_its_own(db_url):
    # Given a host whose templates have their own `_` and a `datetimeformat` filter
    app = create_app(db_url, csrf="none")
    slug, _code, _key = _shop_and_key(app)
    client = app.test_client()
    # When a host page and a shop page in Chinese are rendered
    host_page = client.get("/").get_data(as_text=True)
    shop_page = client.get(f"/s/{slug}/?lang=zh-Hans").get_data(as_text=True)
    # Then the host's page used the host's own `_` and filter
    assert '<p id="greeting">host:Welcome</p>' in host_page
    assert '<p id="date">TODAY!</p>' in host_page
    assert app.jinja_env.globals["_"].__name__ == "host_gettext"
    # And the shop page still speaks the library's Chinese
    assert re.search(r'data-testid="cart-link">购物车 ', shop_page)


def test_a_hosts_own_flask_babel_is_kept(db_url):
    # Given a host that set up Flask-Babel with its own locale selector first
    app = Flask("host_with_babel")
    app.config.update(TESTING=True, SECRET_KEY="host-secret-key-0123456789")
    babel = Babel(app, locale_selector=lambda: "fr")
    Storefront(app, database_url=db_url)
    slug, _code, _key = _shop_and_key(app)
    # When a shop page in Chinese is rendered
    page = app.test_client().get(f"/s/{slug}/?lang=zh-Hans").get_data(as_text=True)
    # Then the host's Flask-Babel is the app's, and the page is in Chinese all the same
    assert app.extensions["babel"].instance is babel
    assert "购物车" in page


def test_a_host_layout_extends_the_librarys_and_fills_its_blocks(db_url):
    # Given a host whose storefront/shop/base.html extends the library's own layout
    app = create_app(db_url, csrf="none")
    slug, _code, _key = _shop_and_key(app)
    # When a shop page is rendered
    page = app.test_client().get(f"/s/{slug}/").get_data(as_text=True)
    # Then it has the host's block and the library's layout around it
    assert '<style id="host-layout">:root{--sf-radius:2px}</style>' in page
    assert 'class="sf-bar"' in page
    assert page.count("<!doctype html>") == 1
