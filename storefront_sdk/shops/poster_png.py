"""Share posters as PNG: the format chat apps accept and a phone saves on a long press.

The same layout as the SVG posters (:mod:`.posters`, 750 by 1334 pixels), drawn with
Pillow, with the product image or the shop's logo embedded (their bytes are given: fetching
them is the caller's business) rather than linked. An image that cannot be read is left
out: the poster still renders. Text needs a font with CJK glyphs: :func:`find_font` takes
the configured one (``STOREFRONT_POSTER_FONT``), else the first of :data:`FONT_CANDIDATES`
that exists, else Pillow's own (Latin only).

The QR code is drawn with a whole number of pixels per module, so a scanner reads it sharp.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .posters import (
    DEFAULT_COLOR,
    HEIGHT,
    QUIET_ZONE,
    WIDTH,
    ink_on,
    qr_matrix,
    theme_color,
    wrap_text,
)

#: Fonts with CJK glyphs looked for when none is configured, in order: Debian's
#: ``fonts-wqy-microhei`` (``make system-deps``), Noto CJK, then macOS's and Windows's.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
)
#: Largest image (in pixels) embedded; a bigger one is left out, not decoded.
MAX_IMAGE_PIXELS = 25_000_000
#: Where each poster's QR code goes: left, top and side of its square (quiet zone included).
PRODUCT_QR = (WIDTH - 48 - 220, HEIGHT - 48 - 220, 220)
SHOP_QR = ((WIDTH - 420) // 2, 720, 420)
_MARGIN = 48


def find_font(configured: str | None) -> str | None:
    """The font file posters are drawn with: ``configured`` if given, else the first of
    :data:`FONT_CANDIDATES` found; ``None`` (Pillow's own font) when there is none."""
    if configured:
        return configured
    return next((path for path in FONT_CANDIDATES if os.path.isfile(path)), None)


def product_poster_png(
    *,
    title: str,
    price: str | None,
    image: bytes | None,
    shop_name: str,
    link: str,
    caption: str,
    color: str = DEFAULT_COLOR,
    font: str | None = None,
) -> bytes:
    """The PNG poster of a product: ``image`` (the product's, embedded), title, ``price``,
    shop name, ``caption`` and the QR code of ``link``; drawn with the ``font`` file."""
    page = _Page(theme_color(color), font)
    page.draw.rectangle((0, 0, WIDTH, WIDTH), fill="#f2f2f2")
    picture = _decoded(image)
    if picture is not None:
        page.canvas.paste(ImageOps.fit(picture.convert("RGB"), (WIDTH, WIDTH)), (0, 0))
    y = WIDTH + 70
    for line in wrap_text(title, WIDTH - 2 * _MARGIN, 40, max_lines=3):
        page.text((_MARGIN, y), line, 40, "#222222")
        y += 54
    if price:
        page.text((_MARGIN, y + 30), price, 56, page.color)
    _left, top, size = PRODUCT_QR
    page.draw.rectangle((0, top - 24, WIDTH, top - 24), fill="#e6e6e6")
    page.qr(link, PRODUCT_QR)
    left_width = WIDTH - 3 * _MARGIN - size
    for index, line in enumerate(wrap_text(shop_name, left_width, 32, max_lines=2)):
        page.text((_MARGIN, top + 60 + index * 44), line, 32, "#333333")
    for index, line in enumerate(wrap_text(caption, left_width, 24, max_lines=2)):
        page.text((_MARGIN, top + 170 + index * 34), line, 24, "#888888")
    return page.png()


def shop_poster_png(
    *,
    shop_name: str,
    welcome_text: str,
    logo: bytes | None,
    link: str,
    caption: str,
    color: str = DEFAULT_COLOR,
    font: str | None = None,
) -> bytes:
    """The PNG poster of a shop: ``logo`` (embedded) and name on the theme colour, the
    welcome text, the QR code of ``link`` and ``caption``; drawn with the ``font`` file."""
    page = _Page(theme_color(color), font)
    page.draw.rectangle((0, 0, WIDTH, 440), fill=page.color)
    ink = ink_on(page.color)
    name_top = 240
    picture = _decoded(logo)
    if picture is not None:
        fitted = ImageOps.contain(picture.convert("RGBA"), (140, 140))
        corner = ((WIDTH - fitted.width) // 2, 60 + (140 - fitted.height) // 2)
        page.canvas.paste(fitted, corner, fitted)
        name_top = 280
    center = WIDTH // 2
    for index, line in enumerate(wrap_text(shop_name, WIDTH - 2 * _MARGIN, 56, max_lines=2)):
        page.text((center, name_top + index * 70), line, 56, ink, middle=True)
    welcome = wrap_text(welcome_text, WIDTH - 2 * _MARGIN, 32, max_lines=4)
    for index, line in enumerate(welcome):
        page.text((center, 510 + index * 46), line, 32, "#444444", middle=True)
    page.qr(link, SHOP_QR)
    for line in wrap_text(caption, WIDTH - 2 * _MARGIN, 30, max_lines=1):
        page.text((center, 1220), line, 30, "#888888", middle=True)
    return page.png()


@dataclass(frozen=True, slots=True)
class QrPlacement:
    """Where a QR code's modules are drawn: the top-left pixel of module (0, 0), and the
    pixels per module."""

    left: int
    top: int
    scale: int
    modules: int


def qr_placement(link: str, box: tuple[int, int, int]) -> QrPlacement:
    """Where the QR code of ``link`` is drawn in ``box`` (left, top, side): a whole number
    of pixels per module, the code and its quiet zone centred in the box."""
    left, top, size = box
    count = len(qr_matrix(link))
    scale = max(size // (count + 2 * QUIET_ZONE), 1)
    offset = (size - count * scale) // 2
    return QrPlacement(left + offset, top + offset, scale, count)


class _Page:
    """A poster being drawn."""

    def __init__(self, color: str, font: str | None) -> None:
        self.color = color
        self.font = font
        self.canvas = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
        self.draw = ImageDraw.Draw(self.canvas)

    def text(
        self, at: tuple[int, int], content: str, size: int, fill: str, *, middle: bool = False
    ) -> None:
        """``content`` with its baseline at ``at`` (its left end, or its middle)."""
        anchor = "ms" if middle else "ls"
        self.draw.text(at, content, fill=fill, font=_font(self.font, size), anchor=anchor)

    def qr(self, link: str, box: tuple[int, int, int]) -> None:
        left, top, size = box
        self.draw.rectangle((left, top, left + size - 1, top + size - 1), fill="#ffffff")
        where = qr_placement(link, box)
        _draw_modules(self.draw, qr_matrix(link), where)

    def png(self) -> bytes:
        out = io.BytesIO()
        self.canvas.save(out, "PNG", optimize=True)
        return out.getvalue()


def _draw_modules(
    draw: ImageDraw.ImageDraw, matrix: Sequence[Sequence[bool]], where: QrPlacement
) -> None:
    for row_index, row in enumerate(matrix):
        y = where.top + row_index * where.scale
        for column, dark in enumerate(row):
            if dark:
                x = where.left + column * where.scale
                draw.rectangle((x, y, x + where.scale - 1, y + where.scale - 1), fill="#000000")


@cache
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if path is None:
        return ImageFont.load_default(size)
    try:
        return ImageFont.truetype(path, size)
    except OSError:  # (a font file that went missing or is not a font)
        return ImageFont.load_default(size)


def _decoded(data: bytes | None) -> Image.Image | None:
    """The image in ``data``, or ``None`` when it is missing, too large or unreadable."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as found:
            if found.width * found.height > MAX_IMAGE_PIXELS:
                return None
            found.load()
            return found.copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
