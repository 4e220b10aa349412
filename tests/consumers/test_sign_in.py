"""Signing in to a shop by one-time code: the code as the dev outbox delivers it (email or
SMS), wrong, reused, expired and void codes, codes stored hashed, the limits per contact and
per client address, and bad input answered with a message, never a 500."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from consumer_support import (
    app_on,
    ask_for_code,
    enter_code,
    last_code,
    outbox_files,
    sign_in,
    stocked_shop,
)
from shop_support import csrf_token, make_shop

from storefront_sdk.consumers import codes
from storefront_sdk.consumers.models import Consumer, SignInCode
from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.shops.models import Shop
from storefront_sdk.web.shop.pages import CONSUMER_KEY

SECRET = "test-secret-key-0123456789"


@pytest.fixture
def app(db_url: str, tmp_path: Path):
    with app_on(db_url, tmp_path / "instance") as app:
        yield app


def consumers(app) -> list[tuple[str | None, str | None]]:
    with session_scope(app) as session:
        return [(c.email, c.phone) for c in session.scalars(sa.select(Consumer))]


def test_a_consumer_signs_in_with_the_code_the_outbox_delivers(app):
    # Given a shop and a visitor who asks for a code by email
    shop = make_shop(app)
    client = app.test_client()
    asked = ask_for_code(client, shop.slug, " Ada@Example.com ")
    assert asked.status_code == 303
    assert asked.headers["Location"] == f"/s/{shop.slug}/account/login/code"

    # When they type the code of the message sent to them
    code = last_code(app, "ada@example.com")
    response = enter_code(client, shop.slug, code)

    # Then they are signed in as the new consumer, and "My account" says so
    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{shop.slug}/account/"
    assert consumers(app) == [("ada@example.com", None)]
    with client.session_transaction() as session:
        assert isinstance(session[CONSUMER_KEY], int)
    page = client.get(f"/s/{shop.slug}/account/").get_data(as_text=True)
    assert "Signed in as ada@example.com" in page
    assert ">My account</a>" in page  # the header's link


def test_a_code_by_phone_is_an_sms_in_the_outbox(app):
    # Given a visitor who signs in with their mobile number
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "+86 138-0013-8000")

    # Then the outbox holds a text message to that number
    [message] = outbox_files(app)
    assert message.suffix == ".sms"
    text = message.read_text(encoding="utf-8")
    assert text.startswith("To: +8613800138000\n")
    assert "Your sign-in code for ann is " in text

    # And its code signs them in as the consumer of that phone number
    assert enter_code(client, shop.slug, last_code(app, "+8613800138000")).status_code == 303
    assert consumers(app) == [(None, "+8613800138000")]


def test_a_wrong_code_is_refused_and_the_right_one_still_works(app):
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "ada@example.com")
    code = last_code(app, "ada@example.com")
    wrong = "000000" if code != "000000" else "111111"

    refused = enter_code(client, shop.slug, wrong)

    assert refused.status_code == 422
    assert "That code is not right." in refused.get_data(as_text=True)
    assert consumers(app) == []
    assert enter_code(client, shop.slug, code).status_code == 303


def test_a_code_signs_in_only_once(app):
    # Given a consumer who signed in with a code and signed out
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "ada@example.com")
    code = last_code(app, "ada@example.com")
    assert enter_code(client, shop.slug, code).status_code == 303
    page = client.get(f"/s/{shop.slug}/account/").get_data(as_text=True)
    client.post(f"/s/{shop.slug}/account/logout", data={"csrf_token": csrf_token(page)})

    # When someone types the same code again for the same contact
    with client.session_transaction() as session:
        session["sf_sign_in_contact"] = "email:ada@example.com"
    again = enter_code(client, shop.slug, code)

    # Then it is refused
    assert again.status_code == 422
    assert "This code has expired or has been used up." in again.get_data(as_text=True)
    with client.session_transaction() as session:
        assert CONSUMER_KEY not in session


def test_a_code_is_void_after_five_tries(app):
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "ada@example.com")
    code = last_code(app, "ada@example.com")
    wrong = "000000" if code != "000000" else "111111"

    statuses = [enter_code(client, shop.slug, wrong).status_code for _ in range(5)]
    last = enter_code(client, shop.slug, code)

    assert statuses == [422] * 5
    assert last.status_code == 422
    assert "has expired or has been used up" in last.get_data(as_text=True)


def test_a_newer_code_voids_the_older_one(app):
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "ada@example.com")
    ask_for_code(client, shop.slug, "ada@example.com")

    with session_scope(app) as session:
        tries = session.scalars(sa.select(SignInCode.tries).order_by(SignInCode.id)).all()
    assert tries == [codes.MAX_TRIES, 0]  # the first is void, the second untouched
    assert enter_code(client, shop.slug, last_code(app, "ada@example.com")).status_code == 303


def test_an_expired_code_is_refused(app):
    # Given a code sent ten minutes ago (STOREFRONT_SIGN_IN_CODE_MINUTES)
    contact = codes.contact_of("ada@example.com")
    assert contact is not None
    sent = utcnow()
    with session_scope(app) as session:
        code = codes.issue_code(session, contact, SECRET, sent, timedelta(minutes=10))

    # When it is typed a moment after it expired
    later = sent + timedelta(minutes=10, seconds=1)
    with session_scope(app) as session:
        counted = codes.count_try(session, contact, SECRET, later)
        with pytest.raises(codes.CodeRefused) as refused:
            codes.sign_in_with_code(session, counted, contact, code, SECRET, later)

    # Then it signs nobody in; a second before, it would have
    assert (counted, refused.value.reason) == (None, "expired")
    with session_scope(app) as session:
        just_before = sent + timedelta(minutes=9, seconds=59)
        counted = codes.count_try(session, contact, SECRET, just_before)
        assert codes.sign_in_with_code(session, counted, contact, code, SECRET, just_before) > 0


def test_codes_and_contacts_are_stored_only_as_keyed_hashes(app):
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "ada@example.com")
    code = last_code(app, "ada@example.com")

    with session_scope(app) as session:
        rows = session.execute(sa.select(SignInCode.__table__)).mappings().all()
    [row] = rows
    stored = " ".join(str(value) for value in row.values())
    assert code not in stored
    assert "ada@example.com" not in stored
    assert len(row["code_hash"]) == 64
    assert len(row["contact_key"]) == 64


def test_three_codes_per_contact_in_ten_minutes_then_429(app):
    shop = make_shop(app)
    client = app.test_client()

    statuses = [ask_for_code(client, shop.slug, "ada@example.com").status_code for _ in range(4)]
    refused = ask_for_code(client, shop.slug, "ADA@example.com")

    assert statuses == [303, 303, 303, 429]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many codes were asked for." in refused.get_data(as_text=True)
    assert len(outbox_files(app)) == 3
    # another contact behind the same address is not held up
    assert ask_for_code(client, shop.slug, "bob@example.com").status_code == 303


def test_ten_codes_per_client_address_in_ten_minutes_then_429(app):
    shop = make_shop(app)
    client = app.test_client()
    home = {"REMOTE_ADDR": "10.0.0.1"}

    statuses = [
        ask_for_code(client, shop.slug, f"member{n}@example.com", **home).status_code
        for n in range(11)
    ]
    elsewhere = ask_for_code(client, shop.slug, "other@example.com", REMOTE_ADDR="10.0.0.2")

    assert statuses == [303] * 10 + [429]
    assert elsewhere.status_code == 303
    assert len(outbox_files(app)) == 11


def test_the_answer_is_the_same_whether_or_not_the_contact_has_an_account(app):
    shop = make_shop(app)
    sign_in(app.test_client(), app, shop.slug, "ada@example.com")

    known = ask_for_code(app.test_client(), shop.slug, "ada@example.com")
    unknown = ask_for_code(app.test_client(), shop.slug, "nobody@example.com")

    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code,
        unknown.headers["Location"],
    )
    assert consumers(app) == [("ada@example.com", None)]  # nobody created before verifying


@pytest.mark.parametrize(
    "contact",
    ["", "   ", "not-an-address", "ada@", "12", "+86 138 abc", "x" * 300 + "@example.com"],
)
def test_a_bad_contact_is_refused_with_a_message(app, contact):
    shop = make_shop(app)
    client = app.test_client()

    response = ask_for_code(client, shop.slug, contact)

    assert response.status_code == 422
    assert "Enter an email address or a mobile phone number." in response.get_data(as_text=True)
    assert outbox_files(app) == []


#: Six full-width digits: digits to ``str.isdigit``, not to the code's form.
FULL_WIDTH = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize("code", ["", "abcdef", "12 34", "1234567890", FULL_WIDTH, "-12345"])
def test_a_code_that_is_not_six_digits_is_refused_with_a_message(app, code):
    shop = make_shop(app)
    client = app.test_client()
    ask_for_code(client, shop.slug, "ada@example.com")

    response = enter_code(client, shop.slug, code)

    assert response.status_code == 422
    assert "Enter the 6 digits of the code we sent." in response.get_data(as_text=True)


def test_forms_without_their_token_are_refused(app):
    shop = make_shop(app)
    client = app.test_client()
    client.get(f"/s/{shop.slug}/account/login")

    asked = client.post(f"/s/{shop.slug}/account/login", data={"contact": "ada@example.com"})
    with client.session_transaction() as session:
        session["sf_sign_in_contact"] = "email:ada@example.com"
    typed = client.post(f"/s/{shop.slug}/account/login/code", data={"code": "123456"})

    assert (asked.status_code, typed.status_code) == (422, 422)
    assert "This form has expired." in asked.get_data(as_text=True)
    assert outbox_files(app) == []


def test_the_code_page_without_a_code_sent_goes_back_to_the_sign_in(app):
    shop = make_shop(app)

    response = app.test_client().get(f"/s/{shop.slug}/account/login/code")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{shop.slug}/account/login"


def test_account_pages_ask_a_visitor_to_sign_in_and_come_back(app):
    shop = make_shop(app)
    client = app.test_client()

    response = client.get(f"/s/{shop.slug}/account/orders")

    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/s/{shop.slug}/account/login?next=/s/{shop.slug}/account/orders"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="/s/{shop.slug}/account/orders"' in page


def test_signing_in_goes_on_only_to_a_path_of_this_site(app):
    shop = make_shop(app)
    client = app.test_client()
    page = client.get(f"/s/{shop.slug}/account/login").get_data(as_text=True)
    client.post(
        f"/s/{shop.slug}/account/login",
        data={"csrf_token": csrf_token(page), "contact": "ada@example.com", "next": "//evil.test/"},
    )
    page = client.get(f"/s/{shop.slug}/account/login/code?next=//evil.test/").get_data(as_text=True)
    response = client.post(
        f"/s/{shop.slug}/account/login/code",
        data={
            "csrf_token": csrf_token(page),
            "code": last_code(app, "ada@example.com"),
            "next": "//evil.test/",
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/s/{shop.slug}/account/"


def test_a_session_naming_a_consumer_that_does_not_exist_is_signed_out(app):
    shop = make_shop(app)
    client = app.test_client()
    with client.session_transaction() as session:
        session[CONSUMER_KEY] = 999

    response = client.get(f"/s/{shop.slug}/account/")

    assert response.status_code == 303
    assert "/account/login" in response.headers["Location"]


def test_sign_in_works_on_a_shops_own_host_name(app):
    # Given a shop served on its own verified host name
    shop, _variant = stocked_shop(app)
    with session_scope(app) as session:
        row = session.get_one(Shop, shop.shop_id)
        row.host, row.host_status, row.host_token = "shop.example.net", "verified", "t" * 32
    app.config["STOREFRONT_CUSTOM_HOSTS"] = True
    client = app.test_client()
    base = "http://shop.example.net"

    # When the visitor signs in there
    page = client.get("/account/login", base_url=base).get_data(as_text=True)
    asked = client.post(
        "/account/login",
        base_url=base,
        data={"csrf_token": csrf_token(page), "contact": "ada@example.com"},
    )
    page = client.get(asked.headers["Location"], base_url=base).get_data(as_text=True)
    signed = client.post(
        "/account/login/code",
        base_url=base,
        data={"csrf_token": csrf_token(page), "code": last_code(app, "ada@example.com")},
    )

    # Then they are signed in, on that host
    assert asked.status_code == 303
    assert signed.status_code == 303
    account = client.get(signed.headers["Location"], base_url=base)
    assert "Signed in as ada@example.com" in account.get_data(as_text=True)


def test_a_code_emailed_in_chinese_is_readable_in_the_outbox_file(db_url: str, tmp_path: Path):
    # Given the platform's default language, Chinese
    with app_on(db_url, tmp_path / "zh", STOREFRONT_DEFAULT_LOCALE="zh-Hans") as app:
        shop = make_shop(app)
        client = app.test_client()

        # When a code is emailed
        ask_for_code(client, shop.slug, "ada@example.com")

        # Then the file's text is Chinese as written (not base64), the code in it standalone
        [message] = outbox_files(app)
        text = message.read_text(encoding="utf-8")
        assert "登录验证码：" in text  # noqa: RUF001
        assert enter_code(client, shop.slug, last_code(app, "ada@example.com")).status_code == 303
