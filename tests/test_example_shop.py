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


def _sign_in(base: str, path: str, email: str, password: str):
    import requests

    browser = requests.Session()
    form = browser.get(f"{base}{path}/login", timeout=5).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    answer = browser.post(
        f"{base}{path}/login",
        data={"email": email, "password": password, "csrf_token": token},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text[:300]
    return browser


def _post_form(browser, url: str, page_url: str, **fields: str):
    page = browser.get(page_url, timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return browser.post(url, data={"csrf_token": token, **fields}, timeout=5)


def _minor(shown: str) -> int:
    """Fen of a displayed CNY amount ("CN¥1,234.50", "¥-3.00")."""
    sign, whole, cents = re.search(r"(-?)[^0-9]*([0-9,]+)\.(\d\d)", shown).groups()
    return (-1 if sign else 1) * (int(whole.replace(",", "")) * 100 + int(cents))


def _wait_for(fetch, condition, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        found = fetch()
        if condition(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_a_sale_through_a_recruits_link_pays_both_levels_in_the_demo(demo_server):
    # Given the demo: Max (recruited by Lily) and his referral link, and the demo admin
    import requests

    front = _get(demo_server + "/")
    rows = re.findall(r'<tr data-slug="[^"]+">.*?</tr>', front, re.S)
    max_row = re.search(
        r'<tr data-slug="([^"]+)">.*?href="(/r/[^"]+)".*?class="email">([^<]+)<'
        r'.*?class="password">([^<]+)<',
        next(row for row in rows if "recruited by" in row),
        re.S,
    )
    slug, referral, max_email, max_password = max_row.groups()
    lily = re.search(
        r'class="email">(lily@[^<]+)</code>\s*/ <code class="password">([^<]+)<', front
    )
    admin = re.search(
        r'id="demo-admin".*?class="email">([^<]+)<.*?class="password">([^<]+)<', front, re.S
    )
    max_console = _sign_in(demo_server, "/console", max_email, max_password)
    lily_console = _sign_in(demo_server, "/console", *lily.groups())

    def earned(console):
        html = console.get(f"{demo_server}/console/earnings?lang=en", timeout=5).text
        found = [
            re.search(rf'data-testid="{name}"[^>]*>([^<]+)<', html)
            for name in ("pending", "available")
        ]
        return tuple(_minor(f.group(1)) if f else 0 for f in found)

    earned_before = {console: earned(console) for console in (max_console, lily_console)}
    # When a consumer comes through Max's link, buys one item at retail and pays
    buyer = requests.Session()
    landing = buyer.get(demo_server + referral, timeout=5)
    product = re.search(rf'href="(/s/{slug}/p/\d+)[^"]*"', landing.text).group(1)
    page = buyer.get(demo_server + product, timeout=5).text
    retail = _minor(re.search(r'id="sf-price"[^>]*>([^<]+)<', page).group(1))
    variant = re.search(r'name="variant_id" value="(\d+)"(?![^>]*disabled)', page).group(1)
    _post_form(
        buyer,
        f"{demo_server}/s/{slug}/cart/add",
        demo_server + product,
        variant_id=variant,
        quantity="1",
    )
    form = buyer.get(f"{demo_server}/s/{slug}/checkout", timeout=5).text
    placed = buyer.post(
        f"{demo_server}/s/{slug}/checkout",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "checkout_key": re.search(r'name="checkout_key" value="([^"]+)"', form).group(1),
            "email": "mei@example.com", "name": "Mei", "line1": "1 Road", "city": "Shanghai",
            "country": "CN",
        },
        allow_redirects=False,
        timeout=5,
    )  # fmt: skip
    pay_url = demo_server + placed.headers["Location"]
    paid = _post_form(
        buyer, pay_url.removesuffix("/pay") + "/dev-pay", pay_url, outcome="succeeded"
    )
    assert paid.status_code == 200
    # Then, once the simulated supplier delivered it and the demo settled, Max sees 10 % of
    # retail available and Lily 2 %
    order_url = pay_url.removesuffix("/pay")
    _wait_for(
        lambda: buyer.get(order_url, timeout=5).text, lambda html: 'data-status="delivered"' in html
    )
    # (Lily's own shop sold in the earlier test: compare her total before and after)
    for console, share in ((max_console, 1000), (lily_console, 200)):
        before = sum(earned_before[console])
        settled = _wait_for(
            lambda c=console: earned(c), lambda b, t=before: b[0] == 0 and sum(b) > t
        )
        assert settled[0] == 0  # nothing pending any more: delivered and settled
        assert sum(settled) - before == retail * share // 10000
    # and both ask for a payout, which the admin approves and marks paid
    for console in (max_console, lily_console):
        asked = _post_form(
            console,
            f"{demo_server}/console/payouts",
            f"{demo_server}/console/payouts",
            currency="CNY",
        )
        assert 'data-testid="payout-asked"' in asked.text
    root = _sign_in(demo_server, "/admin", *admin.groups())
    listed = root.get(f"{demo_server}/admin/payouts?status=requested", timeout=5).text
    ids = re.findall(r"/admin/payouts/(\d+)/approve", listed)
    assert len(ids) == 2
    for payout_id in ids:
        page_url = f"{demo_server}/admin/payouts?status=requested"
        _post_form(
            root, f"{demo_server}/admin/payouts/{payout_id}/approve", page_url, confirmed="1"
        )
        _post_form(
            root,
            f"{demo_server}/admin/payouts/{payout_id}/paid",
            page_url,
            reference=f"BANK-{payout_id}",
        )
    for console in (max_console, lily_console):
        html = console.get(f"{demo_server}/console/payouts", timeout=5).text
        assert 'data-status="paid"' in html
