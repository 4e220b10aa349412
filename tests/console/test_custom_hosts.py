"""Shops on their own host names: off unless the platform turns them on, never one of the
platform's own names, served only once verified (a DNS TXT record the platform finds, or a
platform admin's approval); pending or refused host names serve nothing of any shop and leave
the host app's own routes alone. On both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import build_app, new_supplier_client
from console_support import (
    Account,
    make_distributor,
    post,
    shop_row,
    signed_in_client,
)
from flask import Flask
from flask.testing import FlaskClient
from shop_support import edit_shop, listed_ids, product, product_ids, push

from storefront_sdk import ConfigurationError, migrate
from storefront_sdk.config import from_environ
from storefront_sdk.db import create_engine, session_scope
from storefront_sdk.platform_admins import create_admin
from storefront_sdk.storage import LocalFolderStorage

SETTINGS = {
    "name": "Ada",
    "primary_color": "#123abc",
    "welcome_text": "",
    "locale": "en",
    "currency_display": "symbol",
}
HOST_FRONT_PAGE = "the host app's own front page"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Zone:
    """A tiny DNS zone answering TXT look-ups in process: the platform's resolver in these
    tests (``app.extensions["storefront"].host_txt_lookup``)."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.failing = False
        self.asked: list[str] = []

    def lookup(self, name: str) -> Sequence[str]:
        self.asked.append(name)
        if self.failing:
            raise OSError("SERVFAIL")
        return list(self.records.get(name, []))


def _app(db_url: str, tmp_path: Path, **config: object) -> Flask:
    app = build_app(db_url, **{"STOREFRONT_DEFAULT_LOCALE": "en", **config})
    app.extensions["storefront"].storage = LocalFolderStorage(tmp_path / "uploads")

    @app.get("/")
    def front_page() -> str:  # the host app's own route, on every host
        return HOST_FRONT_PAGE

    return app


@pytest.fixture
def zone() -> Zone:
    return Zone()


@pytest.fixture
def hosts_app(db_url: str, tmp_path: Path, zone: Zone) -> Iterator[Flask]:
    """A platform that offers own host names, on ``platform.example`` (and ``www.``)."""
    app = _app(
        db_url,
        tmp_path,
        STOREFRONT_CUSTOM_HOSTS=True,
        STOREFRONT_PLATFORM_HOSTS=["www.platform.example"],
        SERVER_NAME="platform.example:8000",
    )
    app.extensions["storefront"].host_txt_lookup = zone.lookup
    yield app
    app.extensions["storefront"].engine.dispose()


@pytest.fixture
def off_app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A platform with the default settings (no own host names)."""
    app = _app(db_url, tmp_path)
    yield app
    app.extensions["storefront"].engine.dispose()


@pytest.fixture
def ada(hosts_app: Flask) -> Account:
    return make_distributor(hosts_app, "ada@example.com", shop_name="Ada")


@pytest.fixture
def ada_client(hosts_app: Flask, ada: Account) -> FlaskClient:
    return signed_in_client(hosts_app, ada)


@pytest.fixture
def catalogue(hosts_app: Flask) -> dict[str, int]:
    push(new_supplier_client(hosts_app), product("A"))
    return product_ids(hosts_app)


def _save_host(client: FlaskClient, host: str, **environ: str) -> object:
    page = client.get("/console/settings", **environ)
    assert page.status_code == 200, page.status_code
    token = _token_of(page.get_data(as_text=True))
    return client.post(
        "/console/settings", data={**SETTINGS, "host": host, "csrf_token": token}, **environ
    )


def _on(client: FlaskClient, host: str, path: str = "/") -> object:
    return client.get(path, headers={"Host": host})


def _text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined,no-any-return]


def _admin(app: Flask, role: str = "admin") -> FlaskClient:
    email = f"{role}@platform.example"
    with session_scope(app) as session:
        create_admin(session, email, "password123", role=role)
    client = app.test_client()
    page = _text(client.get("/admin/login"))
    answer = client.post(
        "/admin/login",
        data={"csrf_token": _token_of(page), "email": email, "password": "password123"},
    )
    assert answer.status_code == 303, _text(answer)
    return client


def _token_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token"
    return found.group(1)


def _decide(admin: FlaskClient, shop_id: int, decision: str) -> object:
    page = admin.get(f"/admin/hosts/{shop_id}/{decision}")
    assert page.status_code == 200, _text(page)
    return admin.post(
        f"/admin/hosts/{shop_id}/{decision}", data={"csrf_token": _token_of(_text(page))}
    )


# --- off unless the platform turns them on ----------------------------------------------------


def test_own_host_names_are_off_by_default_the_field_hidden_and_refused(off_app: Flask) -> None:
    # Given a platform with the default settings and a distributor
    ada = make_distributor(off_app, "ada@example.com")
    client = signed_in_client(off_app, ada)

    # When she opens her settings, then there is no host name field
    assert 'name="host"' not in _text(client.get("/console/settings"))

    # And when she posts one anyway, it is refused with a clear message and nothing is stored
    answer = _save_host(client, "shop.example.com")
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "This platform does not serve shops on their own domain names." in _text(answer)
    assert shop_row(off_app, ada.shop_id).host is None


def test_with_own_host_names_off_even_a_verified_host_serves_nothing(off_app: Flask) -> None:
    # Given a shop whose host name was verified, on a platform that turned them off
    ada = make_distributor(off_app, "ada@example.com")
    edit_shop(off_app, ada, lambda s, shop: _verified(shop, "shop.example.com"))

    # When a visitor comes on that host name, then the host app answers, not the shop
    answer = _on(off_app.test_client(), "shop.example.com")
    assert (answer.status_code, _text(answer)) == (200, HOST_FRONT_PAGE)  # type: ignore[attr-defined]


def _verified(shop: object, host: str) -> None:
    shop.host, shop.host_status, shop.host_token = host, "verified", "t" * 32  # type: ignore[attr-defined]


# --- never one of the platform's own names ------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["platform.example", "PLATFORM.example.", "www.platform.example", "console.platform.example"],
    ids=["server-name", "server-name-spelled-otherwise", "platform-hosts-entry", "request-host"],
)
def test_the_platforms_own_host_names_are_refused(
    hosts_app: Flask, ada: Account, host: str
) -> None:
    # Given Ada signed in on the console at console.platform.example
    client = hosts_app.test_client()
    environ = {"base_url": "http://console.platform.example"}
    token = _token_of(_text(client.get("/console/login", **environ)))
    client.post(
        "/console/login",
        data={"csrf_token": token, "email": ada.email, "password": "correct-horse-battery"},
        **environ,
    )

    # When she sets one of the platform's own names as her shop's host name
    answer = _save_host(client, host, **environ)

    # Then it is refused with a clear message, and nothing is stored
    assert answer.status_code == 422, _text(answer)  # type: ignore[attr-defined]
    shown = host.lower().rstrip(".")
    assert (
        f"{shown} is one of the platform&#39;s own host names: use a domain of your own."
        in _text(answer)
    )
    assert shop_row(hosts_app, ada.shop_id).host is None


def test_a_host_name_of_another_shop_is_refused(hosts_app: Flask, ada_client: FlaskClient) -> None:
    bo = make_distributor(hosts_app, "bo@example.com")
    assert _save_host(signed_in_client(hosts_app, bo), "shop.example.com").status_code == 303  # type: ignore[attr-defined]

    answer = _save_host(ada_client, "shop.example.com")

    assert answer.status_code == 409  # type: ignore[attr-defined]
    assert "Another shop already uses the host name shop.example.com." in _text(answer)


@pytest.mark.parametrize("host", ["not a host", "http://evil.example/", "localhost"])
def test_what_is_not_a_host_name_is_refused(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient, host: str
) -> None:
    answer = _save_host(ada_client, host)

    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "This is not a host name:" in _text(answer)
    assert shop_row(hosts_app, ada.shop_id).host is None


# --- pending until verified ---------------------------------------------------------------------


def test_a_pending_host_name_serves_nothing_of_the_shop(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient, catalogue: dict[str, int]
) -> None:
    # When Ada sets her own host name
    assert _save_host(ada_client, "Shop.Example.com").status_code == 303  # type: ignore[attr-defined]

    # Then it waits for verification, with a token of its own
    shop = shop_row(hosts_app, ada.shop_id)
    assert (shop.host, shop.host_status) == ("shop.example.com", "pending")
    assert re.fullmatch(r"[0-9a-f]{32}", shop.host_token or "")
    # And on that host the host app's own routes answer, and no page of the shop
    visitor = hosts_app.test_client()
    home = _on(visitor, "shop.example.com")
    assert (home.status_code, _text(home)) == (200, HOST_FRONT_PAGE)  # type: ignore[attr-defined]
    assert _on(visitor, "shop.example.com", f"/p/{catalogue['A']}").status_code == 404  # type: ignore[attr-defined]
    assert _on(visitor, "shop.example.com", "/cart").status_code == 404  # type: ignore[attr-defined]


def test_the_console_shows_the_txt_record_to_create(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient
) -> None:
    _save_host(ada_client, "shop.example.com")
    token = shop_row(hosts_app, ada.shop_id).host_token

    page = _text(ada_client.get("/console/settings?lang=en"))

    assert 'data-host-status="pending"' in page
    assert '<code data-testid="txt-name">_storefront-verify.shop.example.com</code>' in page
    assert f'<code data-testid="txt-value">storefront-verify={token}</code>' in page
    assert 'data-testid="check-host"' in page


def test_check_now_verifies_the_host_once_its_txt_record_is_there(
    hosts_app: Flask,
    ada: Account,
    ada_client: FlaskClient,
    zone: Zone,
    catalogue: dict[str, int],
) -> None:
    # Given Ada's pending host name, and no TXT record yet
    _save_host(ada_client, "shop.example.com")
    token = shop_row(hosts_app, ada.shop_id).host_token

    # When she checks, then she is told it is not there yet and nothing is served
    early = post(ada_client, "/console/settings/host/check", {}, "/console/settings")
    assert early.status_code == 409
    assert "The TXT record was not found yet." in _text(early)
    assert zone.asked == ["_storefront-verify.shop.example.com"]
    assert shop_row(hosts_app, ada.shop_id).host_status == "pending"

    # When a record with another text appears, it still does not verify
    zone.records["_storefront-verify.shop.example.com"] = ["storefront-verify=someone-else"]
    wrong = post(ada_client, "/console/settings/host/check", {}, "/console/settings")
    assert wrong.status_code == 409

    # When the right record is there and she checks again
    zone.records["_storefront-verify.shop.example.com"].append(f"storefront-verify={token}")
    done = post(ada_client, "/console/settings/host/check", {}, "/console/settings")

    # Then the host name is verified and the shop is served at its root
    assert done.status_code == 303
    assert done.headers["Location"] == "/console/settings?verified=1"
    assert shop_row(hosts_app, ada.shop_id).host_status == "verified"
    home = _on(hosts_app.test_client(), "shop.example.com")
    assert home.status_code == 200  # type: ignore[attr-defined]
    assert listed_ids(_text(home)) == [catalogue["A"]]


def test_a_failing_dns_look_up_is_a_clear_503(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient, zone: Zone
) -> None:
    _save_host(ada_client, "shop.example.com")
    zone.failing = True

    answer = post(ada_client, "/console/settings/host/check", {}, "/console/settings")

    assert answer.status_code == 503
    assert "The DNS check failed just now. Please try again later." in _text(answer)
    assert shop_row(hosts_app, ada.shop_id).host_status == "pending"


def test_without_a_dns_look_up_only_the_admin_verifies(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient
) -> None:
    hosts_app.extensions["storefront"].host_txt_lookup = None
    _save_host(ada_client, "shop.example.com")

    page = _text(ada_client.get("/console/settings"))
    answer = post(ada_client, "/console/settings/host/check", {}, "/console/settings")

    assert 'data-testid="check-host"' not in page
    assert "The platform checks it and approves the domain." in page
    assert answer.status_code == 409
    assert shop_row(hosts_app, ada.shop_id).host_status == "pending"


def test_a_changed_host_name_waits_again_with_a_new_token(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient
) -> None:
    _save_host(ada_client, "shop.example.com")
    edit_shop(hosts_app, ada, lambda s, shop: setattr(shop, "host_status", "verified"))
    first = shop_row(hosts_app, ada.shop_id).host_token

    assert _save_host(ada_client, "shop.example.com").status_code == 303  # type: ignore[attr-defined]
    assert shop_row(hosts_app, ada.shop_id).host_status == "verified"  # the same: unchanged
    assert _save_host(ada_client, "other.example.com").status_code == 303  # type: ignore[attr-defined]

    shop = shop_row(hosts_app, ada.shop_id)
    assert (shop.host, shop.host_status) == ("other.example.com", "pending")
    assert shop.host_token != first
    assert _text(_on(hosts_app.test_client(), "shop.example.com")) == HOST_FRONT_PAGE


# --- the platform admin approves or refuses -----------------------------------------------------


def test_an_approved_host_serves_the_shop_and_a_refused_one_nothing(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient, catalogue: dict[str, int]
) -> None:
    # Given Ada's pending host name, listed for the admin
    _save_host(ada_client, "shop.example.com")
    admin = _admin(hosts_app)
    listed = _text(admin.get("/admin/hosts"))
    assert "<code>shop.example.com</code>" in listed
    visitor = hosts_app.test_client()
    assert _text(_on(visitor, "shop.example.com")) == HOST_FRONT_PAGE  # looked up: not a shop

    # When the admin approves it (after the confirmation page)
    confirm = _text(admin.get(f"/admin/hosts/{ada.shop_id}/approve"))
    assert "Approve shop.example.com?" in confirm
    assert _decide(admin, ada.shop_id, "approve").status_code == 303  # type: ignore[attr-defined]

    # Then the shop is served on it at once
    assert shop_row(hosts_app, ada.shop_id).host_status == "verified"
    home = _on(visitor, "shop.example.com")
    assert listed_ids(_text(home)) == [catalogue["A"]]
    assert _on(visitor, "shop.example.com", f"/p/{catalogue['A']}").status_code == 200  # type: ignore[attr-defined]

    # When the admin refuses it after all
    assert _decide(admin, ada.shop_id, "refuse").status_code == 303  # type: ignore[attr-defined]

    # Then nothing of the shop is served there and the host app's routes answer again
    assert shop_row(hosts_app, ada.shop_id).host_status == "refused"
    assert _text(_on(visitor, "shop.example.com")) == HOST_FRONT_PAGE
    assert _on(visitor, "shop.example.com", f"/p/{catalogue['A']}").status_code == 404  # type: ignore[attr-defined]
    # And Ada is told, and cannot verify it herself
    assert 'data-host-status="refused"' in _text(ada_client.get("/console/settings"))
    again = post(ada_client, "/console/settings/host/check", {}, "/console/settings")
    assert again.status_code == 409


def test_a_decision_needs_a_post_with_the_forms_token(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient
) -> None:
    _save_host(ada_client, "shop.example.com")
    admin = _admin(hosts_app)

    without_token = admin.post(f"/admin/hosts/{ada.shop_id}/approve")
    unknown = _decide_raw(admin, ada.shop_id, "bless")
    no_shop = admin.get("/admin/hosts/999999/approve")

    assert without_token.status_code == 400
    assert unknown.status_code == 404  # type: ignore[attr-defined]
    assert no_shop.status_code == 404
    assert shop_row(hosts_app, ada.shop_id).host_status == "pending"


def _decide_raw(admin: FlaskClient, shop_id: int, decision: str) -> object:
    token = _token_of(_text(admin.get("/admin/hosts")))
    return admin.post(f"/admin/hosts/{shop_id}/{decision}", data={"csrf_token": token})


def test_an_approved_host_cannot_be_approved_twice(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient
) -> None:
    _save_host(ada_client, "shop.example.com")
    admin = _admin(hosts_app)
    assert _decide(admin, ada.shop_id, "approve").status_code == 303  # type: ignore[attr-defined]

    again = _decide_raw(admin, ada.shop_id, "approve")

    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "already verified" in _text(again)


# --- tenancy ------------------------------------------------------------------------------------


def test_another_distributor_neither_sees_nor_approves_a_shops_host(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient
) -> None:
    # Given Ada's pending host name
    _save_host(ada_client, "ada.example.net")
    token = shop_row(hosts_app, ada.shop_id).host_token or ""
    bo = make_distributor(hosts_app, "bo@example.com")
    bo_client = signed_in_client(hosts_app, bo)

    # Then Bob's console shows nothing of it
    bo_page = _text(bo_client.get("/console/settings"))
    assert "ada.example.net" not in bo_page
    assert token not in bo_page

    # And Bob cannot decide on it in the admin, nor verify it through his own check
    page = _text(bo_client.get("/console/settings"))
    answer = bo_client.post(
        f"/admin/hosts/{ada.shop_id}/approve", data={"csrf_token": _token_of(page)}
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/admin/login")  # the admin's sign-in
    assert bo_client.get("/admin/hosts").headers["Location"].endswith("/admin/login")
    checked = post(bo_client, "/console/settings/host/check", {}, "/console/settings")
    assert checked.status_code == 409
    # And an admin who may only look cannot either
    viewer = _admin(hosts_app, role="viewer")
    assert "ada.example.net" in _text(viewer.get("/admin/hosts"))
    assert _decide_raw(viewer, ada.shop_id, "approve").status_code == 403  # type: ignore[attr-defined]
    assert shop_row(hosts_app, ada.shop_id).host_status == "pending"


def test_the_admin_lists_host_names_by_status(hosts_app: Flask, ada: Account) -> None:
    edit_shop(hosts_app, ada, lambda s, shop: _verified(shop, "shop.example.com"))
    admin = _admin(hosts_app)

    assert "shop.example.com" not in _text(admin.get("/admin/hosts"))  # pending ones
    assert "shop.example.com" in _text(admin.get("/admin/hosts?status=verified"))
    assert admin.get("/admin/hosts?status=nonsense").status_code == 200


def test_check_now_is_refused_when_own_host_names_are_off(
    hosts_app: Flask, ada: Account, ada_client: FlaskClient
) -> None:
    _save_host(ada_client, "shop.example.com")
    hosts_app.config["STOREFRONT_CUSTOM_HOSTS"] = False

    answer = post(ada_client, "/console/settings/host/check", {}, "/console/settings")

    assert answer.status_code == 404
    assert "This platform does not serve shops on their own domain names." in _text(answer)
    assert shop_row(hosts_app, ada.shop_id).host_status == "pending"


# --- settings and the migration -----------------------------------------------------------------


def test_platform_hosts_come_from_the_environment_separated_by_commas() -> None:
    values = from_environ({"STOREFRONT_PLATFORM_HOSTS": "www.platform.example, platform.example"})

    assert values == {"STOREFRONT_PLATFORM_HOSTS": ["www.platform.example", "platform.example"]}


@pytest.mark.parametrize("value", ["www.platform.example", ["two words"], [""], [3]])
def test_a_bad_platform_hosts_setting_stops_the_app(db_url: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match="STOREFRONT_PLATFORM_HOSTS must be a list"):
        build_app(db_url, STOREFRONT_PLATFORM_HOSTS=value)


def test_host_names_set_before_verification_existed_wait_for_it(db_url: str) -> None:
    # Given a database before migration 0008 with a shop on its own host name
    engine = create_engine(db_url)
    migrate.downgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sf_distributor (email, password_hash, name, referral_code, status, "
                "created_at) VALUES ('old@example.com', 'x', '', 'OLD1', 'active', :now)"
            ),
            {"now": datetime(2026, 1, 1, tzinfo=UTC)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO sf_shop (distributor_id, slug, name, primary_color, welcome_text, "
                "locale, host, currency_display, follows_all, created_at, updated_at) "
                "SELECT id, 'old', 'Old', '#e4393c', '', 'en', 'old.example.com', 'symbol', "
                ":yes, :now, :now FROM sf_distributor"
            ),
            {"now": datetime(2026, 1, 1, tzinfo=UTC), "yes": True},
        )

    # When it is upgraded
    migrate.upgrade(engine)

    # Then the host name waits for verification, with a token of its own
    with engine.connect() as conn:
        status, token = conn.execute(sa.text("SELECT host_status, host_token FROM sf_shop")).one()
    engine.dispose()
    assert status == "pending"
    assert re.fullmatch(r"[0-9a-f]{32}", token)
