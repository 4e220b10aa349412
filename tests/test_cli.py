"""``flask storefront ...``: JSON on stdout, one-line errors and non-zero exits."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from conftest import run_cli

from storefront_sdk.catalog.models import Supplier
from storefront_sdk.db import session_scope
from storefront_sdk.platform_admins import PlatformAdmin
from storefront_sdk.shops.models import Distributor


@pytest.fixture
def cli(db_url, tmp_path):
    return lambda *args: run_cli(db_url, *args, tmp_path=tmp_path)


def test_init_db_prints_ok_and_is_idempotent(cli):
    first, second = cli("init-db"), cli("init-db")
    assert (first.returncode, json.loads(first.stdout)) == (0, {"ok": True})
    assert (second.returncode, json.loads(second.stdout)) == (0, {"ok": True})


def test_create_supplier_prints_id_and_a_working_key(cli, app):
    result = cli("create-supplier", "--name", "Acme", "--currency", "CNY")
    assert result.returncode == 0
    created = json.loads(result.stdout)
    assert set(created) == {"id", "api_key"}
    assert created["api_key"].startswith("sfk_")
    # The key authenticates against the API
    response = app.test_client().get(
        "/api/v1/supplier/products", headers={"Authorization": f"Bearer {created['api_key']}"}
    )
    assert response.status_code == 200


def test_create_api_key_adds_a_second_key(cli):
    supplier = json.loads(cli("create-supplier", "--name", "Acme", "--currency", "JPY").stdout)
    result = cli("create-api-key", "--supplier", str(supplier["id"]))
    assert result.returncode == 0
    assert json.loads(result.stdout)["api_key"] != supplier["api_key"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create-supplier", "--name", "Acme", "--currency", "XYZ"), "unknown currency 'XYZ'"),
        (("create-supplier", "--name", "Acme", "--currency", "cny"), "upper-case ISO 4217"),
        (("create-supplier", "--name", " ", "--currency", "CNY"), "name must be 1 to 200"),
        (
            ("create-supplier", "--name", "A", "--currency", "CNY", "--webhook-url", "ftp://x"),
            "webhook URL refused: URL scheme must be https",
        ),
        (("create-api-key", "--supplier", "999"), "no supplier with id 999"),
        (("create-api-key", "--supplier", "abc"), "'abc' is not a valid integer"),
        (("create-supplier", "--currency", "CNY"), "Missing option '--name'"),
        (("create-admin", "--email", "root", "--password", "password123"), "not an email"),
        (("create-admin", "--email", "a@b.example", "--password", "short"), "password must be"),
        (
            ("create-admin", "--email", "a@b.example", "--password", "x" * 9, "--role", "god"),
            "'god' is not one of 'admin', 'viewer'",
        ),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line(cli, args, message):
    result = cli(*args)
    assert result.returncode != 0
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_database_url_is_one_line(tmp_path):
    result = run_cli("mysql://nowhere/db", "init-db", tmp_path=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        "STOREFRONT_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_revoke_api_key_locks_the_key_out(cli, app):
    supplier = json.loads(cli("create-supplier", "--name", "Acme", "--currency", "CNY").stdout)
    prefix = supplier["api_key"][:16]
    result = cli("revoke-api-key", "--supplier", str(supplier["id"]), "--prefix", prefix)
    assert (result.returncode, json.loads(result.stdout)) == (0, {"revoked": prefix})
    response = app.test_client().get(
        "/api/v1/supplier/products", headers={"Authorization": f"Bearer {supplier['api_key']}"}
    )
    assert response.status_code == 401
    again = cli("revoke-api-key", "--supplier", "999", "--prefix", prefix)
    assert again.returncode != 0
    assert "supplier 999 has no API key" in again.stderr


def test_seed_demo_summarises_and_can_run_twice(cli, monkeypatch):
    monkeypatch.setenv("STOREFRONT_DEMO_MODE", "1")  # as make demo runs it
    first = json.loads(cli("seed-demo").stdout)
    second = json.loads(cli("seed-demo").stdout)
    assert first["products"] == {"created": 36, "updated": 0, "unchanged": 0}
    assert second["products"] == {"created": 0, "updated": 0, "unchanged": 36}
    assert first["supplier_id"] == second["supplier_id"]


def test_seed_demo_outside_demo_mode_refuses_and_creates_no_account(cli, app, monkeypatch):
    # Given an app that is not in demo mode
    monkeypatch.delenv("STOREFRONT_DEMO_MODE", raising=False)
    # When seed-demo runs
    result = cli("seed-demo")
    # Then it refuses in one line, and no account with a published password exists
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: seed-demo creates accounts whose passwords are published: it runs only in "
        "demo mode (STOREFRONT_DEMO_MODE=1, as make demo sets it)\n"
    )
    with session_scope(app) as session:
        for model in (Supplier, Distributor, PlatformAdmin):
            assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_create_admin_prints_the_id_and_refuses_a_second_with_that_email(cli):
    first = cli("create-admin", "--email", "Root@Example.com", "--password", "password123")
    assert (first.returncode, json.loads(first.stdout)) == (0, {"id": 1})
    again = cli("create-admin", "--email", "root@example.com", "--password", "password123")
    assert again.returncode == 1
    assert again.stderr.strip() == "Error: an admin with email 'root@example.com' already exists"


def test_settle_prints_what_it_did(cli):
    result = cli("settle")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "supplier_orders": 0,
        "entries": 0,
        "available": {},
        "clawbacks": 0,
    }
