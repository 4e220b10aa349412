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
from ..catalog.models import Supplier
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
    return {
        "supplier_id": supplier.id,
        "supplier_api_key": api_key,
        "products": {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    }


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
