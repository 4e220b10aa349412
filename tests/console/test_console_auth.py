"""Signing in and out of the console: one answer for every wrong credential, a limit on
failed attempts, every page behind the sign-in, and no redirect off the console."""

from __future__ import annotations

import pytest
from conftest import build_app
from console_support import PASSWORD, csrf_token, make_distributor, post, sign_in

CONSOLE_PAGES = [
    "/console/",
    "/console/settings",
    "/console/products",
    "/console/links",
    "/console/team",
]


def _login(client, email, password, environ=None):
    token = csrf_token(client)
    return client.post(
        "/console/login",
        data={"csrf_token": token, "email": email, "password": password},
        environ_base=environ or {},
    )


def test_right_credentials_open_the_console(app, client):
    # Given a distributor
    make_distributor(app, "ada@example.com", shop_name="Ada's corner")

    # When they sign in (email in any case)
    response = _login(client, "ADA@example.com", PASSWORD)

    # Then they land on the console home, which shows their shop
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/"
    home = client.get("/console/")
    assert home.status_code == 200
    assert "Ada&#39;s corner" in home.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
)
def test_wrong_credentials_get_one_message_and_401(app, client, email, password):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # an English browser
    # Given a distributor
    make_distributor(app, "ada@example.com")

    # When someone signs in with a wrong password or an unknown email
    response = _login(client, email, password)

    # Then the form comes back with 401 and the same message either way; not signed in
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 303


def test_failed_sign_ins_per_email_are_limited(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # an English browser
    # Given a distributor whose email got 10 wrong passwords from ten different clients
    make_distributor(app, "ada@example.com")
    for n in range(10):
        assert (
            _login(client, "ada@example.com", "nope", {"REMOTE_ADDR": f"10.0.0.{n}"}).status_code
            == 401
        )

    # When the right password comes, from yet another client
    response = _login(client, "ada@example.com", PASSWORD, {"REMOTE_ADDR": "10.0.1.1"})

    # Then it is refused with 429, a clear message and Retry-After
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert client.get("/console/").status_code == 303


def test_failed_sign_ins_per_client_are_limited_apart_from_accounts(db_url):
    # Given a client limit of 5 (apart from the per-account limit of 10) and one client
    # that failed 5 times, each time with another email
    app = build_app(db_url, STOREFRONT_LOGIN_CLIENT_RATE_LIMIT="5/15 minutes")
    client = app.test_client()
    make_distributor(app, "ada@example.com")
    for n in range(5):
        assert _login(client, f"guess{n}@example.com", "nope").status_code == 401

    # When it tries a real account with the right password
    response = _login(client, "ada@example.com", PASSWORD)

    # Then it is refused too; another client still signs in to that account
    assert response.status_code == 429
    other = app.test_client()
    assert (
        _login(other, "ada@example.com", PASSWORD, {"REMOTE_ADDR": "10.9.9.9"}).status_code == 303
    )
    app.extensions["storefront"].engine.dispose()


def test_logout_signs_out(app, client):
    # Given a signed-in distributor
    make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")

    # When they sign out
    response = post(client, "/console/logout", {})

    # Then they are back at the login and the console is closed
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/login"
    assert client.get("/console/").status_code == 303


def test_logout_is_post_only(app, client):
    make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")

    assert client.get("/console/logout").status_code == 405
    assert client.get("/console/").status_code == 200


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_every_page_needs_a_signed_in_distributor(client, path):
    # When a signed-out visitor opens a console page
    response = client.get(path)

    # Then they are sent to the login, which will bring them back
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/login?next=")
    assert "/console/" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/console/settings",
        "/console/products/price",
        "/console/products/include",
        "/console/settings/logo",
        "/console/products/markup",
    ],
)
def test_signed_out_posts_change_nothing_and_go_to_login(client, path):
    response = client.post(path, data={"csrf_token": csrf_token(client)})

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/console/login")


def test_the_login_returns_to_the_page_asked_for(app, client):
    make_distributor(app, "ada@example.com")
    location = client.get("/console/team").headers["Location"]

    token = csrf_token(client, location)
    response = client.post(
        location, data={"csrf_token": token, "email": "ada@example.com", "password": PASSWORD}
    )

    assert response.headers["Location"] == "/console/team"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/console/",
        "/\\evil.example",
        "/console//evil.example",
        "https://evil.example/console/",
        "/s/other-shop/",
        "javascript:alert(1)",
        "/console/../admin",
    ],
)
def test_next_never_leaves_the_console(app, client, target):
    # Given a distributor and a login link crafted to send them elsewhere
    make_distributor(app, "ada@example.com")
    token = csrf_token(client)

    # When they sign in through it
    response = client.post(
        "/console/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": "ada@example.com", "password": PASSWORD},
    )

    # Then they land on the console home
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/"


def test_changing_the_password_elsewhere_ends_the_session(app, client):
    from sqlmodel import select
    from werkzeug.security import generate_password_hash

    from storefront_sdk.db import session_scope
    from storefront_sdk.shops.models import Distributor

    account = make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")
    with session_scope(app) as session:
        found = session.scalars(select(Distributor).where(Distributor.id == account.id)).one()
        found.password_hash = generate_password_hash("a-new-password-123")

    assert client.get("/console/").status_code == 303
