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
def demo_instance(tmp_path_factory):
    """The instance folder of the demo (its database, its outbox)."""
    return tmp_path_factory.mktemp("demo") / "instance"


@pytest.fixture(scope="module")
def demo_server(demo_instance):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STOREFRONT_")}
    process = subprocess.Popen(
        ["make", "demo", f"PORT={port}", f"INSTANCE={demo_instance}"],
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


def _code_sent_to(outbox: Path, contact: str) -> str:
    """The sign-in code of the newest message to ``contact`` in the dev outbox, read as a
    person reads their inbox: the message naming them, the standalone number in it."""
    for message in sorted(outbox.iterdir(), key=lambda path: path.stat().st_mtime, reverse=True):
        text = message.read_text()
        if re.search(rf"^To: .*{re.escape(contact)}", text, re.M):
            _, _, body = text.partition("\n\n")
            return re.search(r"(?<![0-9])([0-9]{4,8})(?![0-9])", body).group(1)
    raise AssertionError(f"no message to {contact} in {outbox}")


def test_a_consumer_signs_in_by_code_and_the_promotions_are_paid_by_their_funders(
    demo_server, demo_instance
):
    # Given the demo: Max's shop (recruited by Lily), the platform coupon WELCOME5 (¥5.00
    # off over ¥30.00) and the demo supplier's 满100减10 / 满200减25 (docs/promotions.md,
    # "In the demo")
    import requests

    front = _get(demo_server + "/")
    rows = re.findall(r'<tr data-slug="[^"]+">.*?</tr>', front, re.S)
    slug, referral, max_email, max_password = re.search(
        r'<tr data-slug="([^"]+)">.*?href="(/r/[^"]+)".*?class="email">([^<]+)<'
        r'.*?class="password">([^<]+)<',
        next(row for row in rows if "recruited by" in row),
        re.S,
    ).groups()
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
        return sum(_minor(f.group(1)) if f else 0 for f in found)

    before = {"max": earned(max_console), "lily": earned(lily_console)}
    # When a consumer comes through Max's link and signs in with the code from the outbox
    buyer = requests.Session()
    landing = buyer.get(demo_server + referral, timeout=5)
    login = buyer.get(f"{demo_server}/s/{slug}/account/login?lang=en", timeout=5).text
    sent = buyer.post(
        demo_server + re.search(r'action="([^"]+)" data-testid="sign-in-form"', login).group(1),
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', login).group(1),
            "contact": "mei.promo@example.com",
        },
        timeout=5,
    )
    assert 'data-testid="code-form"' in sent.text, sent.text[:500]
    code = _code_sent_to(demo_instance / "outbox", "mei.promo@example.com")
    signed_in = buyer.post(
        demo_server + re.search(r'action="([^"]+)" data-testid="code-form"', sent.text).group(1),
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', sent.text).group(1),
            "code": code,
        },
        timeout=5,
    )
    assert signed_in.status_code == 200
    assert "mei.promo@example.com" in buyer.get(f"{demo_server}/s/{slug}/account/", timeout=5).text
    # ... puts at least ¥100.00 of one item in the cart and applies WELCOME5
    product = re.search(rf'href="(/s/{slug}/p/\d+)[^"]*"', landing.text).group(1)
    page = buyer.get(demo_server + product, timeout=5).text
    price = _minor(re.search(r'id="sf-price"[^>]*>([^<]+)<', page).group(1))
    variant = re.search(r'name="variant_id" value="(\d+)"(?![^>]*disabled)', page).group(1)
    units = -(-10000 // price)
    _post_form(
        buyer,
        f"{demo_server}/s/{slug}/cart/add",
        demo_server + product,
        variant_id=variant,
        quantity=str(units),
    )
    cart_url = f"{demo_server}/s/{slug}/cart"
    cart = _post_form(
        buyer, f"{demo_server}/s/{slug}/cart/coupon", cart_url, coupon_code="welcome5"
    ).text
    # Then the cart lists both discounts, who funds each, and the total before ordering
    gross = price * units
    threshold_off = 2500 if gross >= 20000 else 1000
    discounts = re.findall(
        r'data-testid="discount".*?data-testid="funder">([^<]+)<.*?'
        r'data-testid="discount-amount">([^<]+)<',
        cart,
        re.S,
    )
    assert sorted((funder, _minor(amount)) for funder, amount in discounts) == (
        sorted([("Platform subsidy", 500), ("Supplier offer", threshold_off)])
    )
    total = _minor(re.search(r'data-testid="total">([^<]+)<', cart).group(1))
    shipping = _minor(re.search(r'data-testid="shipping-total">([^<]+)<', cart).group(1))
    assert total == gross - threshold_off - 500 + shipping
    # When they order and pay
    form = buyer.get(f"{demo_server}/s/{slug}/checkout", timeout=5).text
    placed = buyer.post(
        f"{demo_server}/s/{slug}/checkout",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1),
            "checkout_key": re.search(r'name="checkout_key" value="([^"]+)"', form).group(1),
            "email": "mei.promo@example.com", "name": "Mei", "line1": "1 Road",
            "city": "Shanghai", "country": "CN",
        },
        allow_redirects=False,
        timeout=5,
    )  # fmt: skip
    assert placed.status_code == 303, placed.text[:500]
    pay_url = demo_server + placed.headers["Location"]
    pay = buyer.get(pay_url, timeout=5).text
    assert f"{total / 100:,.2f}" in pay
    _post_form(buyer, pay_url.removesuffix("/pay") + "/dev-pay", pay_url, outcome="succeeded")
    order_url = pay_url.removesuffix("/pay")
    _wait_for(
        lambda: buyer.get(order_url, timeout=5).text, lambda html: 'data-status="delivered"' in html
    )
    # Then each party has what docs/promotions.md says: the supplier its supply less its
    # own 满减 (its order API shows the discount), Max 10 % and Lily 2 % of the price before
    # promotions (Max sells at retail), the platform the rest less its coupon
    number = re.search(r"\b(\d{6}-[0-9A-Z]{6})\b", buyer.get(order_url, timeout=5).text).group(1)
    key = re.search(r'<code id="api-key">([^<]+)</code>', _get(demo_server + "/")).group(1)
    delivered = requests.get(
        f"{demo_server}/api/v1/supplier/orders?status=delivered&limit=100",
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    ).json()
    (line,) = next(o for o in delivered["items"] if o["order_number"] == number)["lines"]
    assert line["quantity"] == units
    assert line["supply_amount"] == line["supply_price"] * units - threshold_off
    assert [d["amount"] for d in line["discounts"]] == [threshold_off]
    supply, level1, level2 = line["supply_price"] * units, price // 10 * units, price // 50 * units
    expected = [supply - threshold_off, level1, level2, gross - supply - level1 - level2 - 500]
    for console, key, share in ((max_console, "max", level1), (lily_console, "lily", level2)):
        settled = _wait_for(
            lambda c=console: earned(c), lambda b, t=before[key], s=share: b - t == s
        )
        assert settled - before[key] == share
    root = _sign_in(demo_server, "/admin", *admin.groups())
    detail_url = f"/admin/orders/{number}?lang=en"
    detail = root.get(demo_server + detail_url, timeout=5).text
    parts = [_minor(found) for found in re.findall(r'data-part="\d">([^<]+)<', detail)]
    assert parts == expected, re.search(r'data-testid="lines".*?</table>', detail, re.S).group(0)
    assert sum(parts) == gross - threshold_off - 500


def test_the_demo_flash_sale_shows_its_price_and_countdown(demo_server):
    # Given the demo's first shop (Lily's, which lists the whole catalogue)
    slug = re.search(r'<tr data-slug="([^"]+)">', _get(demo_server + "/")).group(1)
    home = _get(f"{demo_server}/s/{slug}/?lang=en")
    # Then a product is on a flash sale with its countdown and the price struck through
    card = re.search(rf'href="(/s/{slug}/p/\d+)[^"]*"[^>]*>(?:(?!</a>).)*data-flash', home, re.S)
    assert card is not None, "no flash sale on the demo shop's front page"
    page = _get(demo_server + card.group(1))
    assert "data-countdown" in page
    assert "<del" in page
