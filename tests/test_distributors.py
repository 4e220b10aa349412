"""Distributor accounts and their shops: sign-up, recruitment, sign-in."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from storefront_sdk import Conflict, NotFound, ValidationError
from storefront_sdk.db import session_scope
from storefront_sdk.shops.accounts import (
    CODE_ALPHABET,
    authenticate_distributor,
    create_distributor,
)
from storefront_sdk.shops.models import DEFAULT_LOCALE, DEFAULT_PRIMARY_COLOR, Distributor


def test_a_new_distributor_gets_a_shop_and_a_referral_code(app):
    with session_scope(app) as session:
        signup = create_distributor(session, "Ann@Example.com", "correct horse", name="Ann")
        distributor, shop = signup.distributor, signup.shop
    assert distributor.email == "ann@example.com"
    assert len(distributor.referral_code) == 8
    assert set(distributor.referral_code) <= set(CODE_ALPHABET)
    assert (shop.name, shop.slug) == ("Ann", "ann")
    assert (shop.primary_color, shop.locale) == (DEFAULT_PRIMARY_COLOR, DEFAULT_LOCALE)
    assert shop.distributor_id == distributor.id


def test_the_password_is_stored_only_as_a_scrypt_hash(app):
    with session_scope(app) as session:
        create_distributor(session, "ann@example.com", "correct horse")
    with session_scope(app) as session:
        stored = session.query(Distributor).one()
        assert stored.password_hash.startswith("scrypt:")
        assert "correct horse" not in stored.password_hash


def test_sign_in_is_case_insensitive_on_email_and_exact_on_password(app):
    with session_scope(app) as session:
        create_distributor(session, "ann@example.com", "correct horse")
    with session_scope(app) as session:
        assert authenticate_distributor(session, " ANN@example.com", "correct horse") is not None
        assert authenticate_distributor(session, "ann@example.com", "Correct horse") is None
        assert authenticate_distributor(session, "bob@example.com", "correct horse") is None


def test_a_recruit_records_the_recruiter(app):
    with session_scope(app) as session:
        ann = create_distributor(session, "ann@example.com", "correct horse").distributor
        bob = create_distributor(
            session, "bob@example.com", "correct horse", parent_code=ann.referral_code.lower()
        ).distributor
        assert bob.parent_id == ann.id
        assert ann.parent_id is None


def test_shop_slugs_stay_unique_and_readable(app):
    with session_scope(app) as session:
        first = create_distributor(session, "a@example.com", "password1", shop_name="Tea House")
        second = create_distributor(session, "b@example.com", "password1", shop_name="Tea House!")
        chinese = create_distributor(session, "c@example.com", "password1", shop_name="茶馆")
    assert first.shop.slug == "tea-house"
    assert second.shop.slug.startswith("tea-house-")
    assert chinese.shop.slug == "shop"
    assert chinese.shop.name == "茶馆"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"email": "not-an-email"}, ValidationError, "not an email address"),
        ({"password": "short"}, ValidationError, "password must be 8 to 1024"),
        ({"parent_code": "ZZZZZZZZ"}, NotFound, "no distributor with referral code 'ZZZZZZZZ'"),
        ({"parent_code": "x\x00"}, NotFound, "no distributor with referral code"),
        ({"shop_name": "x" * 101}, ValidationError, "at most 100 characters"),
    ],
)
def test_bad_sign_ups_are_refused_with_a_reason(app, kwargs, error, message):
    arguments = {"email": "ann@example.com", "password": "correct horse", **kwargs}
    with session_scope(app) as session, pytest.raises(error, match=message):
        create_distributor(session, arguments.pop("email"), arguments.pop("password"), **arguments)


def test_an_email_can_hold_only_one_account(app):
    with session_scope(app) as session:
        create_distributor(session, "ann@example.com", "correct horse")
    with session_scope(app) as session, pytest.raises(Conflict, match="already exists"):
        create_distributor(session, "ANN@example.com", "another pass")


def test_create_distributor_command_prints_id_slug_and_code(db_url, tmp_path):
    first = run_cli(
        db_url,
        "create-distributor",
        "--email",
        "ann@example.com",
        "--password",
        "correct horse",
        "--shop-name",
        "Ann's Tea",
        tmp_path=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    created = json.loads(first.stdout)
    assert set(created) == {"id", "shop_slug", "referral_code"}
    assert created["shop_slug"] == "ann-s-tea"
    recruit = run_cli(
        db_url,
        "create-distributor",
        "--email",
        "bob@example.com",
        "--password",
        "correct horse",
        "--parent-code",
        created["referral_code"],
        tmp_path=tmp_path,
    )
    assert recruit.returncode == 0, recruit.stderr
    again = run_cli(
        db_url,
        "create-distributor",
        "--email",
        "ann@example.com",
        "--password",
        "correct horse",
        tmp_path=tmp_path,
    )
    assert again.returncode != 0
    assert (
        again.stderr.strip() == "Error: a distributor with email 'ann@example.com' already exists"
    )
