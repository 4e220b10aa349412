"""The README's first command: ``make demo`` serves the example shop, and the key and
``curl`` on its front page push the contract's example product."""

from __future__ import annotations

import html
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
    process = subprocess.Popen(
        ["make", "demo", f"PORT={port}", f"INSTANCE={tmp_path / 'instance'}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                _get(base + "/")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None:
                    pytest.fail(f"make demo exited: {process.stderr.read().decode()}")
                time.sleep(0.1)
        else:
            pytest.fail("make demo did not serve the front page within 60 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def test_front_page_key_and_curl_push_the_example_product(demo_server):
    # Given the front page of the demo
    page = _get(demo_server + "/")
    key = re.search(r'<code id="api-key">([^<]+)</code>', page).group(1)
    curl = html.unescape(re.search(r'<pre id="curl">(.*?)</pre>', page, re.S).group(1))
    body = curl.split("-d '", 1)[1].rsplit("'", 1)[0]
    assert key in curl
    # When the curl's body is PUT with the key shown
    request = urllib.request.Request(
        demo_server + "/api/v1/supplier/products",
        data=body.encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    # Then one product is created, next to the seeded demo catalogue
    assert answer == {"created": 1, "updated": 0, "unchanged": 0}
    listing = urllib.request.Request(
        demo_server + "/api/v1/supplier/products?limit=200",
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(listing, timeout=10) as response:
        items = json.loads(response.read())["items"]
    assert len(items) == 37
    assert _get(demo_server + items[0]["images"][0]).startswith("<svg")


def test_front_page_lists_two_themed_demo_shops_and_their_logins(demo_server):
    import re

    import requests

    page = _get(demo_server + "/")
    rows = re.findall(
        r'<tr data-slug="([^"]+)">.*?href="(/r/[^"]+)".*?class="email">([^<]+)</code>'
        r'.*?class="password">([^<]+)</code>',
        page,
        re.S,
    )
    assert len(rows) == 2
    assert "recruited by lily@demo.example" in page
    colours = set()
    for slug, referral, email, password in rows:
        shop = _get(f"{demo_server}/s/{slug}/")
        colours.add(re.search(r"--sf-primary:(#[0-9a-f]{6})", shop).group(1))
        assert 'class="sf-card"' in shop  # products listed
        # The referral link lands in that shop with a share token
        landing = requests.get(demo_server + referral, allow_redirects=False, timeout=5)
        assert landing.status_code == 302
        assert landing.headers["Location"].startswith(f"/s/{slug}/?st=")
        # The listed login opens the console
        browser = requests.Session()
        form = browser.get(demo_server + "/console/login", timeout=5).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
        signed_in = browser.post(
            demo_server + "/console/login",
            data={"email": email, "password": password, "csrf_token": token},
            timeout=5,
        )
        assert signed_in.status_code == 200
        assert slug in signed_in.text
    assert len(colours) == 2  # different themes


def test_a_purchase_in_the_demo_is_fulfilled_by_the_simulated_supplier(demo_server):
    # Given the demo's first shop and a product in it
    import requests

    slug = re.search(r'<tr data-slug="([^"]+)">', _get(demo_server + "/")).group(1)
    shop = _get(f"{demo_server}/s/{slug}/")
    product = re.search(rf'href="(/s/{slug}/p/\d+)[^"]*"', shop).group(1)
    buyer = requests.Session()
    page = buyer.get(demo_server + product, timeout=5).text
    variant = re.search(r'name="variant_id" value="(\d+)"(?![^>]*disabled)', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    # When a consumer buys it and pays in test mode
    added = buyer.post(
        f"{demo_server}/s/{slug}/cart/add",
        data={"csrf_token": token, "variant_id": variant, "quantity": "1"},
        timeout=5,
    )
    assert added.status_code == 200
    form = buyer.get(f"{demo_server}/s/{slug}/checkout", timeout=5).text
    placed = buyer.post(
        f"{demo_server}/s/{slug}/checkout",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "checkout_key": re.search(r'name="checkout_key" value="([^"]+)"', form).group(1),
            "email": "buyer@example.com",
            "name": "Mei",
            "line1": "1 Nanjing Road",
            "city": "Shanghai",
            "country": "CN",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert placed.status_code == 303, placed.text
    pay_url = demo_server + placed.headers["Location"]
    pay = buyer.get(pay_url, timeout=5).text
    assert 'data-testid="test-mode"' in pay
    paid = buyer.post(
        pay_url.removesuffix("/pay") + "/dev-pay",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', pay).group(1),
            "outcome": "succeeded",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert paid.status_code == 303
    # Then the simulated supplier, which verifies each webhook's signature, accepts and
    # ships it through the API, and the consumer's order page shows the tracking number
    order_url = pay_url.removesuffix("/pay")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        order_page = buyer.get(order_url, timeout=5).text
        if 'data-testid="tracking"' in order_page:
            break
        time.sleep(0.5)
    assert re.search(r'data-testid="tracking">[^<]*SIM[0-9A-Z_-]{8}', order_page), order_page
