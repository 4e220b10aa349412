"""Helpers shared by the benchmarks: a migrated database on a throwaway PostgreSQL cluster, and
apps served by gunicorn (2 sync workers, as in production)."""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from storefront_sdk import migrate
from storefront_sdk.db import create_engine
from storefront_sdk.testing.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parent.parent
#: Gunicorn's settings for every served app: 2 sync workers, no control socket.
GUNICORN_OPTIONS = ["-w", "2", "--no-control-socket", "--log-level", "warning"]


@dataclass(frozen=True)
class Database:
    """A database of a running cluster: a libpq DSN (psycopg) and a SQLAlchemy URL."""

    dsn: str
    url: str


def create_database(cluster: PostgresCluster, name: str = "bench") -> Database:
    """Create database ``name`` on ``cluster`` and migrate it to the latest schema."""
    with psycopg.connect(
        f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = Database(
        dsn=f"host=127.0.0.1 port={cluster.port} user=postgres dbname={name}",
        url=f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/{name}",
    )
    engine = create_engine(database.url)
    migrate.upgrade(engine)
    engine.dispose()
    return database


def free_port() -> int:
    """A loopback TCP port free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shop_env(db_url: str, instance: Path, page_cache_seconds: int | None = None) -> dict[str, str]:
    """Environment of the example shop on ``db_url`` with its instance folder in ``instance``
    (and ``STOREFRONT_PAGE_CACHE_SECONDS`` when given)."""
    env = {
        "STOREFRONT_DATABASE_URL": db_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "EXAMPLE_SHOP_INSTANCE_PATH": str(instance),
    }
    if page_cache_seconds is not None:
        env["STOREFRONT_PAGE_CACHE_SECONDS"] = str(page_cache_seconds)
    return env


def start_gunicorn(
    app: str,
    port: int,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    ready_path: str = "/",
    cwd: Path = ROOT,
) -> subprocess.Popen[bytes]:
    """Serve the WSGI ``app`` (``module:name``, importable from ``cwd``) under gunicorn on
    ``port``; return once ``ready_path`` answers 200. Gunicorn's stderr goes to ``log``."""
    environ = dict(os.environ)
    environ.update(env or {})
    command = [sys.executable, "-m", "gunicorn", *GUNICORN_OPTIONS]
    command += ["-b", f"127.0.0.1:{port}", app]
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            command, cwd=cwd, env=environ, stdout=subprocess.DEVNULL, stderr=stderr
        )
    for _ in range(300):
        if process.poll() is not None:
            break
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", ready_path)
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"gunicorn ({app}) did not start; {log}:\n{tail}")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a server started here (gracefully, then by force)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
