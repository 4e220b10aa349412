"""The platform admin ``/admin/``: only signed-in admins reach it (a distributor's session
does not count), only the ``admin`` role changes anything, every form carries its CSRF
token; suppliers and keys, distributors (a suspended shop stops selling), rates with the
invariant check, orders and refunds, deliveries, payouts and statements."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world
from flask.testing import FlaskClient

from storefront_sdk.commissions.models import Payout
from storefront_sdk.db import session_scope
from storefront_sdk.orders.models import Order
from storefront_sdk.platform_admins import create_admin
from storefront_sdk.pricing.models import CommissionRate
from storefront_sdk.shops.models import Distributor

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url, STOREFRONT_PAYOUT_MINIMUM_MINOR=100)
    yield made
    dispose(made)


def _token(client: FlaskClient, path: str) -> str:
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def _admin(world: World, email: str = "root@example.com") -> FlaskClient:
    client = world.app.test_client()
    answer = client.post(
        "/admin/login",
        data={
            "csrf_token": _token(client, "/admin/login"),
            "email": email,
            "password": "password123",
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def _post(client: FlaskClient, path: str, **data: str) -> str | int:
    answer = client.post(path, data={"csrf_token": _token(client, "/admin/"), **data})
    return answer.status_code


def test_the_admin_needs_an_admin_not_a_distributor(world: World) -> None:
    anonymous = world.app.test_client()
    assert anonymous.get("/admin/").status_code == 303
    assert anonymous.get("/admin/payouts").headers["Location"].endswith("/admin/login")
    distributor = world.app.test_client()
    page = distributor.get("/console/login").get_data(as_text=True)
    distributor.post(
        "/console/login",
        data={"csrf_token": _CSRF.search(page).group(1), "email": "bob@example.com",  # type: ignore[union-attr]
              "password": "password123"},
    )  # fmt: skip
    assert distributor.get("/console/").status_code == 200
    assert distributor.get("/admin/").status_code == 303  # still the admin's sign-in
    assert distributor.get("/admin/orders").status_code == 303


def test_a_wrong_password_is_refused_like_an_unknown_email(world: World) -> None:
    client = world.app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    for email, password in (("root@example.com", "wrong-password"), ("nobody@x.com", "x" * 9)):
        answer = client.post(
            "/admin/login",
            data={
                "csrf_token": _token(client, "/admin/login"),
                "email": email,
                "password": password,
            },
        )
        assert answer.status_code == 401
        assert "Wrong email or password." in answer.get_data(as_text=True)


def test_a_viewer_may_look_but_not_change(world: World) -> None:
    with session_scope(world.app) as session:
        create_admin(session, "eve@example.com", "password123", role="viewer")
    viewer = _admin(world, "eve@example.com")
    assert viewer.get("/admin/distributors").status_code == 200
    status = _post(viewer, f"/admin/distributors/{world.bob}/status", action="suspend")
    assert status == 403
    with session_scope(world.app) as session:
        assert session.get_one(Distributor, world.bob).status == "active"


def test_every_change_needs_the_forms_token(world: World) -> None:
    admin = _admin(world)
    answer = admin.post(f"/admin/distributors/{world.bob}/status", data={"action": "suspend"})
    assert answer.status_code == 400
    with session_scope(world.app) as session:
        assert session.get_one(Distributor, world.bob).status == "active"


def test_a_suspended_shop_stops_selling_until_reinstated(world: World) -> None:
    admin = _admin(world)
    shop_page = f"/s/{world.shop_slug}/"
    assert world.app.test_client().get(shop_page).status_code == 200
    assert _post(admin, f"/admin/distributors/{world.bob}/status", action="suspend") == 200
    assert world.app.test_client().get(shop_page).status_code == 200  # (not confirmed yet)
    suspended = _post(
        admin, f"/admin/distributors/{world.bob}/status", action="suspend", confirmed="1"
    )
    assert suspended == 303
    assert world.app.test_client().get(shop_page).status_code == 404
    from storefront_sdk.errors import Conflict

    with pytest.raises(Conflict, match="not selling"):
        world.buy({"TEE": 1})
    assert _post(admin, f"/admin/distributors/{world.bob}/status", action="approve") == 409
    assert _post(admin, f"/admin/distributors/{world.bob}/status", action="reinstate") == 303
    assert world.app.test_client().get(shop_page).status_code == 200
    world.buy({"TEE": 1})


def test_suppliers_and_keys_are_created_shown_once_and_revoked(world: World) -> None:
    admin = _admin(world)
    answer = admin.post(
        "/admin/suppliers",
        data={"csrf_token": _token(admin, "/admin/"), "name": "Tea Hills", "currency": "CNY"},
    )
    assert answer.status_code == 201
    key = re.search(r'data-testid="new-key">(sfk_[^<]+)<', answer.get_data(as_text=True))
    assert key is not None
    api = world.app.test_client()
    auth = {"Authorization": f"Bearer {key.group(1)}"}
    assert api.get("/api/v1/supplier/products", headers=auth).status_code == 200
    assert key.group(1) not in admin.get("/admin/suppliers").get_data(as_text=True)
    supplier_id = int(
        re.search(
            r"#(\d+)</div></td><td>CNY", admin.get("/admin/suppliers").get_data(as_text=True)
        ).group(1)
    )  # type: ignore[union-attr]
    prefix = key.group(1)[:16]
    assert _post(admin, f"/admin/suppliers/{supplier_id}/keys/revoke", prefix=prefix) == 303
    assert api.get("/api/v1/supplier/products", headers=auth).status_code == 401
    assert _post(admin, "/admin/suppliers", name="", currency="CNY") == 422


def test_rates_are_set_in_percent_and_refused_when_they_break_a_price(world: World) -> None:
    admin = _admin(world)
    assert (
        _post(admin, "/admin/rates", scope="platform", target_id="0", level1="12.5", level2="")
        == 303
    )
    with session_scope(world.app) as session:
        row = session.scalars(sa.select(CommissionRate)).one()
        assert (row.scope, row.level1_bp, row.level2_bp) == ("platform", 1250, None)
    answer = admin.post(
        "/admin/rates",
        data={"csrf_token": _token(admin, "/admin/"), "scope": "platform", "level1": "39",
              "level2": "2"},
    )  # fmt: skip
    assert answer.status_code == 422
    assert "Product TEE (P-TEE)" in answer.get_data(as_text=True)
    for bad in ("ten", "10.555", "-1", "1000"):
        assert _post(admin, "/admin/rates", scope="platform", level1=bad) == 422
    assert world.buy({"TEE": 1})  # the 12.5 % stands
    with session_scope(world.app) as session:
        assert session.get_one(Distributor, world.bob)  # (exists)


def test_an_admin_refunds_part_of_a_line_and_the_commissions_follow(world: World) -> None:
    admin = _admin(world)
    order_id = world.buy({"TEE": 1})
    with session_scope(world.app) as session:
        number = session.get_one(Order, order_id).number
        line_id = world_line(session, order_id)
    page = admin.get(f"/admin/orders?q={number}").get_data(as_text=True)
    assert number in page
    detail = admin.get(f"/admin/orders/{number}").get_data(as_text=True).replace("\xa0", " ")
    assert "CNY 50.00" in detail
    goodwill = {"kind": "goodwill", "form_key": "k" * 24}
    status = _post(
        admin,
        f"/admin/orders/{number}/refund",
        line_id=str(line_id),
        amount="10.00",
        reason="scratch",
        **goodwill,
    )
    assert status == 303
    assert world.balances(world.bob)["pending"] == 400  # 500 less 1000 x 500 / 5000
    assert world.balances(world.ann)["pending"] == 80
    url = f"/admin/orders/{number}/refund"
    goodwill["form_key"] = "j" * 24
    assert _post(admin, url, line_id=str(line_id), amount="40.01", **goodwill) == 422
    assert _post(admin, url, line_id="999999", amount="1", **goodwill) == 404
    assert _post(admin, "/admin/orders/NOPE/refund", line_id=str(line_id), amount="1") == 404


def world_line(session: sa.orm.Session, order_id: int) -> int:
    from storefront_sdk.orders.models import OrderLine

    found = session.scalar(sa.select(OrderLine.id).where(OrderLine.order_id == order_id))
    assert found is not None
    return found


def test_payouts_are_approved_marked_paid_and_exported(world: World) -> None:
    world.deliver(world.buy({"TEE": 2}))
    world.settle()
    with world.session() as session:
        from storefront_sdk.commissions import payouts

        asked = payouts.request_payout(session, world.bob, "CNY", 100, world.now)
        session.commit()
        payout_id = asked.id
    admin = _admin(world)
    assert f"#{payout_id}" in admin.get("/admin/payouts").get_data(as_text=True)
    assert _post(admin, f"/admin/payouts/{payout_id}/paid", reference="X") == 409  # not approved
    assert _post(admin, f"/admin/payouts/{payout_id}/approve", confirmed="1") == 303
    csv_text = admin.get("/admin/payouts.csv?status=approved").get_data(as_text=True)
    assert csv_text.splitlines()[1].split(",")[2:6] == ["bob@example.com", "", "10.00", "CNY"]
    assert _post(admin, f"/admin/payouts/{payout_id}/paid", reference="") == 422
    assert _post(admin, f"/admin/payouts/{payout_id}/paid", reference="ICBC-778") == 303
    with session_scope(world.app) as session:
        paid = session.get_one(Payout, payout_id)
        assert (paid.status, paid.reference) == ("paid", "ICBC-778")
    assert world.balances(world.bob) == {"pending": 0, "available": 0, "payout": 0, "paid": 1000}
    assert _post(admin, f"/admin/payouts/{payout_id}/reject") == 409
    assert _post(admin, f"/admin/payouts/{payout_id}/explode") == 404


def test_a_supplier_statement_sums_deliveries_less_refunds(world: World) -> None:
    first = world.buy({"TEE": 1, "CAP": 2})
    world.cancel(first, "CAP", 1)  # 1000 of CAP's 2000 supply goes back with the refund
    world.deliver(first)
    world.now += timedelta(days=1)
    world.deliver(world.buy({"TEA": 1}))
    admin = _admin(world)
    start = (world.now - timedelta(days=2)).date().isoformat()
    end = (world.now + timedelta(days=1)).date().isoformat()
    query = f"/admin/statements?supplier={world.supplier_id}&from={start}&to={end}"
    page = admin.get(query).get_data(as_text=True).replace("\xa0", " ")
    assert "CNY 47.00" in page  # 3000 + 2000 - 1000 + 700
    cap = re.search(r"<td>CAP</td>(.*?)</tr>", page)
    assert cap
    assert re.findall(r'data-units="(\w+)">(\d+)<', cap.group(1)) == [
        ("ordered", "2"),
        ("cancelled", "1"),
        ("delivered", "1"),
        ("returned", "0"),
    ]
    rows = admin.get(query + "&format=csv").get_data(as_text=True).splitlines()
    assert rows[-1] == "total,,,,,,,,57.00,10.00,47.00,0.00"
    assert (
        admin.get(f"/admin/statements?supplier={world.supplier_id}&from=2026-13-01").status_code
        == 422
    )
    assert admin.get("/admin/statements?supplier=999").status_code == 404


def test_failed_deliveries_can_be_retried(world: World) -> None:
    world.buy({"TEE": 1})
    with session_scope(world.app) as session:
        from storefront_sdk.fulfillment.models import OutboxEvent

        event = session.scalars(sa.select(OutboxEvent)).one()
        session.execute(sa.update(OutboxEvent).values(status="failed"))
        event_id = event.event_id
    admin = _admin(world)
    assert event_id in admin.get("/admin/deliveries?status=failed").get_data(as_text=True)
    assert _post(admin, f"/admin/deliveries/{event_id}/retry") == 303
    with session_scope(world.app) as session:
        assert session.scalars(sa.select(OutboxEvent.status)).one() == "pending"
    assert _post(admin, "/admin/deliveries/evt_nope/retry") == 404


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/suppliers", "/admin/distributors?status=pending&q=b", "/admin/rates",
     "/admin/orders?status=paid", "/admin/deliveries?status=delivered",
     "/admin/payouts?status=paid", "/admin/statements", "/admin/distributors?before=x"],
)  # fmt: skip
def test_every_admin_page_answers_without_error(world: World, path: str) -> None:
    answer = _admin(world).get(path)
    assert answer.status_code in (200, 400)
    assert answer.headers["Cache-Control"] == "no-store"
    assert "script-src" not in answer.headers["Content-Security-Policy"]


def test_too_many_failed_admin_sign_ins_wait_even_with_the_right_password(world: World) -> None:
    client = world.app.test_client()

    def attempt(password: str) -> object:
        return client.post(
            "/admin/login",
            data={"csrf_token": _token(client, "/admin/login"), "email": "root@example.com",
                  "password": password},
        )  # fmt: skip

    for _ in range(10):  # STOREFRONT_LOGIN_RATE_LIMIT: 10 per 15 minutes
        assert attempt("wrong-password").status_code == 401  # type: ignore[attr-defined]
    refused = attempt("password123")
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert 0 < int(refused.headers["Retry-After"]) <= 900  # type: ignore[attr-defined]
