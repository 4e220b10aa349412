"""What a host app is told at start-up: unknown or invalid settings are refused, and a
database without the storefront's tables or an app without a payment provider are logged,
naming the file and the command to run."""

from __future__ import annotations

import logging

import pytest
from conftest import run_cli
from flask import Flask

from storefront_sdk import ConfigurationError, Storefront


def _host(tmp_path, **config) -> Flask:
    app = Flask("host_starting_up", instance_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="host-secret-key-0123456789", **config)
    return app


def test_an_unknown_storefront_key_in_the_config_is_refused(tmp_path):
    app = _host(tmp_path, STOREFRONT_SHOP_PREFX="/shop")
    with pytest.raises(ConfigurationError, match="unknown setting STOREFRONT_SHOP_PREFX in app"):
        Storefront(app)


def test_flask_smorests_settings_under_the_prefix_are_accepted(tmp_path):
    app = _host(tmp_path, STOREFRONT_OPENAPI_SWAGGER_UI_PATH="docs")
    Storefront(app)
    assert app.config["STOREFRONT_OPENAPI_SWAGGER_UI_PATH"] == "docs"


@pytest.mark.parametrize("methods", ["card,bitcoin", "card,card", "Card"])
def test_an_unknown_stripe_payment_method_is_refused(tmp_path, methods):
    app = _host(tmp_path, STOREFRONT_STRIPE_PAYMENT_METHODS=methods)
    with pytest.raises(ConfigurationError, match="STOREFRONT_STRIPE_PAYMENT_METHODS must list"):
        Storefront(app)


def test_a_missing_database_file_is_named_with_the_command_to_run(tmp_path, caplog):
    # Given a host whose SQLite database was never created
    path = tmp_path / "shop.sqlite3"
    app = _host(tmp_path, STOREFRONT_DATABASE_URL=f"sqlite:///{path}")
    # When the storefront starts
    with caplog.at_level(logging.ERROR):
        Storefront(app)
    # Then the log names the file and the command, and no empty file was made by looking
    assert f"the database file {path} does not exist: run `flask storefront init-db`" in (
        caplog.text
    )
    assert not path.exists()


def test_a_missing_database_folder_is_named(tmp_path, caplog):
    app = _host(tmp_path / "instance")
    with caplog.at_level(logging.ERROR):
        Storefront(app)
    assert (
        f"the database folder {tmp_path / 'instance'} does not exist: create it, then run "
        "`flask storefront init-db`" in caplog.text
    )


def test_a_database_without_the_tables_is_named(tmp_path, caplog):
    # Given a database file the host made, without the storefront's tables
    path = tmp_path / "host.sqlite3"
    path.write_bytes(b"")
    app = _host(tmp_path, STOREFRONT_DATABASE_URL=f"sqlite:///{path}")
    with caplog.at_level(logging.ERROR):
        Storefront(app)
    assert (
        f"the database sqlite:///{path} has no storefront tables: run `flask storefront "
        "init-db`" in caplog.text
    )


def test_a_migrated_database_logs_no_error(db_url, tmp_path, caplog):
    app = _host(tmp_path, STOREFRONT_DATABASE_URL=db_url, STOREFRONT_PAYMENT_PROVIDER="dev")
    with caplog.at_level(logging.WARNING):
        Storefront(app)
    assert [r.getMessage() for r in caplog.records if r.name == app.logger.name] == []


def test_an_app_without_payment_provider_is_warned(db_url, tmp_path, caplog):
    app = _host(tmp_path, STOREFRONT_DATABASE_URL=db_url)
    with caplog.at_level(logging.WARNING):
        Storefront(app)
    assert (
        "storefront: no payment provider (set STOREFRONT_PAYMENT_PROVIDER, or "
        "STRIPE_SECRET_KEY): the shops' checkout refuses every order until one is set"
    ) in caplog.text


def test_init_db_on_a_new_database_is_not_told_to_run_itself(tmp_path):
    # Given no database yet, when `flask storefront init-db` creates it
    done = run_cli(f"sqlite:///{tmp_path / 'new.sqlite3'}", "init-db", tmp_path=tmp_path)
    # Then it says only that it worked (commands report their own database errors)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, '{"ok": true}', "")
