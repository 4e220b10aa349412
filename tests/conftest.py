"""Fixtures shared by the whole suite.

Every database test runs twice: on SQLite (the embedded default) and on a real PostgreSQL
cluster that this session starts in a temporary directory (or the server named by
``STOREFRONT_TEST_POSTGRES_URL``). Each test gets an empty, migrated database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from storefront_sdk import Storefront, migrate
from storefront_sdk.db import create_engine, session_scope
from storefront_sdk.models import storefront_tables
from storefront_sdk.testing.factories import make_supplier
from storefront_sdk.testing.postgres import start_cluster

#: Fixtures of the browser tests (Playwright in the system's Chromium).
pytest_plugins = ["browser_fixtures"]

BACKENDS = ("sqlite", "postgresql")
#: Fixtures that start or use the PostgreSQL cluster.
POSTGRES_FIXTURES = frozenset({"postgres_server_url", "postgres_url", "pg_app"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the tests that need PostgreSQL (``-m "not postgresql"`` leaves them out, as
    ``make test-fast`` does) and those that drive a browser."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("backend") == "postgresql"
        if on_postgres or names & POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgresql)
        if "browser" in names or "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of the maintenance database of a PostgreSQL server for this session."""
    given = os.environ.get("STOREFRONT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str, worker_id: str) -> str:
    """A migrated PostgreSQL database shared by the session (emptied before each test), one
    per xdist worker (``worker_id``: ``gw0``, ``gw1``..., ``master`` without workers), so
    workers sharing one server never touch each other's tables."""
    name = f"storefront_test_{worker_id}"
    admin = create_engine(postgres_server_url, {"isolation_level": "AUTOCOMMIT"})
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    url = sa.make_url(postgres_server_url).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    engine = create_engine(rendered)
    migrate.upgrade(engine)
    engine.dispose()
    return rendered


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "storefront.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated database on the current backend."""
    if backend == "sqlite":
        path = tmp_path / "storefront.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(storefront_tables())
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture
def pg_app(postgres_url: str) -> Iterator[Flask]:
    """An app on an empty PostgreSQL database, for concurrency tests that need real
    row locking (SQLite serialises every writer)."""
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(storefront_tables())} RESTART IDENTITY CASCADE")
    engine.dispose()
    app = build_app(postgres_url)
    yield app
    app.extensions["storefront"].engine.dispose()


def run_cli(db_url: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``flask storefront <args>`` of the example shop on ``db_url`` in a subprocess."""
    env = dict(os.environ)
    env.update(
        STOREFRONT_DATABASE_URL=db_url,
        EXAMPLE_SHOP_INSTANCE_PATH=str(tmp_path / "instance"),
        SECRET_KEY="cli-test-secret-key-0123456789",
    )
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "example_shop.wsgi:app", "storefront", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def build_app(db_url: str, **config: Any) -> Flask:
    """A Flask app with a storefront on ``db_url`` in testing mode."""
    app = Flask("storefront_test_app")
    app.config.update(TESTING=True, SECRET_KEY="test-secret-key-0123456789", **config)
    app.config["STOREFRONT_DATABASE_URL"] = db_url
    Storefront(app)
    return app


@pytest.fixture
def upload_folder(tmp_path: Path) -> Path:
    """Where this test's uploaded logos are written."""
    return tmp_path / "uploads"


@pytest.fixture
def app(db_url: str, upload_folder: Path) -> Iterator[Flask]:
    """A storefront app on the current backend; uploads go to :func:`upload_folder`,
    through the documented storage swap."""
    from storefront_sdk.storage import LocalFolderStorage

    app = build_app(db_url)
    app.extensions["storefront"].storage = LocalFolderStorage(upload_folder)
    yield app
    app.extensions["storefront"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of :func:`app`."""
    return app.test_client()


class SupplierClient:
    """A test client that sends one supplier's API key with every request."""

    def __init__(self, client: FlaskClient, supplier_id: int, api_key: str) -> None:
        self.client = client
        self.supplier_id = supplier_id
        self.api_key = api_key
        self.base = "/api/v1/supplier"

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(
            self.base + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.client.put(
            self.base + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(
            self.base + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.client.patch(
            self.base + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(
            self.base + path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )


def new_supplier_client(app: Flask, currency: str = "CNY") -> SupplierClient:
    """A supplier created in ``app``'s database and a client authenticated as it."""
    with session_scope(app) as session:
        supplier, key = make_supplier(session, currency=currency)
        supplier_id = supplier.id or 0
    return SupplierClient(app.test_client(), supplier_id, key)


@pytest.fixture
def supplier(app: Flask) -> SupplierClient:
    """Supplier A: a CNY supplier with a live API key."""
    return new_supplier_client(app)


@pytest.fixture
def other_supplier(app: Flask) -> SupplierClient:
    """Supplier B, the other tenant."""
    return new_supplier_client(app)
