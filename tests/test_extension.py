"""The Flask extension: registration, configuration defaults and validation."""

from __future__ import annotations

import pytest
from flask import Flask

from storefront_sdk import ConfigurationError, Storefront
from storefront_sdk.config import SETTINGS, from_environ


def _app(tmp_path, **config) -> Flask:
    app = Flask("host", instance_path=str(tmp_path))
    app.config.update(config)
    return app


def test_state_lives_in_app_extensions(tmp_path):
    app = _app(tmp_path, TESTING=True)
    Storefront(app)
    state = app.extensions["storefront"]
    assert state.engine.url.database == str(tmp_path / "storefront.sqlite3")
    assert not hasattr(app, "storefront")


def test_a_second_registration_is_refused(tmp_path):
    app = _app(tmp_path, TESTING=True)
    Storefront(app)
    with pytest.raises(RuntimeError, match="already registered"):
        Storefront(app)


def test_one_extension_serves_several_apps(tmp_path):
    storefront = Storefront(api_prefix="/api/v2")
    first, second = _app(tmp_path / "a", TESTING=True), _app(tmp_path / "b", TESTING=True)
    storefront.init_app(first)
    storefront.init_app(second)
    assert first.extensions["storefront"].engine is not second.extensions["storefront"].engine
    assert second.test_client().get("/api/v2/openapi.json").status_code == 200


def test_every_setting_gets_its_default(tmp_path):
    app = _app(tmp_path, TESTING=True)
    Storefront(app)
    for setting in SETTINGS:
        assert setting.name in app.config
    assert app.config["STOREFRONT_ORDER_EXPIRY_MINUTES"] == 30
    assert app.config["STOREFRONT_COMMISSION_LEVEL1_BP"] == 1000


def test_the_host_config_wins_over_extension_options(tmp_path):
    app = _app(tmp_path, TESTING=True, STOREFRONT_ATTRIBUTION_DAYS=7)
    Storefront(app, storefront_attribution_days=14)
    assert app.config["STOREFRONT_ATTRIBUTION_DAYS"] == 7


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"STOREFRONT_DATABASE_URL": "not a url"}, "STOREFRONT_DATABASE_URL is not a database URL"),
        ({"STOREFRONT_DATABASE_URL": "mysql://h/db"}, "must be a sqlite:// or postgresql"),
        ({"STOREFRONT_DATABASE_URL": "postgresql+psycopg2://h/db"}, "use the psycopg 3 driver"),
        (
            {"STOREFRONT_ORDER_EXPIRY_MINUTES": 0},
            "STOREFRONT_ORDER_EXPIRY_MINUTES must be an integer",
        ),
        ({"STOREFRONT_COMMISSION_LEVEL1_BP": "1000"}, "STOREFRONT_COMMISSION_LEVEL1_BP must be"),
        (
            {"STOREFRONT_WEBHOOK_ALLOW_HTTP": "yes"},
            "STOREFRONT_WEBHOOK_ALLOW_HTTP must be true or false",
        ),
        ({"STOREFRONT_API_PREFIX": "api/"}, "STOREFRONT_API_PREFIX must start with '/'"),
        ({"STOREFRONT_SUPPLIER_RATE_LIMIT": "lots"}, "must look like '600/minute'"),
        ({"STOREFRONT_PAYMENT_PROVIDER": "paypal"}, "must be 'stripe' or 'dev'"),
        ({"STOREFRONT_IDEMPOTENCY_TTL_HOURS": 1}, "STOREFRONT_IDEMPOTENCY_TTL_HOURS must be"),
    ],
)
def test_bad_settings_are_refused_at_init_naming_the_key(tmp_path, config, message):
    app = _app(tmp_path, TESTING=True, **config)
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        Storefront(app)


def test_production_requires_a_strong_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY must be set"):
        Storefront(_app(tmp_path))
    with pytest.raises(ConfigurationError, match="SECRET_KEY must be set"):
        Storefront(_app(tmp_path, SECRET_KEY="dev"))
    Storefront(_app(tmp_path, SECRET_KEY="a-long-and-random-production-secret"))


def test_debug_and_testing_apps_may_run_without_a_secret(tmp_path):
    Storefront(_app(tmp_path, TESTING=True))
    Storefront(_app(tmp_path, DEBUG=True))


def test_environment_values_are_converted_to_the_setting_types():
    values = from_environ(
        {
            "STOREFRONT_ATTRIBUTION_DAYS": "14",
            "STOREFRONT_WEBHOOK_ALLOW_HTTP": "true",
            "STOREFRONT_DATABASE_URL": "sqlite:///x.db",
            "STRIPE_SECRET_KEY": "sk_test_123",
            "HOME": "/root",
        }
    )
    assert values == {
        "STOREFRONT_ATTRIBUTION_DAYS": 14,
        "STOREFRONT_WEBHOOK_ALLOW_HTTP": True,
        "STOREFRONT_DATABASE_URL": "sqlite:///x.db",
        "STRIPE_SECRET_KEY": "sk_test_123",
    }


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"STOREFRONT_ATTRIBUTION_DAYZ": "3"}, "unknown setting STOREFRONT_ATTRIBUTION_DAYZ"),
        ({"STOREFRONT_ATTRIBUTION_DAYS": "many"}, "must be an integer, got 'many'"),
        ({"STOREFRONT_WEBHOOK_ALLOW_HTTP": "maybe"}, "must be true or false"),
    ],
)
def test_bad_environment_values_are_refused(environ, message):
    with pytest.raises(ConfigurationError, match=message):
        from_environ(environ)


def test_host_pages_keep_their_own_errors(tmp_path):
    app = _app(tmp_path, SECRET_KEY="a-long-and-random-production-secret")

    @app.get("/boom")
    def boom():
        raise ValueError("host bug")

    Storefront(app)
    client = app.test_client()
    assert client.get("/nope").content_type.startswith("text/html")
    assert client.get("/boom").status_code == 500
    assert client.get("/boom").content_type.startswith("text/html")


def test_every_setting_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in text]
    assert missing == []


def test_unknown_extension_options_are_refused():
    with pytest.raises(ConfigurationError, match="unknown storefront option 'api_prefx'"):
        Storefront(api_prefx="/x")
