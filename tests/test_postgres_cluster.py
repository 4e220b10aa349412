"""The throwaway PostgreSQL cluster used by the tests and benchmarks."""

from __future__ import annotations

import socket

import psycopg

from storefront_sdk.testing import postgres


def test_a_port_taken_before_the_server_binds_it_is_replaced(monkeypatch):
    # Given a first candidate port that another process is already listening on
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    candidates = iter([taken.getsockname()[1], postgres._free_port()])
    monkeypatch.setattr(postgres, "_free_port", lambda: next(candidates))
    try:
        # When a cluster is started, then it runs on the next candidate
        cluster = postgres.start_cluster()
        try:
            assert cluster.port != taken.getsockname()[1]
            dsn = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"
            with psycopg.connect(dsn) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
        finally:
            cluster.stop()
    finally:
        taken.close()
