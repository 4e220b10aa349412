"""``flask storefront create-coupon`` / ``create-flash-sale`` and ``expire-orders`` ending
flash sales: JSON on stdout, every bad argument one line on stderr and a non-zero exit —
on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from promotion_support import Catalogue, available, catalogue, window
from shop_support import make_shop
from sqlmodel import select

from storefront_sdk.db import session_scope
from storefront_sdk.promotions import manage
from storefront_sdk.promotions.models import Promotion


@pytest.fixture
def shop_catalogue(app: Flask) -> Catalogue:
    return catalogue(app)


def _run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["storefront", *args])


def _printed(app: Flask, *args: str) -> dict[str, Any]:
    result = _run(app, *args)
    assert result.exit_code == 0, result.output
    printed: dict[str, Any] = json.loads(result.stdout)
    return printed


def _stored(app: Flask, public_id: str) -> Promotion:
    with session_scope(app) as session:
        promotion = session.scalars(select(Promotion).where(Promotion.public_id == public_id)).one()
        session.expunge(promotion)
        return promotion


def test_create_coupon_prints_its_id_and_code(app: Flask, shop_catalogue: Catalogue) -> None:
    before = datetime.now(UTC)
    printed = _printed(
        app, "create-coupon", "--funder", "platform", "--percent-off", "10", "--code", "hello-10"
    )
    assert set(printed) == {"id", "code"}
    assert printed["code"] == "HELLO-10"
    coupon = _stored(app, printed["id"])
    assert (coupon.funder, coupon.percent_off, coupon.created_by) == ("platform", 10, "cli")
    assert coupon.starts_at is not None
    assert coupon.ends_at is not None
    # Starting now, lasting 30 days unless --ends says otherwise
    assert before - timedelta(seconds=1) <= coupon.starts_at <= datetime.now(UTC)
    assert coupon.ends_at - coupon.starts_at == timedelta(days=30)


def test_create_coupon_takes_relative_times_a_supplier_and_a_shop(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    shop = make_shop(app)
    before = datetime.now(UTC)
    printed = _printed(
        app,
        "create-coupon",
        "--funder",
        "supplier",
        "--supplier",
        str(shop_catalogue.supplier.supplier_id),
        "--shop",
        shop.slug,
        "--amount-off",
        "500",
        "--min-spend",
        "3000",
        "--max-uses",
        "100",
        "--per-consumer",
        "2",
        "--budget",
        "20000",
        "--code",
        "SUPPLY5",
        "--starts",
        "+30m",
        "--ends",
        "+2h",
    )
    coupon = _stored(app, printed["id"])
    assert (coupon.supplier_id, coupon.shop_id, coupon.currency) == (
        shop_catalogue.supplier.supplier_id,
        shop.shop_id,
        "CNY",
    )
    terms = (coupon.amount_off_minor, coupon.min_spend_minor, coupon.max_uses)
    assert terms == (500, 3000, 100)
    assert (coupon.per_consumer, coupon.budget_minor) == (2, 20000)
    assert coupon.starts_at is not None
    assert coupon.ends_at is not None
    assert coupon.starts_at - before >= timedelta(minutes=30)
    assert coupon.ends_at - coupon.starts_at == timedelta(minutes=90)


def test_a_claimable_coupon_needs_no_code(app: Flask, shop_catalogue: Catalogue) -> None:
    printed = _printed(
        app,
        "create-coupon",
        "--funder",
        "platform",
        "--amount-off",
        "300",
        "--currency",
        "CNY",
        "--claimable",
        "--ends",
        "2099-01-01T00:00:00+08:00",
    )
    assert printed["code"] is None
    coupon = _stored(app, printed["id"])
    assert (coupon.claimable, coupon.per_consumer) == (True, 1)
    assert coupon.ends_at == datetime(2098, 12, 31, 16, 0, tzinfo=UTC)


def test_create_flash_sale_prints_its_id_and_reserves_the_quota(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    printed = _printed(
        app,
        "create-flash-sale",
        "--funder",
        "supplier",
        "--supplier",
        str(shop_catalogue.supplier.supplier_id),
        "--sku",
        "A",
        "--price",
        "3900",
        "--quota",
        "4",
        "--per-consumer",
        "1",
        "--starts",
        "now",
        "--ends",
        "+48h",
    )
    assert set(printed) == {"id"}
    sale = _stored(app, printed["id"])
    assert (sale.price_minor, sale.quota, sale.per_consumer, sale.reserved) == (3900, 4, 1, True)
    assert available(app, shop_catalogue.variants[(shop_catalogue.supplier.supplier_id, "A")]) == 6


COUPON = ("create-coupon", "--funder", "platform")
FLASH = ("create-flash-sale", "--sku", "A", "--starts", "now", "--ends", "+2h")


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (("create-coupon", "--percent-off", "5", "--code", "ABC"), 2, "Missing option '--funder'"),
        (("create-coupon", "--funder", "bank", "--percent-off", "5"), 2, "'bank' is not one of"),
        ((*COUPON, "--percent-off", "ten"), 2, "'ten' is not a valid integer"),
        (
            (*COUPON, "--percent-off", "5", "--starts", "tomorrow"),
            2,
            "'tomorrow' is not an RFC 3339",
        ),
        (
            (*COUPON, "--percent-off", "5", "--starts", "2026-12-03T10:00:00"),
            2,
            "'2026-12-03T10:00:00' is not an RFC 3339",
        ),
        ((*COUPON, "--percent-off", "5", "--ends", "+2x"), 2, "'+2x' is not an RFC 3339"),
        ((*COUPON, "--percent-off", "5"), 1, "coupon refused: code: A coupon needs a code"),
        (
            (*COUPON, "--percent-off", "0", "--code", "ABC"),
            1,
            "coupon refused: percent_off: Must be between 1 and 100.",
        ),
        (
            (
                *COUPON,
                "--percent-off",
                "5",
                "--amount-off",
                "5",
                "--currency",
                "CNY",
                "--code",
                "ABC",
            ),
            1,
            "coupon refused: percent_off: Give either a percent off or an amount off.",
        ),
        ((*COUPON, "--amount-off", "5", "--code", "ABC"), 1, "coupon refused: currency: Required"),
        (
            (*COUPON, "--percent-off", "5", "--code", "A B"),
            1,
            "coupon refused: code: Must be 3 to 32",
        ),
        (
            (*COUPON, "--percent-off", "5", "--code", "ABC", "--max-uses", "0"),
            1,
            "coupon refused: max_uses: Must be between 1",
        ),
        (
            (*COUPON, "--percent-off", "5", "--code", "ABC", "--budget", "-1", "--currency", "CNY"),
            1,
            "coupon refused: budget: Must be between 1",
        ),
        (
            (
                *COUPON,
                "--percent-off",
                "5",
                "--code",
                "ABC",
                "--min-spend",
                "-1",
                "--currency",
                "CNY",
            ),
            1,
            "coupon refused: min_spend: Must be between 0",
        ),
        (
            (*COUPON, "--percent-off", "5", "--code", "ABC", "--per-consumer", "0"),
            1,
            "coupon refused: per_consumer: Must be between 1",
        ),
        (
            (*COUPON, "--percent-off", "5", "--code", "ABC", "--starts", "+2h", "--ends", "+1h"),
            1,
            "coupon refused: ends_at: Must be after the start.",
        ),
        (
            (*COUPON, "--percent-off", "5", "--code", "ABC", "--supplier", "999"),
            1,
            "coupon refused: supplier_id: Unknown supplier 999.",
        ),
        (
            (*COUPON, "--percent-off", "5", "--code", "ABC", "--shop", "nowhere"),
            1,
            "no shop with slug 'nowhere'",
        ),
        (
            ("create-coupon", "--funder", "supplier", "--percent-off", "5", "--code", "ABC"),
            1,
            "coupon refused: supplier_id: Required when the funder is the supplier.",
        ),
        (
            ("create-coupon", "--funder", "shop", "--percent-off", "5", "--code", "ABC"),
            1,
            "coupon refused: shop_id: Required when the funder is the shop.",
        ),
        (("create-flash-sale", "--funder", "supplier", "--sku", "A"), 2, "Missing option"),
        (
            (*FLASH, "--funder", "platform", "--price", "1", "--quota", "1"),
            2,
            "Missing option '--supplier'",
        ),
        (
            (*FLASH, "--funder", "platform", "--supplier", "SUP", "--price", "1", "--quota", "1"),
            2,
            "'SUP' is not a valid integer",
        ),
        (
            (*FLASH, "--funder", "shop", "--supplier", "{a}", "--price", "3900", "--quota", "1"),
            1,
            "flash sale refused: funder: A flash sale is funded by the supplier or the platform.",
        ),
        (
            (
                *FLASH,
                "--funder",
                "supplier",
                "--supplier",
                "{a}",
                "--price",
                "3900",
                "--quota",
                "11",
            ),
            1,
            "flash sale refused: quota: Only 10 units of SKU A are available.",
        ),
        (
            (
                *FLASH,
                "--funder",
                "supplier",
                "--supplier",
                "{a}",
                "--price",
                "1999",
                "--quota",
                "1",
            ),
            1,
            "flash sale refused: price: Must be at least 2000",
        ),
        (
            (
                *FLASH,
                "--funder",
                "supplier",
                "--supplier",
                "{a}",
                "--price",
                "5000",
                "--quota",
                "1",
            ),
            1,
            "flash sale refused: price: Must be below the retail price (5000).",
        ),
        (
            (
                *FLASH,
                "--funder",
                "supplier",
                "--supplier",
                "{a}",
                "--price",
                "3900",
                "--quota",
                "0",
            ),
            1,
            "flash sale refused: quota: Must be between 1",
        ),
        (
            (
                *FLASH,
                "--funder",
                "supplier",
                "--supplier",
                "{b}",
                "--price",
                "3900",
                "--quota",
                "1",
            ),
            1,
            "flash sale refused: sku: No SKU 'A' on sale by this supplier.",
        ),
    ],
)
def test_every_bad_argument_exits_non_zero_with_one_line(
    app: Flask, shop_catalogue: Catalogue, args: tuple[str, ...], exit_code: int, message: str
) -> None:
    ids = {"a": shop_catalogue.supplier.supplier_id, "b": shop_catalogue.other.supplier_id}
    result = _run(app, *(arg.format(**ids) for arg in args))
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    with session_scope(app) as session:
        assert session.scalars(select(Promotion)).all() == []


def test_a_taken_code_exits_non_zero_with_one_line(app: Flask, shop_catalogue: Catalogue) -> None:
    _printed(app, *COUPON, "--percent-off", "5", "--code", "TAKEN")
    result = _run(app, *COUPON, "--percent-off", "7", "--code", "taken")
    assert result.exit_code == 1
    assert result.stderr == "Error: coupon refused: code: The code TAKEN is already taken.\n"


def test_expire_orders_ends_the_flash_sales_that_are_over(
    app: Flask, shop_catalogue: Catalogue
) -> None:
    # Given a flash sale of 4 units of SKU A whose window ended a minute ago
    now = datetime.now(UTC)
    with session_scope(app) as session:
        manage.create_flash_sale(
            session,
            **window(
                now=now - timedelta(hours=2),
                starts_at=now - timedelta(hours=2),
                ends_at=now - timedelta(minutes=1),
                funder="supplier",
                supplier_id=shop_catalogue.supplier.supplier_id,
                sku="A",
                price=3900,
                quota=4,
            ),
        )
    variant_a = shop_catalogue.variants[(shop_catalogue.supplier.supplier_id, "A")]
    assert available(app, variant_a) == 6
    # When expire-orders runs twice
    first, second = _printed(app, "expire-orders"), _printed(app, "expire-orders")
    # Then the first ends the sale (its units back), the second finds nothing to do
    assert first == {"expired": 0, "paid_meanwhile": 0, "flash_sales_ended": 1}
    assert second == {"expired": 0, "paid_meanwhile": 0, "flash_sales_ended": 0}
    assert available(app, variant_a) == 10
