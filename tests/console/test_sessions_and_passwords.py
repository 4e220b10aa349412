"""Sessions that can be revoked (logout, password change, reset, idle timeout) and passwords
reset by an emailed link or changed, in the console and in the admin."""

from __future__ import annotations

import email
import re
import time
from pathlib import Path

import pytest
from console_support import PASSWORD, csrf_token, make_distributor, post, sign_in

from storefront_sdk.db import session_scope
from storefront_sdk.messages import DevOutboxSender
from storefront_sdk.platform_admins import create_admin

NEW_PASSWORD = "a-brand-new-password"


@pytest.fixture(autouse=True)
def english(app):
    """These pages in English (the platform's default language is Chinese)."""
    app.config["STOREFRONT_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def outbox(app, tmp_path: Path) -> Path:
    """Where the app's dev message sender writes this test's messages."""
    folder = tmp_path / "outbox"
    app.extensions["storefront"].messages = DevOutboxSender(folder, "no-reply@example.com")
    return folder


def _messages(outbox: Path) -> list[email.message.Message]:
    if not outbox.exists():
        return []
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(outbox.iterdir())]


def _link(message: email.message.Message) -> str:
    body = message.get_payload(decode=True).decode()
    found = re.search(r"http://localhost(/\S+)", body)
    assert found is not None, body
    return found.group(1)


def _copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _admin(app, role="admin"):
    with session_scope(app) as session:
        create_admin(session, "root@example.com", PASSWORD, role)
    client = app.test_client()
    response = client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_token(client, "/admin/login"),
            "email": "root@example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    return client


def test_a_copied_session_cookie_stops_working_after_logout(app, client):
    # Given a signed-in distributor whose cookie was copied
    make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")
    thief = _copy_of(app, client)
    assert thief.get("/console/").status_code == 200

    # When the distributor signs out
    assert post(client, "/console/logout", {}).status_code == 303

    # Then the copy no longer opens the console
    assert thief.get("/console/").status_code == 303


def test_a_copied_admin_cookie_stops_working_after_logout(app):
    admin = _admin(app)
    thief = _copy_of(app, admin)
    assert thief.get("/admin/").status_code == 200

    assert post(admin, "/admin/logout", {}, "/admin/").status_code == 303

    assert thief.get("/admin/").status_code == 303


def test_an_idle_console_session_ends_after_its_timeout(app, client):
    # Given a session last used just over 240 minutes ago (the default timeout)
    make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")
    assert client.get("/console/").status_code == 200
    with client.session_transaction() as session:
        session["sf_distributor"] = {
            **session["sf_distributor"],
            "seen": int(time.time()) - 240 * 60 - 5,
        }

    # When it is used again, then it is over
    assert client.get("/console/").status_code == 303


def test_an_admin_session_ends_after_a_shorter_idle_time(app):
    # Given an admin session last used 31 minutes ago (the admin's timeout is 30)
    admin = _admin(app)
    with admin.session_transaction() as session:
        session["sf_admin"] = {**session["sf_admin"], "seen": int(time.time()) - 31 * 60}

    # Then it is over, though a console session that old would still be alive
    assert admin.get("/admin/").status_code == 303
    assert app.config["STOREFRONT_ADMIN_SESSION_IDLE_MINUTES"] == 30
    assert app.config["STOREFRONT_SESSION_IDLE_MINUTES"] == 240


def test_a_used_session_stays_alive(app, client):
    make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")
    with client.session_transaction() as session:
        session["sf_distributor"] = {**session["sf_distributor"], "seen": int(time.time()) - 600}

    assert client.get("/console/").status_code == 200
    with client.session_transaction() as session:
        assert int(time.time()) - session["sf_distributor"]["seen"] < 60


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app, client):
    # Given a distributor signed in on two devices
    make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")
    other = _copy_of(app, client)

    # When they change their password with the current one
    response = post(
        client,
        "/console/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD},
        "/console/password",
    )

    # Then this session goes on, the other is over, and the new password signs in
    assert response.status_code == 303
    assert "password-changed" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert other.get("/console/").status_code == 303
    sign_in(app.test_client(), "ada@example.com", NEW_PASSWORD)


def test_the_password_change_needs_the_current_password(app, client):
    make_distributor(app, "ada@example.com")
    sign_in(client, "ada@example.com")

    response = post(
        client,
        "/console/password",
        {"current_password": "not-my-password", "password": NEW_PASSWORD},
        "/console/password",
    )

    assert response.status_code == 422
    assert "The current password is wrong." in response.get_data(as_text=True)
    sign_in(app.test_client(), "ada@example.com", PASSWORD)


def test_the_sign_in_page_offers_a_password_reset(client):
    page = client.get("/console/login").get_data(as_text=True)
    assert 'href="/console/password/forgot"' in page
    assert "Forgot password?" in page


def test_a_reset_link_is_mailed_and_works_once(app, client, outbox):
    # Given a distributor signed in elsewhere
    make_distributor(app, "ada@example.com")
    elsewhere = app.test_client()
    sign_in(elsewhere, "ada@example.com")

    # When they ask for a reset link
    asked = post(
        client, "/console/password/forgot", {"email": "Ada@Example.com"}, "/console/password/forgot"
    )

    # Then one message goes to them, with a link to the reset page
    assert asked.status_code == 200
    assert "we have sent it a link" in asked.get_data(as_text=True)
    [message] = _messages(outbox)
    assert message["To"] == "ada@example.com"
    link = _link(message)
    assert link.startswith("/console/password/reset/")

    # When they choose a new password through it
    reset = post(client, link, {"password": NEW_PASSWORD}, link)

    # Then they are signed in with it, the other session is over, and the link is dead
    assert reset.status_code == 303
    assert client.get("/console/").status_code == 200
    assert elsewhere.get("/console/").status_code == 303
    sign_in(app.test_client(), "ada@example.com", NEW_PASSWORD)
    again = app.test_client().get(link)
    assert again.status_code == 410
    assert "expired or was already used" in again.get_data(as_text=True)


def test_an_unknown_email_gets_the_same_answer_and_no_message(app, client, outbox):
    make_distributor(app, "ada@example.com")
    known = post(
        client, "/console/password/forgot", {"email": "ada@example.com"}, "/console/password/forgot"
    )

    unknown = post(
        client,
        "/console/password/forgot",
        {"email": "nobody@example.com"},
        "/console/password/forgot",
    )

    assert unknown.status_code == known.status_code == 200
    csrf = re.compile(r'value="[^"]*"')
    assert csrf.sub("", unknown.get_data(as_text=True)) == csrf.sub(
        "", known.get_data(as_text=True)
    )
    assert [m["To"] for m in _messages(outbox)] == ["ada@example.com"]


def test_reset_requests_are_limited(app, client, outbox):
    # Given 5 requests for one email (the default limit)
    make_distributor(app, "ada@example.com")
    for n in range(5):
        environ = {"REMOTE_ADDR": f"10.2.0.{n}"}
        token = csrf_token(client, "/console/password/forgot")
        data = {"csrf_token": token, "email": "ada@example.com"}
        assert (
            client.post("/console/password/forgot", data=data, environ_base=environ).status_code
            == 200
        )

    # When a sixth comes, then it is refused and nothing more is mailed
    refused = post(
        client, "/console/password/forgot", {"email": "ada@example.com"}, "/console/password/forgot"
    )
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert len(_messages(outbox)) == 5


def test_a_forged_reset_link_is_refused(app, client):
    make_distributor(app, "ada@example.com")

    response = client.get("/console/password/reset/not-a-real-token")

    assert response.status_code == 410


def test_the_reset_link_uses_the_public_url_when_set(app, client, outbox):
    app.config["STOREFRONT_PUBLIC_URL"] = "https://shops.example.com"
    make_distributor(app, "ada@example.com")

    post(
        client, "/console/password/forgot", {"email": "ada@example.com"}, "/console/password/forgot"
    )

    [message] = _messages(outbox)
    assert "https://shops.example.com/console/password/reset/" in message.get_payload()


def test_a_chinese_console_mails_the_reset_link_in_chinese(app, client, outbox):
    make_distributor(app, "ada@example.com")
    csrf_token(client, "/console/login?lang=zh-Hans")

    post(
        client, "/console/password/forgot", {"email": "ada@example.com"}, "/console/password/forgot"
    )

    [message] = _messages(outbox)
    assert str(email.header.make_header(email.header.decode_header(message["Subject"]))) == (
        "重置密码"
    )


def test_an_admin_resets_the_password_by_link(app, outbox):
    with session_scope(app) as session:
        create_admin(session, "root@example.com", PASSWORD)
    client = app.test_client()
    assert 'href="/admin/password/forgot"' in client.get("/admin/login").get_data(as_text=True)

    post(client, "/admin/password/forgot", {"email": "root@example.com"}, "/admin/password/forgot")
    [message] = _messages(outbox)
    link = _link(message)
    reset = post(client, link, {"password": NEW_PASSWORD}, link)

    assert message["To"] == "root@example.com"
    assert reset.status_code == 303
    assert client.get("/admin/").status_code == 200
    assert app.test_client().get(link).status_code == 410


def test_a_viewer_admin_changes_their_own_password(app):
    # Given a viewer (who may change nothing else) signed in on two devices
    viewer = _admin(app, role="viewer")
    other = _copy_of(app, viewer)

    # When they change their password
    response = post(
        viewer,
        "/admin/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD},
        "/admin/password",
    )

    # Then it is changed, and only this session goes on
    assert response.status_code == 303
    assert viewer.get("/admin/").status_code == 200
    assert other.get("/admin/").status_code == 303


def test_an_admin_password_change_needs_the_current_password(app):
    admin = _admin(app)

    response = post(
        admin, "/admin/password", {"current_password": "wrong", "password": NEW_PASSWORD}, "/admin/"
    )

    assert response.status_code == 422
    assert "The current password is wrong." in response.get_data(as_text=True)


class _BrokenSender:
    """A mail server that is down."""

    def send(self, message):
        raise ConnectionRefusedError("mail server down")


def test_a_sender_that_fails_changes_nothing_the_page_says(app, client, caplog):
    # Given a message sender that cannot send
    make_distributor(app, "ada@example.com")
    app.extensions["storefront"].messages = _BrokenSender()

    # When a reset link is asked for
    response = post(
        client, "/console/password/forgot", {"email": "ada@example.com"}, "/console/password/forgot"
    )

    # Then the page answers as for any email, and the failure is logged
    assert response.status_code == 200
    assert "we have sent it a link" in response.get_data(as_text=True)
    assert "could not be sent" in caplog.text
