"""Self sign-up, through a recruiter's invite link or without one."""

from __future__ import annotations

from console_support import PASSWORD, csrf_token, make_distributor
from sqlmodel import select

from storefront_sdk.db import session_scope
from storefront_sdk.shops.models import Distributor, Shop


def _join(client, path, **fields):
    data = {"name": "Bo", "shop_name": "Bo's buys", "email": "bo@example.com", "password": PASSWORD}
    data.update(fields)
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _distributor(app, email):
    with session_scope(app) as session:
        return session.scalars(select(Distributor).where(Distributor.email == email)).first()


def test_the_invite_page_says_who_invites(app, client):
    recruiter = make_distributor(app, "ada@example.com", name="Ada", shop_name="Ada's corner")

    page = client.get(f"/console/join/{recruiter.code}?lang=en")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ada invites you to open your own shop." in text
    assert "Ada&#39;s corner" in text


def test_joining_through_an_invite_records_the_recruiter_and_signs_in(app, client):
    # Given a recruiter's invite link
    recruiter = make_distributor(app, "ada@example.com")

    # When someone signs up through it (the code in any case)
    response = _join(client, f"/console/join/{recruiter.code.lower()}")

    # Then they have a shop, the recruiter is their parent, and they are in their console
    assert response.status_code == 303
    assert response.headers["Location"] == "/console/"
    joined = _distributor(app, "bo@example.com")
    assert joined.parent_id == recruiter.id
    with session_scope(app) as session:
        shop = session.scalars(select(Shop).where(Shop.distributor_id == joined.id)).one()
    assert shop.name == "Bo's buys"
    assert "Bo&#39;s buys" in client.get("/console/").get_data(as_text=True)


def test_joining_without_a_code_has_no_recruiter(app, client):
    response = _join(client, "/console/join")

    assert response.status_code == 303
    assert _distributor(app, "bo@example.com").parent_id is None


def test_an_unknown_invite_code_is_404(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # an English browser
    for path in ("/console/join/ZZZZZZZZ", "/console/join/not-a-code"):
        response = client.get(path)
        assert response.status_code == 404
        assert "This invite link is not valid." in response.get_data(as_text=True)


def test_posting_to_an_unknown_invite_code_creates_nothing(app, client):
    token = csrf_token(client, "/console/join")
    response = client.post(
        "/console/join/ZZZZZZZZ",
        data={"csrf_token": token, "email": "bo@example.com", "password": PASSWORD},
    )

    assert response.status_code == 404
    assert _distributor(app, "bo@example.com") is None


def test_a_taken_email_gets_a_clear_message(app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # an English browser
    make_distributor(app, "bo@example.com")

    response = _join(client, "/console/join", email="BO@example.com")

    assert response.status_code == 409
    assert "An account with this email address already exists." in response.get_data(as_text=True)
    assert client.get("/console/").status_code == 303


def test_a_short_password_is_refused(app, client):
    response = _join(client, "/console/join", password="short")

    assert response.status_code == 422
    assert "at least 8 characters" in response.get_data(as_text=True)
    assert _distributor(app, "bo@example.com") is None
