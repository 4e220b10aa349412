"""Customer binding as an auditable history: each bind, renewal, expiry and kept binding is
a row; the window and the ``keep`` / ``last_click`` policy are settings; the console tells a
distributor why a customer is, or is not, theirs, without naming the other distributor."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from order_support import app_on, buy, dev_pay, stocked_shop
from shop_support import csrf_token, make_shop

from storefront_sdk import ConfigurationError
from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order
from storefront_sdk.referrals.binding import (
    BOUND,
    EXPIRED,
    KEEP,
    KEPT,
    LAST_CLICK,
    RENEWED,
    Binding,
    BindingChange,
    BindingTerms,
    Event,
    PaidSale,
    binding_after,
)
from storefront_sdk.referrals.models import BindingEvent, CustomerBinding, ReferralVisit

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
YEAR = BindingTerms(365, KEEP)
UNTIL = NOW + timedelta(days=365)


def _sale(credited: int | None, source: str, referred_by: int | None = None) -> PaidSale:
    return PaidSale(9, 3, credited, source, referred_by, "visit" if referred_by else None)


# --- the rule, without a database ---------------------------------------------------------


def test_a_first_paid_order_binds_the_customer_to_the_credited_distributor() -> None:
    change = binding_after(None, _sale(1, "shop"), YEAR, NOW)
    assert change == BindingChange(Binding(1, 9, NOW, UNTIL), (Event(BOUND, 1, UNTIL, NOW),))


def test_an_order_credited_through_the_binding_renews_it_for_the_whole_window() -> None:
    current = Binding(1, 5, NOW - timedelta(days=100), NOW + timedelta(days=265))
    change = binding_after(current, _sale(1, "binding"), YEAR, NOW)
    assert change.binding == Binding(1, 5, current.bound_at, UNTIL)
    assert change.events == (Event(RENEWED, 1, UNTIL, NOW),)


def test_another_distributors_link_under_keep_leaves_the_sale_and_the_customer_bound() -> None:
    current = Binding(1, 5, NOW - timedelta(days=1), NOW + timedelta(days=364))
    change = binding_after(current, _sale(1, "binding", referred_by=2), YEAR, NOW)
    assert change.binding == Binding(1, 5, current.bound_at, UNTIL)
    assert change.events == (Event(RENEWED, 1, UNTIL, NOW), Event(KEPT, 1, UNTIL, NOW, 2))


def test_under_last_click_the_link_that_won_the_sale_takes_the_customer_over() -> None:
    current = Binding(1, 5, NOW - timedelta(days=1), NOW + timedelta(days=364))
    terms = BindingTerms(365, LAST_CLICK)
    change = binding_after(current, _sale(2, "referral", referred_by=2), terms, NOW)
    assert change.binding == Binding(2, 9, NOW, UNTIL)
    assert change.events == (Event(BOUND, 2, UNTIL, NOW, other_distributor_id=1),)


def test_a_binding_that_ran_out_is_recorded_as_expired_before_the_customer_is_bound_again() -> None:
    ended_at = NOW - timedelta(days=2)
    current = Binding(1, 5, ended_at - timedelta(days=365), ended_at)
    change = binding_after(current, _sale(2, "referral", referred_by=2), YEAR, NOW)
    assert change.binding == Binding(2, 9, NOW, UNTIL)
    assert change.events == (
        Event(EXPIRED, 1, ended_at, ended_at, order_id=5),
        Event(BOUND, 2, UNTIL, NOW),
    )


@pytest.mark.parametrize(
    ("current", "sale", "terms"),
    [
        (None, _sale(None, "self"), YEAR),  # a distributor's own purchase
        (None, _sale(1, "shop"), BindingTerms(0, KEEP)),  # binding is off
        # the bound distributor was suspended and passed over: the binding waits for them
        (Binding(1, 5, NOW, UNTIL), _sale(2, "shop"), YEAR),
        (Binding(1, 5, NOW, UNTIL), _sale(2, "referral", referred_by=2), YEAR),  # keep
    ],
)
def test_what_changes_nothing(current: Binding | None, sale: PaidSale, terms: BindingTerms) -> None:
    assert binding_after(current, sale, terms, NOW) == BindingChange(current)


def test_the_policy_is_checked_at_start() -> None:
    with (
        pytest.raises(ConfigurationError, match="STOREFRONT_CUSTOMER_BINDING_POLICY"),
        app_on("sqlite://", STOREFRONT_CUSTOMER_BINDING_POLICY="first_click"),
    ):
        pass


# --- through the shop, on both backends ----------------------------------------------------


def _events(app: Flask) -> list[tuple[str, int, int | None, int | None, str | None]]:
    with session_scope(app) as session:
        return [
            (e.kind, e.distributor_id, e.other_distributor_id, e.order_id, e.visit_token_id)
            for e in session.scalars(sa.select(BindingEvent).order_by(BindingEvent.id))
        ]


def _order(app: Flask, token: str) -> Order:
    with session_scope(app) as session:
        return session.scalars(sa.select(Order).where(Order.token == token)).one()


def _visit(app: Flask, distributor_id: int) -> str:
    with session_scope(app) as session:
        return session.scalars(
            sa.select(ReferralVisit.token_id).where(ReferralVisit.distributor_id == distributor_id)
        ).one()


def _console(app: Flask, email: str) -> str:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # an English browser
    page = client.get("/console/login").get_data(as_text=True)
    client.post(
        "/console/login",
        data={"csrf_token": csrf_token(page), "email": email, "password": "password123"},
    )
    history = client.get("/console/orders").get_data(as_text=True)
    return history.split('data-testid="binding-history"')[1].split("</ul>")[0]


def _bought_through_link(
    app: Flask, client: FlaskClient, code: str, slug: str, variant_id: int
) -> str:
    assert client.get(f"/r/{code}").status_code == 302
    token = buy(client, slug, {variant_id: 1})
    dev_pay(client, slug, token)
    return token


def test_a_bound_customer_coming_through_another_link_stays_bound_and_both_are_told(
    db_url: str,
) -> None:
    with app_on(db_url) as app:
        supplier, ann, skus = stocked_shop(app)
        bob = make_shop(app, "bob@example.com")
        first = _bought_through_link(app, app.test_client(), ann.referral_code, ann.slug, skus["A"])
        # When the same customer comes back through Bob's link and pays
        second = _bought_through_link(
            app, app.test_client(), bob.referral_code, bob.slug, skus["A"]
        )
        # Then the sale is Ann's, the binding renewed, and Bob's visit recorded as kept
        order = _order(app, second)
        assert (order.credited_distributor_id, order.credit_source) == (
            ann.distributor_id,
            "binding",
        )
        assert order.referral_token_id == _visit(app, bob.distributor_id)
        first_id, second_id = _order(app, first).id, order.id
        assert _events(app) == [
            (BOUND, ann.distributor_id, None, first_id, _visit(app, ann.distributor_id)),
            (RENEWED, ann.distributor_id, None, second_id, order.referral_token_id),
            (KEPT, ann.distributor_id, bob.distributor_id, second_id, order.referral_token_id),
        ]
        # And Bob learns why the customer is not his, without learning whose they are
        bobs = _console(app, "bob@example.com")
        assert 'data-kind="kept"' in bobs
        assert "bound to another distributor" in bobs
        assert "bu***@example.com" in bobs
        assert order.number not in bobs  # the order is not his to see
        assert f"owner{supplier.supplier_id}" not in bobs
        assert ann.slug not in bobs
        anns = _console(app, f"owner{supplier.supplier_id}@example.com")
        assert anns.count('data-kind="') == 3
        assert "stays yours" in anns
        assert order.number in anns


def test_under_last_click_the_later_link_wins_the_sale_and_the_customer(db_url: str) -> None:
    with app_on(db_url, STOREFRONT_CUSTOMER_BINDING_POLICY="last_click") as app:
        supplier, ann, skus = stocked_shop(app)
        bob = make_shop(app, "bob@example.com")
        _bought_through_link(app, app.test_client(), ann.referral_code, ann.slug, skus["A"])
        second = _bought_through_link(
            app, app.test_client(), bob.referral_code, bob.slug, skus["A"]
        )
        order = _order(app, second)
        assert (order.credited_distributor_id, order.credit_source) == (
            bob.distributor_id,
            "referral",
        )
        with session_scope(app) as session:
            binding = session.scalars(sa.select(CustomerBinding)).one()
            assert (binding.distributor_id, binding.order_id) == (bob.distributor_id, order.id)
        assert [(kind, who, other) for kind, who, other, _, _ in _events(app)] == [
            (BOUND, ann.distributor_id, None),
            (BOUND, bob.distributor_id, ann.distributor_id),
        ]
        anns = _console(app, f"owner{supplier.supplier_id}@example.com")
        assert "Now bound to another distributor" in anns
        assert "bob" not in anns.lower()
        assert "came through your link last" in _console(app, "bob@example.com")


def test_an_expired_binding_is_recorded_when_the_customer_is_bound_again(db_url: str) -> None:
    with app_on(db_url) as app:
        _, ann, skus = stocked_shop(app)
        bob = make_shop(app, "bob@example.com")
        first = _bought_through_link(app, app.test_client(), ann.referral_code, ann.slug, skus["A"])
        ran_out = datetime.now(UTC) - timedelta(days=1)
        with session_scope(app) as session:
            session.execute(sa.update(CustomerBinding).values(expires_at=ran_out))
        _bought_through_link(app, app.test_client(), bob.referral_code, bob.slug, skus["A"])
        events = _events(app)
        assert [(kind, who) for kind, who, *_ in events] == [
            (BOUND, ann.distributor_id),
            (EXPIRED, ann.distributor_id),
            (BOUND, bob.distributor_id),
        ]
        assert events[1][3] == _order(app, first).id  # the order whose binding ran out
        with session_scope(app) as session:
            expired = session.scalars(
                sa.select(BindingEvent).where(BindingEvent.kind == EXPIRED)
            ).one()
            assert expired.happened_at is not None
            assert abs(expired.happened_at - ran_out) < timedelta(seconds=1)


def test_two_payments_of_one_new_customer_at_once_bind_them_once(
    pg_app: Flask, postgres_url: str
) -> None:
    with app_on(postgres_url) as app:
        _pay_twice_at_once(app)


def _pay_twice_at_once(pg_app: Flask) -> None:
    # Given one customer with two unpaid orders, in Ann's shop and in Bob's
    _, ann, skus = stocked_shop(pg_app)
    bob = make_shop(pg_app, "bob@example.com")
    clients = [pg_app.test_client(), pg_app.test_client()]
    tokens = [buy(clients[0], ann.slug, {skus["A"]: 1}), buy(clients[1], bob.slug, {skus["A"]: 1})]
    pages = [
        clients[i].get(f"/s/{slug}/orders/{tokens[i]}/pay").get_data(as_text=True)
        for i, slug in enumerate((ann.slug, bob.slug))
    ]
    # When both are paid at the same moment
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def pay(i: int, slug: str) -> None:
        barrier.wait()
        response = clients[i].post(
            f"/s/{slug}/orders/{tokens[i]}/dev-pay",
            data={"csrf_token": csrf_token(pages[i]), "outcome": "succeeded"},
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=pay, args=(i, s)) for i, s in enumerate((ann.slug, bob.slug))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then both are paid, and the customer is bound once, to one of them
    assert statuses == [303, 303]
    assert {_order(pg_app, token).status for token in tokens} == {"paid"}
    with session_scope(pg_app) as session:
        bindings = session.scalars(sa.select(CustomerBinding)).all()
        events = session.scalars(sa.select(BindingEvent)).all()
    assert len(bindings) == 1
    assert [(e.kind, e.distributor_id) for e in events] == [(BOUND, bindings[0].distributor_id)]
