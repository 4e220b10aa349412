"""Referral links and attribution: ``/r/<code>`` records the visit, sets the signed cookie and
redirects into the shop (never anywhere else); the last click within the window wins; a
distributor's own visits and purchases earn nothing — on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import build_app
from flask import jsonify, request
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from shop_support import edit_shop, make_shop, product, product_ids, push
from sqlmodel import select

from storefront_sdk.db import session_scope
from storefront_sdk.referrals import attribution as referral
from storefront_sdk.referrals.models import ReferralVisit
from storefront_sdk.shops import curation
from storefront_sdk.web.identity import SESSION_KEY
from storefront_sdk.web.shop import referral as referral_web

SECRET = "test-secret-key-0123456789"  # build_app's SECRET_KEY
WINDOW = 30


@pytest.fixture
def probe(app):
    """``/_probe/attribution``: what checkout would attribute the request to, as JSON."""

    def attribution():
        found = referral_web.attribution()
        if found is None:
            return jsonify(None)
        return jsonify(
            token_id=found.token_id, distributor_id=found.distributor_id, shop_id=found.shop_id
        )

    app.add_url_rule("/_probe/attribution", "probe", attribution, methods=["GET", "POST"])
    return "/_probe/attribution"


@pytest.fixture
def ann(app):
    return make_shop(app, "ann@example.com")


@pytest.fixture
def bob(app):
    return make_shop(app, "bob@example.com")


def visits(app):
    with session_scope(app) as session:
        return list(session.scalars(select(ReferralVisit).order_by(ReferralVisit.id)))


def token_of(location):
    return parse_qs(urlsplit(location).query).get("st", [None])[0]


def signed_at(when, payload, secret=SECRET):
    """``payload`` signed as a share token, stamped ``when`` instead of now."""

    class SignedThen(TimestampSigner):
        def get_timestamp(self):
            return int(when.timestamp())

    return URLSafeTimedSerializer(secret, salt=referral.SALT, signer=SignedThen).dumps(payload)


def token_at(when, distributor, secret=SECRET):
    """A share token for ``distributor``'s shop as if its link had been followed at ``when``."""

    payload = {"t": "crafted-visit", "d": distributor.distributor_id, "s": distributor.shop_id}
    return signed_at(when, payload, secret)


def attributed_to(client, probe, **kwargs):
    found = client.get(probe, **kwargs).get_json()
    return found and found["distributor_id"]


def sign_in(client, shop_ref):
    with client.session_transaction() as session:
        session[SESSION_KEY] = {"id": shop_ref.distributor_id, "fp": "0" * 16}


# --- landing --------------------------------------------------------------------------------


def test_a_shop_link_redirects_home_with_a_token_that_verifies(app, client, ann):
    response = client.get(f"/r/{ann.referral_code}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"/s/{ann.slug}/?st=")
    assert response.headers["Cache-Control"] == "no-store"
    found = referral.read_token(token_of(location), secret_key=SECRET, window_days=WINDOW)
    assert found is not None
    assert (found.distributor_id, found.shop_id) == (ann.distributor_id, ann.shop_id)
    (visit,) = visits(app)
    assert (visit.token_id, visit.distributor_id, visit.shop_id) == (
        found.token_id,
        ann.distributor_id,
        ann.shop_id,
    )
    assert (visit.product_id, visit.self_referral) == (None, False)
    assert client.get(location).status_code == 200


def test_a_product_link_lands_on_the_product_and_records_it(app, client, supplier, ann):
    push(supplier, product("A"))
    product_id = product_ids(app)["A"]
    response = client.get(f"/r/{ann.referral_code.lower()}/{product_id}")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"/s/{ann.slug}/p/{product_id}?st=")
    (visit,) = visits(app)
    assert (visit.distributor_id, visit.shop_id, visit.product_id) == (
        ann.distributor_id,
        ann.shop_id,
        product_id,
    )
    page = client.get(location)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # the product page shares this very link and the poster
    assert f"http://localhost/r/{ann.referral_code}/{product_id}" in html
    assert f"/s/{ann.slug}/p/{product_id}/poster.svg" in html


def test_the_cookie_is_http_only_lax_for_the_window_and_holds_the_token(client, ann):
    response = client.get(f"/r/{ann.referral_code}")
    (cookie,) = response.headers.getlist("Set-Cookie")
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0] == f"sf_ref={token_of(response.headers['Location'])}"
    assert {"HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=2592000"} <= set(attributes)
    assert "Secure" not in attributes


def test_the_cookie_is_secure_over_https(client, ann):
    response = client.get(f"/r/{ann.referral_code}", base_url="https://shop.example.com")
    assert "Secure" in [part.strip() for part in response.headers["Set-Cookie"].split(";")]


def test_the_cookie_lasts_the_configured_window(db_url):
    app = build_app(db_url, STOREFRONT_ATTRIBUTION_DAYS=7)
    try:
        ann = make_shop(app)
        response = app.test_client().get(f"/r/{ann.referral_code}")
        assert "Max-Age=604800" in response.headers["Set-Cookie"]
    finally:
        app.extensions["storefront"].engine.dispose()


@pytest.mark.parametrize("code", ["ZZZZZZZZ", "x", "ABCDEFGHJ", "A" * 300])
def test_an_unknown_code_is_a_404_that_records_nothing(app, client, ann, code):
    response = client.get(f"/r/{code}", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "Link not found" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert visits(app) == []


def test_a_product_the_shop_does_not_list_lands_on_the_home(app, client, supplier, ann):
    push(supplier, product("GONE", status="archived"), product("OUT"))
    ids = product_ids(app)
    edit_shop(app, ann, lambda s, sh: curation.include_products(s, sh, [ids["OUT"]], False))
    for product_id in (ids["GONE"], ids["OUT"], 987654, 2**63, 10**30):
        response = client.get(f"/r/{ann.referral_code}/{product_id}")
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"/s/{ann.slug}/?st=")
    assert [visit.product_id for visit in visits(app)] == [None] * 5


# --- no open redirect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "next=//evil.com",
        "url=https://evil.com/",
        "redirect=https:%2F%2Fevil.com",
        "return_to=/%2F%2Fevil.com",
        "continue=//evil.com&next=\\\\evil.com",
        "st=..%2F..%2F%2Fevil.com",
    ],
)
def test_no_query_parameter_changes_where_a_link_leads(client, ann, query):
    response = client.get(f"/r/{ann.referral_code}?{query}")
    location = response.headers["Location"]
    assert response.status_code == 302
    assert location.startswith(f"/s/{ann.slug}/?st=")
    assert "evil" not in location
    assert referral.read_token(token_of(location), secret_key=SECRET, window_days=WINDOW)


def test_a_forged_host_header_does_not_leak_into_the_location(client, ann):
    response = client.get(f"/r/{ann.referral_code}", headers={"Host": "evil.com"})
    assert response.headers["Location"].startswith(f"/s/{ann.slug}/?st=")


@pytest.mark.parametrize(
    "path",
    [
        "/r//evil.com",
        "/r/%2F%2Fevil.com",
        "/r/%2f%2fevil.com",
        "/r/\\evil.com",
        "/r/%5C%5Cevil.com",
        "/r/@evil.com",
        "/r/evil.com",
        "/r/https:%2F%2Fevil.com",
        "/r/{code}//evil.com",
        "/r/{code}/%2F%2Fevil.com",
        "/r/{code}@evil.com",
        "/r/{fullwidth}",  # the code in full-width letters
        "/r/%E2%80%AE{code}",  # a right-to-left override
        "/r/{code}%00",
    ],
)
def test_codes_that_look_like_urls_are_404_or_stay_in_the_shop(client, ann, path):
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in ann.referral_code)
    response = client.get(path.format(code=ann.referral_code, fullwidth=fullwidth))
    if response.status_code != 404:
        assert response.status_code == 302
        assert response.headers["Location"].startswith(f"/s/{ann.slug}/")
    assert "evil" not in response.headers.get("Location", "")


# --- last click wins ------------------------------------------------------------------------


def test_a_later_link_of_another_distributor_takes_over(client, probe, ann, bob):
    client.get(f"/r/{ann.referral_code}")
    assert attributed_to(client, probe) == ann.distributor_id
    client.get(f"/r/{bob.referral_code}")
    assert attributed_to(client, probe) == bob.distributor_id


def test_an_older_token_in_the_url_loses_to_a_newer_cookie(client, probe, ann, bob):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    client.get(f"/r/{bob.referral_code}")  # cookie: Bob, now
    old_ann = token_at(an_hour_ago, ann)
    assert attributed_to(client, probe, query_string={"st": old_ann}) == bob.distributor_id


def test_a_newer_token_in_the_url_beats_an_older_cookie(client, probe, ann, bob):
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    client.set_cookie("sf_ref", token_at(an_hour_ago, bob))
    fresh_ann = token_at(datetime.now(UTC), ann)
    assert attributed_to(client, probe, query_string={"st": fresh_ann}) == ann.distributor_id
    # and from a posted form (the checkout) just the same
    found = client.post(probe, data={"st": fresh_ann}).get_json()
    assert found["distributor_id"] == ann.distributor_id


def test_the_token_in_the_url_alone_attributes_when_cookies_are_dropped(app, client, probe, ann):
    location = client.get(f"/r/{ann.referral_code}").headers["Location"]
    client.delete_cookie("sf_ref")
    found = client.get(probe, query_string={"st": token_of(location)}).get_json()
    (visit,) = visits(app)
    assert (found["distributor_id"], found["token_id"]) == (ann.distributor_id, visit.token_id)


# --- bad tokens -----------------------------------------------------------------------------


def test_an_expired_token_is_ignored(client, probe, ann, bob):
    expired = token_at(datetime.now(UTC) - timedelta(days=WINDOW, minutes=1), ann)
    recent = token_at(datetime.now(UTC) - timedelta(days=WINDOW - 1), bob)
    client.set_cookie("sf_ref", expired)
    assert attributed_to(client, probe) is None
    assert attributed_to(client, probe, query_string={"st": expired}) is None
    client.set_cookie("sf_ref", recent)
    assert attributed_to(client, probe, query_string={"st": expired}) == bob.distributor_id


def test_the_window_comes_from_the_configuration(db_url):
    app = build_app(db_url, STOREFRONT_ATTRIBUTION_DAYS=2)
    try:
        ann = make_shop(app)
        seen = []
        app.add_url_rule("/_probe", "probe", lambda: jsonify(bool(referral_web.attribution())))
        client = app.test_client()
        for days in (1, 3):
            token = token_at(datetime.now(UTC) - timedelta(days=days), ann)
            seen.append(client.get("/_probe", query_string={"st": token}).get_json())
        assert seen == [True, False]
    finally:
        app.extensions["storefront"].engine.dispose()


def test_tampered_tokens_are_ignored(client, probe, ann, bob):
    good = token_at(datetime.now(UTC), ann)
    payload, stamp, signature = good.split(".")
    forged_payload = URLSafeTimedSerializer(SECRET).dump_payload(
        {"t": "crafted-visit", "d": bob.distributor_id, "s": bob.shop_id}
    )
    bad = [
        f"{payload}.{stamp}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}",
        f"{forged_payload.decode()}.{stamp}.{signature}",
        token_at(datetime.now(UTC), ann, secret="another-secret-key-0123456789"),
        URLSafeTimedSerializer(SECRET, salt="cookie-session").dumps(
            {"t": "x", "d": ann.distributor_id, "s": ann.shop_id}
        ),
        "not-a-token-at-all",
    ]
    for token in bad:
        assert attributed_to(client, probe, query_string={"st": token}) is None, token
        client.set_cookie("sf_ref", token)
        assert attributed_to(client, probe) is None, token


# --- self-referral --------------------------------------------------------------------------


def test_a_distributors_own_link_records_a_self_referral_without_cookie_or_token(
    app, client, ann, bob
):
    sign_in(client, ann)
    someone_else = token_at(datetime.now(UTC), bob)
    response = client.get(f"/r/{ann.referral_code}", query_string={"st": someone_else})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/s/{ann.slug}/"  # no st, not even the one given
    assert "Set-Cookie" not in response.headers
    (visit,) = visits(app)
    assert (visit.distributor_id, visit.self_referral) == (ann.distributor_id, True)


def test_a_signed_in_distributor_following_another_link_is_attributed(client, probe, ann, bob):
    sign_in(client, ann)
    response = client.get(f"/r/{bob.referral_code}")
    assert token_of(response.headers["Location"])
    assert attributed_to(client, probe) == bob.distributor_id


def test_a_purchase_is_never_attributed_to_the_signed_in_distributor(client, probe, ann, bob):
    client.get(f"/r/{ann.referral_code}")  # Ann follows her own link before signing in
    sign_in(client, ann)
    assert attributed_to(client, probe) is None
    older_bob = token_at(datetime.now(UTC) - timedelta(days=1), bob)
    newer_ann = token_at(datetime.now(UTC), ann)
    client.set_cookie("sf_ref", older_bob)
    found = attributed_to(client, probe, query_string={"st": newer_ann})
    assert found == bob.distributor_id  # Ann's own token is left out, Bob's still counts


# --- the attribution model without a request ------------------------------------------------


class Inputs:
    """What a request carries, without Flask."""

    def __init__(self, args=None, form=None, cookies=None):
        self.args, self.form, self.cookies = args or {}, form or {}, cookies or {}


def issued(minutes_ago, distributor_id, now):
    payload = {"t": f"visit-{distributor_id}", "d": distributor_id, "s": distributor_id * 10}
    return signed_at(now - timedelta(minutes=minutes_ago), payload)


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def attribute(inputs, visitor=None, now=NOW):
    return referral.current_attribution(
        inputs, secret_key=SECRET, window_days=WINDOW, visitor_distributor_id=visitor, now=now
    )


def test_current_attribution_returns_the_visit_of_the_latest_token():
    found = attribute(
        Inputs(args={"st": issued(60, 1, NOW)}, cookies={"sf_ref": issued(5, 2, NOW)})
    )
    assert found == referral.Attribution("visit-2", 2, 20, NOW - timedelta(minutes=5))
    assert attribute(Inputs(form={"st": issued(1, 3, NOW)}, cookies={"sf_ref": issued(5, 2, NOW)}))
    assert attribute(Inputs()) is None


def test_current_attribution_checks_the_age_against_now():
    token = issued(0, 1, NOW)
    inputs = Inputs(cookies={"sf_ref": token})
    assert attribute(inputs, now=NOW + timedelta(days=WINDOW)) is not None
    assert attribute(inputs, now=NOW + timedelta(days=WINDOW, seconds=1)) is None
    assert attribute(inputs, now=NOW - timedelta(hours=1)) is None  # from the future


def test_current_attribution_leaves_out_the_visitors_own_tokens():
    inputs = Inputs(args={"st": issued(1, 1, NOW)}, cookies={"sf_ref": issued(9, 2, NOW)})
    assert attribute(inputs, visitor=1).distributor_id == 2
    assert attribute(inputs, visitor=2).distributor_id == 1
    assert attribute(Inputs(args={"st": issued(1, 1, NOW)}), visitor=1) is None


def test_tokens_signed_with_a_retired_key_verify_while_it_is_a_fallback():
    token = issued(0, 1, NOW)
    assert referral.read_token(token, secret_key="new-key", window_days=1, now=NOW) is None
    found = referral.read_token(token, secret_key=[SECRET, "new-key"], window_days=1, now=NOW)
    assert found is not None
    assert found.distributor_id == 1


def test_overlong_tokens_are_not_looked_at():
    assert referral.read_token("a" * 401, secret_key=SECRET, window_days=1) is None


def test_request_inputs_fit_the_protocol(app):
    with app.test_request_context("/?st=x", headers={"Cookie": "sf_ref=y"}):
        assert referral.current_attribution(request, secret_key=SECRET, window_days=1) is None
