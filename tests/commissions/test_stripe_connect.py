"""Stripe Connect payouts through the official SDK against a local fake of the Connect
endpoints (localstripe has none): onboarding from the console, a Transfer on approval (once,
however often it is sent), a refused transfer, and clawbacks by transfer reversals as far as
the connected account allows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world

from storefront_sdk.commissions import payouts
from storefront_sdk.commissions.models import Payout
from storefront_sdk.errors import Conflict
from storefront_sdk.shops.models import Distributor
from storefront_sdk.testing.connect_fake import ConnectFake

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def fake() -> Iterator[ConnectFake]:
    server = ConnectFake()
    yield server
    server.close()


@pytest.fixture
def world(db_url: str, fake: ConnectFake) -> Iterator[World]:
    made = make_world(
        db_url,
        STOREFRONT_PAYOUT_PROVIDER="stripe_connect",
        STRIPE_SECRET_KEY="sk_test_connect",
        STRIPE_API_BASE=fake.url,
        STOREFRONT_PAYOUT_MINIMUM_MINOR=100,
    )
    yield made
    dispose(made)


def _provider(world: World):  # type: ignore[no-untyped-def]
    return world.app.extensions["storefront"].payouts


def _connect(world: World, fake: ConnectFake, distributor_id: int) -> str:
    account = f"acct_t{distributor_id}"
    fake.accounts[account] = {"id": account, "object": "account"}
    with world.session() as session:
        session.get_one(Distributor, distributor_id).stripe_account_id = account
    return account


def _earn_and_ask(world: World, cart: dict[str, int]) -> int:
    world.deliver(world.buy(cart))
    world.settle()
    with world.session() as session:
        asked = payouts.request_payout(session, world.bob, "CNY", 100, world.now)
        session.commit()
        return asked.id or 0


def test_a_distributor_connects_a_stripe_account_from_the_console(
    world: World, fake: ConnectFake
) -> None:
    client = world.app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    client.post(
        "/console/login",
        data={"csrf_token": _CSRF.search(page).group(1), "email": "bob@example.com",  # type: ignore[union-attr]
              "password": "password123"},
    )  # fmt: skip
    payouts_page = client.get("/console/payouts?lang=en").get_data(as_text=True)
    assert "Connect Stripe" in payouts_page
    token = _CSRF.search(payouts_page).group(1)  # type: ignore[union-attr]
    first = client.post("/console/payouts/stripe", data={"csrf_token": token})
    assert first.status_code == 303
    assert first.headers["Location"].startswith("https://connect.stripe.test/setup/acct_")
    with world.session() as session:
        account = session.get_one(Distributor, world.bob).stripe_account_id
    assert account in fake.accounts
    again = client.post("/console/payouts/stripe", data={"csrf_token": token})
    assert again.headers["Location"].endswith(account or "?")  # the same account, resumed
    assert len(fake.accounts) == 1


def test_approving_sends_one_transfer_however_often_it_is_sent(
    world: World, fake: ConnectFake
) -> None:
    account = _connect(world, fake, world.bob)
    payout_id = _earn_and_ask(world, {"TEE": 2})  # Bob: 10.00
    with world.session() as session:
        paid = payouts.approve(
            session, payout_id, world.admin_id, _provider(world), world.now, commit=session.commit
        )
    with world.session() as session:
        paid = session.get_one(Payout, payout_id)
        assert (paid.status, paid.provider) == ("paid", "stripe_connect")
        assert paid.reference in fake.transfers
    transfer = fake.transfers[paid.reference or ""]
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
        1000,
        "cny",
        account,
    )
    assert fake.requests[-1][2] == f"storefront-payout-{payout_id}"  # the idempotency key
    # When it is sent again (a crash between the transfer and its record, say)
    with world.session() as session, pytest.raises(Conflict):
        payouts.send(session, payout_id, _provider(world), world.now, commit=session.commit)
    # Then Stripe made no second transfer, and the money moved once
    assert len(fake.transfers) == 1
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 0, "paid": 1000}


def test_a_refused_transfer_fails_the_payout_and_returns_the_money(
    world: World, fake: ConnectFake
) -> None:
    payout_id = _earn_and_ask(world, {"TEE": 1})  # Bob never connected an account
    with world.session() as session:
        payouts.approve(
            session, payout_id, world.admin_id, _provider(world), world.now, commit=session.commit
        )
    with world.session() as session:
        failed = session.get_one(Payout, payout_id)
        assert failed.status == "failed"
        assert "has not connected a Stripe account" in (failed.note or "")
    assert world.balances(world.bob) == {"pending": 0, "available": 500, "payout": 0, "paid": 0}
    assert fake.transfers == {}


def test_a_refund_after_payout_is_clawed_back_when_the_account_allows(
    world: World, fake: ConnectFake
) -> None:
    from storefront_sdk.commissions.payouts import clawback

    _connect(world, fake, world.bob)
    first = world.buy({"TEE": 2})
    world.deliver(first)
    world.settle()
    with world.session() as session:
        asked = payouts.request_payout(session, world.bob, "CNY", 100, world.now)
        session.commit()
        payouts.approve(
            session,
            asked.id or 0,
            world.admin_id,
            _provider(world),
            world.now,
            commit=session.commit,
        )
    transfer = next(iter(fake.transfers))
    fake.spent[transfer] = 700  # Bob's account paid 7.00 of the 10.00 onwards already
    # When the whole order is refunded after the payout
    world.refund(first, "TEE", 10000)
    assert world.balances(world.bob)["available"] == -1000
    # Then the account cannot give 10.00 back now: Bob owes it, and nothing is recorded
    with world.session() as session:
        assert clawback(session, _provider(world), world.now, commit=session.commit) == 0
    assert world.balances(world.bob) == {
        "pending": 0,
        "available": -1000,
        "payout": 0,
        "paid": 1000,
    }
    # until it can: then the transfer is reversed and the debt is gone
    fake.spent.clear()
    with world.session() as session:
        assert clawback(session, _provider(world), world.now, commit=session.commit) == 1
        assert clawback(session, _provider(world), world.now, commit=session.commit) == 0  # once
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 0, "paid": 0}
    assert fake.transfers[transfer]["amount_reversed"] == 1000
    with world.session() as session:
        assert session.scalars(sa.select(Payout.reversed_minor)).one() == 1000


def test_an_unsure_answer_leaves_the_payout_to_send_again_and_it_pays_once(
    world: World, fake: ConnectFake
) -> None:
    _connect(world, fake, world.bob)
    payout_id = _earn_and_ask(world, {"TEE": 2})
    fake.fail_after_transfer = True  # Stripe makes the transfer, then answers 500
    with world.session() as session:
        payouts.approve(
            session, payout_id, world.admin_id, _provider(world), world.now, commit=session.commit
        )
    with world.session() as session:
        held = session.get_one(Payout, payout_id)
        assert held.status == "approved"  # not failed: the money may have left
        assert (held.note or "").startswith("not sent yet: Stripe:")
    assert world.balances(world.bob)["payout"] == 1000
    with world.session() as session, pytest.raises(Conflict, match="send it again"):
        payouts.reject(session, payout_id, "changed my mind", world.admin_id, world.now)
    # When the admin sends it again
    with world.session() as session:
        payouts.send(session, payout_id, _provider(world), world.now, commit=session.commit)
    # Then the transfer Stripe made is found and recorded: one transfer, paid once
    assert len(fake.transfers) == 1
    with world.session() as session:
        paid = session.get_one(Payout, payout_id)
        assert (paid.status, paid.reference) == ("paid", next(iter(fake.transfers)))
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 0, "paid": 1000}


def test_a_balance_below_zero_says_stripe_transfers_may_be_taken_back(
    world: World, fake: ConnectFake
) -> None:
    # Given Bob's 5.00 paid out to his Stripe account, then the order refunded in full
    _connect(world, fake, world.bob)
    order = world.buy({"TEE": 1})
    world.deliver(order)
    world.settle()
    with world.session() as session:
        asked = payouts.request_payout(session, world.bob, "CNY", 100, world.now)
        session.commit()
        payouts.approve(
            session, asked.id or 0, world.admin_id, _provider(world), world.now,
            commit=session.commit,
        )  # fmt: skip
    world.refund(order, "TEE", 5000)
    # When Bob opens his payouts page
    client = world.app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    client.post(
        "/console/login",
        data={"csrf_token": _CSRF.search(page).group(1), "email": "bob@example.com",  # type: ignore[union-attr]
              "password": "password123"},
    )  # fmt: skip
    html = client.get("/console/payouts?lang=en").get_data(as_text=True)
    # Then the explanation of the debt says the platform may reverse his latest transfer
    found = re.search(r'data-testid="negative-CNY".*?</div>', html, re.S)
    assert found is not None
    assert "refunds took back CN¥5.00 more than you have available" in found.group(0)
    assert "The platform may also take it back from your latest transfer." in found.group(0)
