"""Share posters: portrait SVG images (750 by 1334) with a QR code of a referral link, for a
distributor to post in chats and timelines (:mod:`.poster_png` draws the same layout as a
PNG, with the images embedded).

A product poster shows the product's first image, its title, its shop price, the shop's name
and the QR code of the product's referral link; a shop poster shows the shop's name, logo
and welcome text and the QR code of the shop's link. Callers pass finished strings (the
price already formatted, captions already translated); everything here is layout.

The SVG is built as an element tree, so every text and attribute is XML-escaped; characters
XML cannot carry (control characters, lone surrogates) are dropped. Text uses the system's
fonts (no web fonts): a stack that finds a CJK face on macOS, Windows and Linux. Text is
measured roughly (wide characters one em, others 0.6 em) to wrap and truncate long titles.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from urllib.parse import urlsplit

import qrcode
from qrcode.constants import ERROR_CORRECT_M

#: Size of every poster (SVG user units; a phone screen at 2x).
WIDTH, HEIGHT = 750, 1334
#: The fonts of the poster's text, CJK faces first.
FONT_FAMILY = "'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif"
#: Theme colour used when the shop's is not ``#rrggbb``.
DEFAULT_COLOR = "#e4393c"
#: White modules around the QR code, as the QR standard asks.
QUIET_ZONE = 4
#: The most characters of a text looked at (the rest could never fit).
MAX_TEXT = 1000

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_MARGIN = 48
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# Not allowed in XML 1.0 (C0 controls but tab/newline/CR, surrogates, U+FFFE/U+FFFF), and
# C1 controls, which no title needs.
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ELLIPSIS = "…"


def product_poster(
    *,
    title: str,
    price: str | None,
    image_url: str | None,
    shop_name: str,
    link: str,
    caption: str,
    color: str = DEFAULT_COLOR,
) -> str:
    """The SVG poster of a product: image, title (up to three lines), ``price``, shop name,
    ``caption`` and the QR code of ``link``."""
    color = theme_color(color)
    canvas = _Canvas(f"{_clean(title)} · {_clean(shop_name)}")
    canvas.rect(0, 0, WIDTH, HEIGHT, "#ffffff")
    canvas.rect(0, 0, WIDTH, WIDTH, "#f2f2f2")
    if image := absolute_url(image_url):
        canvas.image(image, 0, 0, WIDTH, WIDTH)
    text_width = WIDTH - 2 * _MARGIN
    y = WIDTH + 70
    for line in wrap_text(title, text_width, 40, max_lines=3):
        canvas.text(_MARGIN, y, line, 40, fill="#222222", weight="600")
        y += 54
    if price:
        canvas.text(_MARGIN, y + 30, price, 56, fill=color, weight="700")
    qr_size = 220
    qr_top = HEIGHT - _MARGIN - qr_size
    canvas.rect(0, qr_top - 24, WIDTH, 1, "#e6e6e6")
    canvas.qr(link, WIDTH - _MARGIN - qr_size, qr_top, qr_size)
    left_width = WIDTH - 3 * _MARGIN - qr_size
    for index, line in enumerate(wrap_text(shop_name, left_width, 32, max_lines=2)):
        canvas.text(_MARGIN, qr_top + 60 + index * 44, line, 32, fill="#333333", weight="600")
    for index, line in enumerate(wrap_text(caption, left_width, 24, max_lines=2)):
        canvas.text(_MARGIN, qr_top + 170 + index * 34, line, 24, fill="#888888")
    return canvas.to_svg()


def shop_poster(
    *,
    shop_name: str,
    welcome_text: str,
    logo_url: str | None,
    link: str,
    caption: str,
    color: str = DEFAULT_COLOR,
) -> str:
    """The SVG poster of a shop: logo and name on the theme colour, the welcome text (up to
    four lines), the QR code of ``link`` and ``caption``."""
    color = theme_color(color)
    ink = ink_on(color)
    canvas = _Canvas(_clean(shop_name))
    canvas.rect(0, 0, WIDTH, HEIGHT, "#ffffff")
    canvas.rect(0, 0, WIDTH, 440, color)
    name_top = 240
    if logo := absolute_url(logo_url):
        canvas.image(logo, (WIDTH - 140) // 2, 60, 140, 140, slice=False)
        name_top = 280
    center = WIDTH // 2
    for index, line in enumerate(wrap_text(shop_name, WIDTH - 2 * _MARGIN, 56, max_lines=2)):
        canvas.text(center, name_top + index * 70, line, 56, fill=ink, weight="700", middle=True)
    welcome = wrap_text(welcome_text, WIDTH - 2 * _MARGIN, 32, max_lines=4)
    for index, line in enumerate(welcome):
        canvas.text(center, 510 + index * 46, line, 32, fill="#444444", middle=True)
    qr_size = 420
    canvas.qr(link, (WIDTH - qr_size) // 2, 720, qr_size)
    canvas.text(
        center, 1220, _truncate(caption, WIDTH - 2 * _MARGIN, 30), 30, fill="#888888", middle=True
    )
    return canvas.to_svg()


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the QR code of ``data`` (error correction M, no quiet zone), rows from
    the top; ``True`` is dark."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


def qr_path(matrix: Sequence[Sequence[bool]]) -> str:
    """SVG path data drawing the dark modules of ``matrix``, one unit per module (each run of
    dark modules in a row is one rectangle)."""
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return "".join(parts)


def wrap_text(text: str, width: float, font_size: float, *, max_lines: int) -> list[str]:
    """``text`` on at most ``max_lines`` lines of ``width`` units at ``font_size``: broken
    between words (anywhere between wide characters), the last line ending in "…" when the
    text does not fit."""
    limit = width / font_size  # in ems
    lines: list[str] = []
    current = ""
    for piece in _tokens(_clean(text)):
        if piece == " ":
            current += " " if current else ""
            continue
        if _ems(current + piece) <= limit:
            current += piece
            continue
        if current.strip():
            lines.append(current.rstrip())
        while _ems(piece) > limit:
            cut = _fitting(piece, limit)
            lines.append(piece[:cut])
            piece = piece[cut:]
        current = piece
        if len(lines) > max_lines:
            break
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) <= max_lines:
        return lines
    return [*lines[: max_lines - 1], _with_ellipsis(lines[max_lines - 1], limit)]


def absolute_url(url: str | None) -> str | None:
    """``url`` if it is an absolute ``http``/``https`` URL (posters are opened anywhere, so
    a relative one would not load), else ``None``."""
    if not url or len(url) > 2048 or any(ch.isspace() for ch in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("https", "http") and parts.netloc else None


class _Canvas:
    """An SVG document being drawn."""

    def __init__(self, title: str) -> None:
        self.root = ET.Element(
            "svg",
            {
                "xmlns": SVG_NS,
                "xmlns:xlink": XLINK_NS,
                "width": str(WIDTH),
                "height": str(HEIGHT),
                "viewBox": f"0 0 {WIDTH} {HEIGHT}",
                "font-family": FONT_FAMILY,
            },
        )
        ET.SubElement(self.root, "title").text = title

    def rect(self, x: float, y: float, width: float, height: float, fill: str) -> None:
        attributes = {"x": str(x), "y": str(y), "width": str(width), "height": str(height)}
        ET.SubElement(self.root, "rect", {**attributes, "fill": fill})

    def image(
        self, url: str, x: int, y: int, width: int, height: int, *, slice: bool = True
    ) -> None:
        fit = "xMidYMid slice" if slice else "xMidYMid meet"
        attributes = {"x": str(x), "y": str(y), "width": str(width), "height": str(height)}
        # ``xlink:href`` too, for SVG 1.1 renderers (older design tools, converters).
        attributes.update({"href": url, "xlink:href": url, "preserveAspectRatio": fit})
        ET.SubElement(self.root, "image", attributes)

    def text(
        self,
        x: int,
        y: int,
        content: str,
        size: int,
        *,
        fill: str,
        weight: str | None = None,
        middle: bool = False,
    ) -> None:
        attributes = {"x": str(x), "y": str(y), "font-size": str(size), "fill": fill}
        if weight:
            attributes["font-weight"] = weight
        if middle:
            attributes["text-anchor"] = "middle"
        ET.SubElement(self.root, "text", attributes).text = _clean(content)

    def qr(self, link: str, x: int, y: int, size: int) -> None:
        """The QR code of ``link`` in a ``size`` square (quiet zone included) at x, y."""
        matrix = qr_matrix(link)
        modules = len(matrix) + 2 * QUIET_ZONE
        scale = size / modules
        group = ET.SubElement(
            self.root,
            "g",
            {
                "id": "qr",
                "transform": f"translate({x} {y}) scale({scale:.6f})",
                "shape-rendering": "crispEdges",
            },
        )
        ET.SubElement(
            group, "rect", {"width": str(modules), "height": str(modules), "fill": "#ffffff"}
        )
        ET.SubElement(
            group,
            "path",
            {
                "d": qr_path(matrix),
                "fill": "#000000",
                "transform": f"translate({QUIET_ZONE} {QUIET_ZONE})",
            },
        )

    def to_svg(self) -> str:
        body = ET.tostring(self.root, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _clean(text: str) -> str:
    """``text`` without characters XML cannot carry, its white space collapsed."""
    return " ".join(_UNWANTED.sub("", text[:MAX_TEXT]).split())


def theme_color(color: str) -> str:
    """``color`` if it is ``#rrggbb``, else :data:`DEFAULT_COLOR`."""
    return color if _COLOR.fullmatch(color) else DEFAULT_COLOR


def ink_on(color: str) -> str:
    """Dark text on a light theme colour, white text on a dark one."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return "#222222" if 0.299 * red + 0.587 * green + 0.114 * blue > 170 else "#ffffff"


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _em(char: str) -> float:
    """The rough width of ``char`` in ems."""
    if unicodedata.combining(char):
        return 0.0
    return 1.0 if _wide(char) else 0.6


def _ems(text: str) -> float:
    return sum(_em(char) for char in text)


def _tokens(text: str) -> list[str]:
    """Words, single wide characters and single spaces, in order."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if char == " " or _wide(char):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


def _fitting(text: str, limit: float) -> int:
    """How many leading characters of ``text`` fit in ``limit`` ems (at least one)."""
    total = 0.0
    for count, char in enumerate(text):
        total += _em(char)
        if total > limit:
            return max(count, 1)
    return len(text)


def _with_ellipsis(line: str, limit: float) -> str:
    while line and _ems(line + _ELLIPSIS) > limit:
        line = line[:-1]
    return line.rstrip() + _ELLIPSIS


def _truncate(text: str, width: float, font_size: float) -> str:
    lines = wrap_text(text, width, font_size, max_lines=1)
    return lines[0] if lines else ""
