"""Synthetic demo data for ``flask storefront seed-demo`` — generated, not shipped.

Images are root-relative URLs under an ``image_base`` the host app serves (the example shop
draws them as SVG on the fly), so the demo needs no internet access.
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import select

from ..catalog.inputs import ProductIn, VariantIn
from ..catalog.models import Supplier, Variant
from ..catalog.suppliers import create_api_key, create_supplier
from ..catalog.sync import upsert_products
from ..db import utcnow

#: Name of the supplier ``seed-demo`` creates (found again on later runs).
DEMO_SUPPLIER = "Demo Supplier"

_KINDS = (
    ("Apparel/Tops", "Tee", "T恤", ("S", "M", "L")),
    ("Apparel/Outerwear", "Jacket", "夹克", ("M", "L")),
    ("Home/Kitchen", "Mug", "马克杯", ()),
    ("Home/Textiles", "Towel", "毛巾", ()),
    ("Food/Tea", "Green tea", "绿茶", ("100g", "250g")),
    ("Food/Snacks", "Dried mango", "芒果干", ()),
)
_COLOURS = (
    ("Red", "红色"),
    ("Blue", "蓝色"),
    ("Green", "绿色"),
    ("Black", "黑色"),
    ("White", "白色"),
    ("Yellow", "黄色"),
)


def demo_products(image_base: str, count: int = 36) -> list[ProductIn]:
    """``count`` varied products (categories, options, prices, stock) in CNY."""
    products = []
    for n in range(count):
        category, noun, noun_zh, sizes = _KINDS[n % len(_KINDS)]
        colour, colour_zh = _COLOURS[(n // len(_KINDS)) % len(_COLOURS)]
        external_id = f"DEMO-{n + 1:03d}"
        supply = 1500 + (n * 370) % 6000
        variants = [
            VariantIn(
                sku=f"{external_id}-{size or 'ONE'}",
                options={"Size": size} if size else {},
                supply_price=supply,
                retail_price=supply * 2,
                min_price=supply * 3 // 2,
                stock=0 if n % 11 == 10 else 5 + (n * 7) % 90,
                weight_grams=100 + n * 10,
            )
            for size in (sizes or ("",))
        ]
        products.append(
            ProductIn(
                external_id=external_id,
                title=f"{colour} {noun.lower()} #{n + 1}",
                title_i18n={"zh-Hans": f"{colour_zh}{noun_zh} {n + 1}号"},
                description=f"A {colour.lower()} {noun.lower()} from the demo catalogue.",
                description_i18n={"zh-Hans": f"演示目录中的{colour_zh}{noun_zh}。"},
                category=category,
                images=[],
                currency="CNY",
                variants=variants,
            ).model_copy(update={"images": [f"{image_base}/{external_id}.svg"]})
        )
    return products


def seed_demo(session: Session, image_base: str = "/demo-images") -> dict[str, Any]:
    """Create (or refresh) the demo supplier and its catalogue; returns a summary with a new
    API key for the supplier."""
    supplier = session.scalars(select(Supplier).where(Supplier.name == DEMO_SUPPLIER)).first()
    if supplier is None:
        supplier = create_supplier(session, DEMO_SUPPLIER, "CNY")
    _, api_key = create_api_key(session, supplier.id or 0)
    products = demo_products(image_base)
    result, _ = upsert_products(session, supplier, list(enumerate(products)), utcnow())
    session.flush()
    return {
        "shops": [_demo_shop(session, demo) for demo in DEMO_SHOPS],
        "admin": _demo_admin(session),
        "promotions": _demo_promotions(session, supplier.id or 0),
        "supplier_id": supplier.id,
        "supplier_api_key": api_key,
        "products": {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    }


#: The demo distributors and their shops: the second is recruited by the first, and curates.
DEMO_SHOPS: tuple[dict[str, Any], ...] = (
    {
        "email": "lily@demo.example",
        "password": "demo-lily-2026",
        "name": "Lily",
        "shop_name": "Lily 优选",
        "primary_color": "#2e7d32",
        "locale": "zh-Hans",
        "welcome_text": "欢迎光临 好物都在这里 每周上新",
        "markup_percent": 5,
    },
    {
        "email": "max@demo.example",
        "password": "demo-max-2026",
        "name": "Max",
        "shop_name": "Max Outfitters",
        "primary_color": "#1565c0",
        "locale": "en",
        "welcome_text": "Clothes and tea, hand-picked. Free advice, fair prices.",
        "recruited_by": "lily@demo.example",
        "follows_category": "Apparel",
    },
)


#: The demo's promotions (``docs/promotions.md``, "In the demo"): a platform coupon, the
#: supplier's spend-and-save and a platform flash sale of the newest demo product.
DEMO_COUPON = "WELCOME5"
DEMO_THRESHOLD = "满100减10 · 满200减25"
DEMO_FLASH_SKU = "DEMO-036-ONE"


def _demo_promotions(session: Session, supplier_id: int) -> dict[str, Any]:
    """The demo's promotions, each created unless a live one is there already: a platform
    coupon ``WELCOME5`` (¥5.00 off orders over ¥30.00, once per consumer), the demo
    supplier's 满100减10 / 满200减25 on its products, and a 48-hour platform flash sale of 5
    bags of the newest product, dried mango, at ¥39.20 (retail ¥49.00; one per consumer)."""
    from datetime import timedelta

    from ..promotions import manage
    from ..promotions.models import FLASH_SALE, THRESHOLD, Promotion

    now = utcnow()
    year = now + timedelta(days=365)
    coupon = session.scalars(select(Promotion).where(Promotion.code == DEMO_COUPON)).first()
    if coupon is None:
        coupon = manage.create_coupon(
            session, funder="platform", created_by="demo", now=now, starts_at=now,
            ends_at=year, amount_off=500, currency="CNY", code=DEMO_COUPON,
            min_spend=3000, per_consumer=1,
        )  # fmt: skip

    def live(kind: str, **where: Any) -> Promotion | None:
        query = select(Promotion).where(
            Promotion.kind == kind,
            Promotion.ended_at.is_(None),  # type: ignore[union-attr]
            Promotion.ends_at > now,  # type: ignore[operator]
        )
        for name, value in where.items():
            query = query.where(getattr(Promotion, name) == value)
        return session.scalars(query).first()

    threshold = live(THRESHOLD, supplier_id=supplier_id, name=DEMO_THRESHOLD)
    if threshold is None:
        threshold = manage.create_threshold(
            session, funder="supplier", created_by="demo", now=now, starts_at=now,
            ends_at=year, currency="CNY", supplier_id=supplier_id, name=DEMO_THRESHOLD,
            tiers=[{"spend": 10000, "off": 1000}, {"spend": 20000, "off": 2500}],
        )  # fmt: skip
    mango = session.scalars(
        select(Variant).where(Variant.supplier_id == supplier_id, Variant.sku == DEMO_FLASH_SKU)
    ).one()
    flash = live(FLASH_SALE, variant_id=mango.id)
    if flash is None and mango.available >= 5:
        flash = manage.create_flash_sale(
            session, funder="platform", created_by="demo", now=now, supplier_id=supplier_id,
            sku=DEMO_FLASH_SKU, price=3920, quota=5, per_consumer=1, starts_at=now,
            ends_at=now + timedelta(hours=48),
        )  # fmt: skip
    return {
        "coupon": coupon.code,
        "threshold": threshold.public_id,
        "flash_sale": flash.public_id if flash is not None else None,
    }


def _demo_shop(session: Session, demo: dict[str, Any]) -> dict[str, Any]:
    """Creates (or finds) one demo distributor with their themed, curated shop."""
    from werkzeug.security import generate_password_hash

    from ..catalog.models import Category
    from ..shops import curation
    from ..shops.accounts import create_distributor
    from ..shops.models import Distributor, Shop

    distributor = session.scalars(
        select(Distributor).where(Distributor.email == demo["email"])
    ).first()
    if distributor is None:
        parent = None
        if "recruited_by" in demo:
            parent = session.scalars(
                select(Distributor).where(Distributor.email == demo["recruited_by"])
            ).one()
        signup = create_distributor(
            session,
            demo["email"],
            demo["password"],
            name=demo["name"],
            shop_name=demo["shop_name"],
            parent_code=parent.referral_code if parent else None,
        )
        distributor, shop = signup.distributor, signup.shop
        curation.update_settings(
            session,
            shop,
            curation.Settings(
                name=demo["shop_name"],
                primary_color=demo["primary_color"],
                welcome_text=demo["welcome_text"],
                locale=demo["locale"],
            ),
        )
        if "markup_percent" in demo:
            curation.set_markup(session, shop, demo["markup_percent"])
        if "follows_category" in demo:
            category = session.scalars(
                select(Category).where(Category.path == demo["follows_category"])
            ).one()
            curation.set_follows_all(session, shop, False)
            curation.follow(session, shop, "category", category.id or 0)
    else:
        distributor.password_hash = generate_password_hash(demo["password"])
        shop = session.scalars(select(Shop).where(Shop.distributor_id == distributor.id)).one()
    return {
        "email": demo["email"],
        "password": demo["password"],
        "shop_name": shop.name,
        "shop_slug": shop.slug,
        "referral_code": distributor.referral_code,
        "recruited_by": demo.get("recruited_by"),
    }


#: The demo's platform admin (``/admin/``).
DEMO_ADMIN = {"email": "admin@demo.example", "password": "demo-admin-2026"}


def _demo_admin(session: Session) -> dict[str, str]:
    """Creates (or resets the password of) the demo's platform admin."""
    from werkzeug.security import generate_password_hash

    from ..platform_admins import PlatformAdmin, create_admin

    found = session.scalars(
        select(PlatformAdmin).where(PlatformAdmin.email == DEMO_ADMIN["email"])
    ).first()
    if found is None:
        create_admin(session, DEMO_ADMIN["email"], DEMO_ADMIN["password"])
    else:
        found.password_hash = generate_password_hash(DEMO_ADMIN["password"])
    return dict(DEMO_ADMIN)


def demo_image_svg(name: str) -> str:
    """A 400x400 SVG placeholder whose colour is derived from ``name``."""
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    label = escape(name[:24])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">'
        f'<rect width="400" height="400" fill="hsl({hue},60%,55%)"/>'
        f'<circle cx="200" cy="170" r="90" fill="hsl({(hue + 40) % 360},70%,80%)"/>'
        '<text x="200" y="340" font-family="sans-serif" font-size="32" text-anchor="middle" '
        f'fill="#fff">{label}</text></svg>'
    )
