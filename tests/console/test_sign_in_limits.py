"""Sign-in limits: attempts counted in the database before the password is checked (so
parallel guesses never get more than the limit checked), per account and per client apart,
with a back-off that ends; unknown emails cost a password check; sign-ups are limited."""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from conftest import build_app
from console_support import PASSWORD, csrf_token, make_distributor
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from storefront_sdk.db import session_scope, utcnow
from storefront_sdk.ratelimit import AttemptCounter, Limit, count_attempt
from storefront_sdk.shops.accounts import dummy_password_hash
from storefront_sdk.shops.models import Distributor


def _login(client, email, password, environ=None):
    return client.post(
        "/console/login",
        data={"csrf_token": csrf_token(client), "email": email, "password": password},
        environ_base=environ or {},
    )


def _cheap_password(app, email):
    """The account's password hashed cheaply (150 parallel checks must not each take
    scrypt's memory): the same password, another Werkzeug method."""
    with session_scope(app) as session:
        session.execute(
            sa.update(Distributor)
            .where(Distributor.email == email)
            .values(password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1000"))
        )


def test_150_parallel_wrong_passwords_get_exactly_the_limit_checked(pg_app):
    # Given a distributor on PostgreSQL, the app served by a real threaded server, and a
    # browser session with its form token
    make_distributor(pg_app, "ada@example.com")
    _cheap_password(pg_app, "ada@example.com")
    server = make_server("127.0.0.1", 0, pg_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    first = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    first.request("GET", "/console/login")
    answer = first.getresponse()
    cookie = answer.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', answer.read().decode()).group(1)
    body = f"csrf_token={token}&email=ada%40example.com&password=wrong-password"
    start = threading.Barrier(150)

    def attempt(_: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start.wait()
        connection.request(
            "POST",
            "/console/login",
            body,
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        status = connection.getresponse().status
        connection.close()
        return status

    # When 150 wrong passwords are posted at once
    try:
        with ThreadPoolExecutor(150) as pool:
            statuses = Counter(pool.map(attempt, range(150)))
    finally:
        server.shutdown()

    # Then exactly the limit (10) were checked (401) and every other one refused unchecked
    assert statuses == {401: 10, 429: 140}


def test_one_clients_typos_do_not_lock_out_the_other_distributors_behind_it(app, client):
    # Given an office address from which ada's account failed 10 times (its limit)
    make_distributor(app, "ada@example.com")
    make_distributor(app, "bob@example.com")
    for _ in range(10):
        assert _login(client, "ada@example.com", "nope").status_code == 401

    # When bob signs in from the same address
    response = _login(client, "bob@example.com", PASSWORD)

    # Then he gets in; ada's account waits
    assert response.status_code == 303
    assert _login(app.test_client(), "ada@example.com", PASSWORD).status_code == 429


def test_the_lockout_ends_and_doubles_each_time(db_url):
    # Given a limit of 2 attempts a second per account, and 2 wrong passwords
    app = build_app(db_url, STOREFRONT_LOGIN_RATE_LIMIT="2/second")
    client = app.test_client()
    make_distributor(app, "ada@example.com")
    for _ in range(2):
        assert _login(client, "ada@example.com", "nope").status_code == 401

    # When the limit is passed, then the account is refused for the window (1 s) ...
    refused = _login(client, "ada@example.com", PASSWORD)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")

    # ... after which the right password works again
    time.sleep(1.2)
    assert _login(client, "ada@example.com", PASSWORD).status_code == 303

    # And a lockout after another lockout (without a success between) lasts twice as long
    for _ in range(2):
        assert _login(app.test_client(), "ada@example.com", "nope").status_code == 401
    assert _login(app.test_client(), "ada@example.com", "nope").headers["Retry-After"] == "1"
    time.sleep(1.2)
    for _ in range(2):
        assert _login(app.test_client(), "ada@example.com", "nope").status_code == 401
    second = _login(app.test_client(), "ada@example.com", PASSWORD)
    assert (second.status_code, second.headers["Retry-After"]) == (429, "2")
    app.extensions["storefront"].engine.dispose()


def test_the_dummy_hash_is_made_like_the_accounts_hashes(app):
    # Given a distributor's stored hash
    make_distributor(app, "ada@example.com")
    with session_scope(app) as session:
        stored = session.scalars(sa.select(Distributor.password_hash)).one()

    # Then the hash checked for unknown emails uses the same method and cost
    assert dummy_password_hash().split("$")[0] == stored.split("$")[0]


def test_an_unknown_email_costs_as_long_as_a_wrong_password(app, client):
    # Given a distributor
    make_distributor(app, "ada@example.com")
    _login(client, "nobody@example.com", "warm-up")  # the dummy hash is made once

    def median_seconds(email: str) -> float:
        times = []
        for n in range(5):
            environ = {"REMOTE_ADDR": f"10.1.{len(email)}.{n}"}
            started = time.perf_counter()
            assert _login(client, email, f"wrong-{n}", environ).status_code == 401
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    # When wrong passwords are tried for the known and for an unknown email
    known = median_seconds("ada@example.com")
    unknown = median_seconds("nobody@example.com")

    # Then the unknown one pays a password check too (without it, it is ~100 times faster)
    assert unknown > known / 3


def test_sign_ups_are_limited_per_client(db_url):
    # Given a limit of 3 sign-ups an hour per client, used up
    app = build_app(db_url, STOREFRONT_JOIN_RATE_LIMIT="3/hour", STOREFRONT_DEFAULT_LOCALE="en")
    client = app.test_client()
    for n in range(3):
        response = client.post(
            "/console/join",
            data={
                "csrf_token": csrf_token(client, "/console/join"),
                "email": f"new{n}@example.com",
                "password": PASSWORD,
            },
        )
        assert response.status_code == 303
        client = app.test_client()

    # When the same client signs up once more
    refused = client.post(
        "/console/join",
        data={
            "csrf_token": csrf_token(client, "/console/join"),
            "email": "new9@example.com",
            "password": PASSWORD,
        },
    )

    # Then it is refused with 429, a message and Retry-After, and no account is made
    assert refused.status_code == 429
    assert "Too many sign-ups from here" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    with session_scope(app) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Distributor)) == 3
    app.extensions["storefront"].engine.dispose()


def test_a_long_series_of_lockouts_waits_at_most_a_day(app):
    # Given an account locked out 40 times already (the wait doubles each time)
    limit = Limit(1, timedelta(minutes=15))
    now = utcnow()
    with session_scope(app) as session:
        session.add(AttemptCounter(door="d", key="k", attempts=1, window_start=now, strikes=40))

    # When it passes the limit once more
    with session_scope(app) as session:
        wait = count_attempt(session, "d", "k", limit, now)

    # Then it waits 24 hours, not forever (and nothing overflows)
    assert wait == 24 * 60 * 60
