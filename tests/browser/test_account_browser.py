"""A consumer on a phone signs in to a shop by one-time code, in Chinese (the platform's
default language): the header's link, the contact, the code read from the dev outbox, then
"My account" and the address book."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from shop_support import make_shop, push

from storefront_sdk import Storefront
from storefront_sdk.payments.providers import DevProvider
from storefront_sdk.testing.factories import product_payload, variant_payload

_CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The storefront on ``db_url``, its dev outbox in this test's own folder."""
    app = Flask("storefront_account_browser", instance_path=str(tmp_path / "instance"))
    app.config.update(
        TESTING=True, SECRET_KEY="test-secret-key-0123456789", STOREFRONT_DATABASE_URL=db_url
    )
    Storefront(app)
    yield app
    app.extensions["storefront"].engine.dispose()


def newest_code(app: Flask, to: str) -> str:
    """The code of the newest outbox message, read as its recipient reads it."""
    [message] = sorted((Path(app.instance_path) / "outbox").iterdir())[-1:]
    text = message.read_text(encoding="utf-8")
    assert f"To: {to}" in text.splitlines()
    [code] = _CODE.findall(text.split("\n\n", 1)[1])
    return str(code)


def test_a_consumer_signs_in_by_code_on_a_phone(
    app: Flask, supplier: Any, live_server: str, phone: Any
):
    app.extensions["storefront"].payments = DevProvider()  # the documented provider slot
    push(
        supplier,
        product_payload(
            "TEE",
            title="Linen tee",
            title_i18n={"zh-Hans": "亚麻T恤"},
            images=[],
            variants=[
                variant_payload(
                    "TEE-M", stock=3, supply_price=3000, retail_price=5000, min_price=None
                )
            ],
        ),
    )
    shop = make_shop(app, locale="zh-Hans", name="小安的店")
    page = phone

    # From the shop's header, "登录" (Sign in)
    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_test_id("account-link").click()
    page.wait_for_url(re.compile(r"/account/login"))
    page.shot("sign-in")

    # A wrong contact is refused with a message, then a mobile number gets a code
    page.get_by_test_id("contact").fill("不是号码")
    page.get_by_test_id("send-code").click()
    assert page.get_by_test_id("sign-in-error").inner_text() == "请输入邮箱或手机号。"
    page.get_by_test_id("contact").fill("+86 138 0013 8000")
    page.get_by_test_id("send-code").click()
    page.wait_for_url(re.compile(r"/account/login/code"))
    assert "+8613800138000" in page.get_by_test_id("code-sent").inner_text()
    page.shot("code")

    # The code from the text message signs them in: "我的账户" (My account)
    page.get_by_test_id("code").fill(newest_code(app, "+8613800138000"))
    page.get_by_test_id("sign-in").click()
    page.wait_for_url(re.compile(r"/account/$"))
    assert page.get_by_test_id("signed-in-as").inner_text() == "已登录：+8613800138000"  # noqa: RUF001
    assert page.get_by_test_id("account-link").inner_text() == "我的账户"
    assert page.get_by_test_id("no-orders").is_visible()
    page.shot("account")

    # They save an address with province, city and district
    page.get_by_test_id("addresses-link").click()
    page.get_by_test_id("add-address").click()
    page.get_by_label("收货人").fill("李雷")
    page.get_by_label("手机").fill("13800138000")
    page.get_by_label("省份").fill("浙江省")
    page.get_by_label("城市", exact=True).fill("杭州市")
    page.get_by_label("区/县（选填）").fill("西湖区")  # noqa: RUF001
    page.get_by_label("详细地址").fill("文三路 18 号")
    page.get_by_test_id("save-address").click()
    page.wait_for_url(re.compile(r"/account/addresses$"))
    assert page.get_by_test_id("default-address").is_visible()
    page.shot("addresses")

    # At checkout, their phone and the saved address are filled in
    page.goto(f"{live_server}/s/{shop.slug}/")
    page.get_by_text("亚麻T恤").click()
    page.get_by_role("button", name="加入购物车").click()
    page.wait_for_url(re.compile(r"/cart"))
    page.get_by_test_id("checkout").click()
    page.wait_for_url(re.compile(r"/checkout"))
    assert page.get_by_label("手机").input_value() == "+8613800138000"
    assert page.get_by_label("省份 / 地区").input_value() == "浙江省"
    assert page.get_by_label("详细地址", exact=True).input_value() == "文三路 18 号"
    assert page.get_by_test_id("saved-addresses").is_visible()
    page.shot("checkout")

    # And sign out
    page.get_by_test_id("account-link").click()
    page.get_by_test_id("sign-out").click()
    page.wait_for_url(re.compile(rf"/s/{shop.slug}/$"))
    assert page.get_by_test_id("account-link").inner_text() == "登录"
