"""Payouts can be paid: a distributor records the account payouts go to (bank or Alipay,
shown masked, each change recorded), the bank-transfer CSV carries it whole, and the
admin's approving, rejecting (with a reason the distributor sees) and suspending are
confirmed first and then said."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from commission_world import World, dispose, make_world
from flask.testing import FlaskClient

from storefront_sdk.commissions import payouts
from storefront_sdk.commissions.models import Payout
from storefront_sdk.commissions.payout_accounts import PayoutAccount, PayoutAccountChange
from storefront_sdk.db import session_scope
from storefront_sdk.shops.models import Distributor

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FLASH = re.compile(r'data-testid="flash">([^<]+)<')
BANK = {
    "kind": "bank",
    "holder_name": "Bob Li",
    "bank_name": "ICBC Shanghai",
    "account_number": "6222 0212 3456 5678",
}


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    made = make_world(db_url, STOREFRONT_PAYOUT_MINIMUM_MINOR=100)
    yield made
    dispose(made)


def _token(client: FlaskClient, path: str) -> str:
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, path
    return found.group(1)


def _signed_in(world: World, area: str, email: str) -> FlaskClient:
    client = world.app.test_client()
    answer = client.post(
        f"/{area}/login",
        data={
            "csrf_token": _token(client, f"/{area}/login"),
            "email": email,
            "password": "password123",
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    return client


def _post(client: FlaskClient, path: str, page: str, **data: str) -> tuple[int, str]:
    answer = client.post(path + "?lang=en", data={"csrf_token": _token(client, page), **data})
    return answer.status_code, answer.get_data(as_text=True)


def _save_account(client: FlaskClient, **fields: str) -> tuple[int, str]:
    return _post(client, "/console/payouts/account", "/console/payouts", **fields)


def _requested_payout(world: World) -> int:
    """Bob's available 10.00, asked for."""
    world.deliver(world.buy({"TEE": 2}))
    world.settle()
    with world.session() as session:
        asked = payouts.request_payout(session, world.bob, "CNY", 100, world.now)
        session.commit()
        return asked.id or 0


def _status(world: World, payout_id: int) -> tuple[str, str | None]:
    with session_scope(world.app) as session:
        found = session.get_one(Payout, payout_id)
        return found.status, found.note


def test_a_bank_account_is_shown_masked_and_each_change_is_recorded(world: World) -> None:
    # Given Bob signed in to the console
    bob = _signed_in(world, "console", "bob@example.com")
    # When he gives a bank account, then changes it to Alipay
    assert _save_account(bob, **BANK)[0] == 303
    page = bob.get("/console/payouts?lang=en&account_saved=1").get_data(as_text=True)
    # Then the page shows it masked, never whole
    assert "Your payout account was saved." in page
    shown = re.search(r'data-testid="account-shown">([^\n]*)</p>', page)
    assert shown
    assert "ICBC Shanghai" in shown.group(1)
    assert 'data-testid="account-number" style="white-space:nowrap">•••• 5678<' in page
    assert "3456" not in page
    alipay = {"kind": "alipay", "holder_name": "Bob Li", "bank_name": ""}
    assert _save_account(bob, **alipay, account_number="Bob.Li@Example.com")[0] == 303
    page = bob.get("/console/payouts?lang=en").get_data(as_text=True)
    assert 'data-testid="account-number" style="white-space:nowrap">b••••@example.com<' in page
    # and both changes are recorded, masked
    with session_scope(world.app) as session:
        changes = [
            (c.distributor_id, c.kind, c.masked, c.replaced, c.bank_name)
            for c in session.scalars(
                sa.select(PayoutAccountChange).order_by(PayoutAccountChange.id)
            )
        ]
        account = session.scalars(sa.select(PayoutAccount)).one()
        stored = (account.distributor_id, account.kind, account.account_number, account.bank_name)
    assert changes == [
        (world.bob, "bank", "•••• 5678", None, "ICBC Shanghai"),
        (world.bob, "alipay", "b••••@example.com", "•••• 5678", None),
    ]
    assert stored == (world.bob, "alipay", "bob.li@example.com", None)
    # and Ann, another distributor, sees none of it
    ann_page = _signed_in(world, "console", "ann@example.com").get("/console/payouts?lang=en")
    assert "example.com<" not in ann_page.get_data(as_text=True).split("account-form")[0]
    assert "Bob Li" not in ann_page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "paypal"}, "Choose a bank account or Alipay."),
        ({"holder_name": "  "}, "The account holder&#39;s name must be 1 to 100 characters."),
        ({"bank_name": "X"}, "The bank&#39;s name must be 2 to 100 characters."),
        ({"account_number": "1234"}, "A bank account number is 8 to 30 digits"),
        ({"account_number": "6222-abc-5678"}, "A bank account number is 8 to 30 digits"),
        ({"kind": "alipay", "account_number": "12345"}, "an Alipay id is a mobile number"),
    ],
)
def test_a_bad_payout_account_is_refused_with_its_field_and_nothing_saved(
    world: World, fields: dict[str, str], message: str
) -> None:
    bob = _signed_in(world, "console", "bob@example.com")
    status, page = _save_account(bob, **(BANK | fields))
    assert status == 422
    assert message in re.search(r'data-testid="account-error">([^<]+)<', page).group(1)  # type: ignore[union-attr]
    with session_scope(world.app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PayoutAccount)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(PayoutAccountChange)) == 0


def test_the_bank_transfer_csv_carries_the_whole_account_and_the_list_masks_it(
    world: World,
) -> None:
    # Given Bob's bank account and his payout, approved
    assert _save_account(_signed_in(world, "console", "bob@example.com"), **BANK)[0] == 303
    payout_id = _requested_payout(world)
    admin = _signed_in(world, "admin", "root@example.com")
    listed = admin.get("/admin/payouts?lang=en").get_data(as_text=True)
    assert "Bank · Bob Li · ICBC Shanghai · •••• 5678" in listed
    assert "6222021234565678" not in listed
    approved = _post(admin, f"/admin/payouts/{payout_id}/approve", "/admin/payouts", confirmed="1")
    assert approved[0] == 303
    # When the admin downloads the CSV of approved payouts
    body = admin.get("/admin/payouts.csv?status=approved").get_data(as_text=True)
    # Then its row carries the account whole, to be paid
    rows = list(csv.DictReader(io.StringIO(body)))
    columns = ("payout", "amount", "account_kind", "account_holder", "bank_name", "account_number")
    assert [tuple(row[name] for name in columns) for row in rows] == [
        (str(payout_id), "10.00", "bank", "Bob Li", "ICBC Shanghai", "6222021234565678")
    ]


def test_approving_a_payout_is_confirmed_first_then_said(world: World) -> None:
    assert _save_account(_signed_in(world, "console", "bob@example.com"), **BANK)[0] == 303
    payout_id = _requested_payout(world)
    admin = _signed_in(world, "admin", "root@example.com")
    # When the admin presses Approve
    status, page = _post(admin, f"/admin/payouts/{payout_id}/approve", "/admin/payouts")
    # Then a confirmation page says who is paid, how much and where to; nothing is done yet
    assert status == 200
    assert f"Approve payout #{payout_id}?" in page
    assert 'data-testid="confirm-amount">CNY' in page
    assert "10.00" in page
    assert 'data-testid="confirm-account">Bank · Bob Li · ICBC Shanghai · •••• 5678<' in page
    assert 'name="confirmed" value="1"' in page
    assert _status(world, payout_id) == ("requested", None)
    # When they confirm, then it is approved and the list says so
    answer = admin.post(
        f"/admin/payouts/{payout_id}/approve?lang=en",
        data={"csrf_token": _token(admin, "/admin/payouts"), "confirmed": "1"},
        follow_redirects=True,
    )
    assert _FLASH.findall(answer.get_data(as_text=True)) == [f"Payout #{payout_id} approved."]
    assert _status(world, payout_id) == ("approved", None)
    # and a decided payout has nothing left to confirm
    assert _post(admin, f"/admin/payouts/{payout_id}/approve", "/admin/payouts")[0] == 409
    assert _post(admin, "/admin/payouts/987654/approve", "/admin/payouts")[0] == 404


def test_rejecting_a_payout_needs_a_reason_which_the_distributor_sees(world: World) -> None:
    payout_id = _requested_payout(world)
    admin = _signed_in(world, "admin", "root@example.com")
    path = f"/admin/payouts/{payout_id}/reject"
    # When the admin confirms a rejection without a reason
    status, page = _post(admin, path, "/admin/payouts", confirmed="1", note="  ")
    # Then it is refused, and nothing changes
    assert status == 422
    assert "Give the reason: the distributor is shown it." in page
    assert _status(world, payout_id) == ("requested", None)
    # When they give one, then the payout is rejected and the list says so
    answer = admin.post(
        path + "?lang=en",
        data={
            "csrf_token": _token(admin, "/admin/payouts"),
            "confirmed": "1",
            "note": "The account  holder's name does not match.",
        },
        follow_redirects=True,
    )
    assert _FLASH.findall(answer.get_data(as_text=True)) == [f"Payout #{payout_id} rejected."]
    assert _status(world, payout_id) == ("rejected", "The account holder's name does not match.")
    assert world.balances(world.bob)["available"] == 1000
    # and Bob sees the reason on his payouts page
    bob_page = _signed_in(world, "console", "bob@example.com").get("/console/payouts?lang=en")
    note = re.search(r'data-testid="payout-note">([^<]+)<', bob_page.get_data(as_text=True))
    assert note
    assert note.group(1) == "Reason: The account holder&#39;s name does not match."


def test_suspending_a_distributor_is_confirmed_first_then_said(world: World) -> None:
    admin = _signed_in(world, "admin", "root@example.com")
    path = f"/admin/distributors/{world.bob}/status"
    status, page = _post(admin, path, "/admin/distributors", action="suspend")
    assert status == 200
    assert "Suspend Bob?" in page or "Suspend bob@example.com?" in page
    with session_scope(world.app) as session:
        assert session.get_one(Distributor, world.bob).status == "active"
    answer = admin.post(
        path + "?lang=en",
        data={
            "csrf_token": _token(admin, "/admin/distributors"),
            "action": "suspend",
            "confirmed": "1",
        },
        follow_redirects=True,
    )
    said = _FLASH.findall(answer.get_data(as_text=True))
    assert len(said) == 1
    assert said[0].endswith("suspended: their shop is closed.")
    with session_scope(world.app) as session:
        assert session.get_one(Distributor, world.bob).status == "suspended"
