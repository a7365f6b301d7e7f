"""Pictures for the demo catalog: one SVG per product, drawn from its category, brand, name and colour.

The demo products reference /static/products/<id>.svg; these files are generated, committed, and
checked by tests/unit/test_demo_images.py (every demo product has its picture, and each is what
this module draws). Regenerate them after editing the demo catalog with `make demo-images`.

Each picture is a 4:3 card: a background in the category's colour (shifted a little per product so
neighbours differ), a simple icon of the category (a racket in the product's own colours when it
names them), the brand and the name. Text is XML-escaped; the files contain no script.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 400, 300
NAME_LINE_CHARS = 26

# Background hue per category (HSL degrees), and the colour of the icon's strokes.
CATEGORY_HUES = {
    "padel-rackets": 205,
    "padel-balls": 75,
    "padel-shoes": 15,
    "padel-bags": 265,
    "grips-overgrips": 330,
    "padel-lessons": 145,
    "coffee-gear": 28,
}
DEFAULT_HUE = 220
# Colour words of the catalog's "colour" attribute, for a racket's head.
COLOURS = {
    "white": "#f4f4f2",
    "black": "#1d1d1f",
    "red": "#d33b3b",
    "blue": "#2f6fd6",
    "navy": "#1f3a6b",
    "green": "#2e9a5a",
    "mint": "#8fe0c4",
    "yellow": "#f2cf3a",
    "orange": "#f08a24",
    "pink": "#ef7fb0",
    "purple": "#7b4fc9",
    "grey": "#8c9096",
    "gray": "#8c9096",
    "silver": "#c3c7cc",
    "gold": "#d4a93a",
    "teal": "#1f9a9a",
    "lime": "#a6d83a",
    "coral": "#f27a64",
    "turquoise": "#34c1c9",
    "sand": "#d9c49a",
    "brown": "#7a5230",
    "olive": "#7b7f3a",
    "charcoal": "#36393e",
    "graphite": "#4a4d52",
    "ink": "#1e2a3a",
    "copper": "#b8643a",
    "lilac": "#b79ee0",
    "sage": "#9cb69a",
    "sky": "#7fc0ec",
    "ice": "#cfe8f7",
    "midnight": "#1b2546",
    "slate": "#5d6b7a",
    "tan": "#c89f73",
    "walnut": "#5e3b22",
    "oak": "#b98a55",
    "linen": "#e8dcc6",
}
INK = "#ffffff"


def images_dir() -> Path:
    return Path(str(resources.files("talkshop.web") / "static" / "products"))


def demo_catalog() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(
        (resources.files("talkshop") / "demo" / "catalog.json").read_text()
    )
    return items


def _variation(product_id: str) -> int:
    """A stable number from 0 to 255 per product (the same on every machine)."""
    return hashlib.sha256(product_id.encode()).digest()[0]


def _colours_of(product: dict[str, Any]) -> list[str]:
    words = str(product.get("attributes", {}).get("colour", "")).lower().replace("/", " ").split()
    return [COLOURS[word] for word in words if word in COLOURS]


def _racket(colours: list[str]) -> str:
    head = colours[0] if colours else "#f4f4f2"
    accent = colours[1] if len(colours) > 1 else "#2b2b2e"
    holes = "".join(
        f'<circle cx="{200 + dx}" cy="{112 + dy}" r="4" fill="{accent}" opacity="0.7"/>'
        for dx in (-24, 0, 24)
        for dy in (-24, 0, 24)
    )
    return (
        f'<rect x="191" y="168" width="18" height="40" rx="7" fill="{accent}"/>'
        f'<ellipse cx="200" cy="112" rx="58" ry="66" fill="{head}" stroke="{accent}" stroke-width="7"/>'
        f"{holes}"
    )


def _ball(_: list[str]) -> str:
    return (
        '<circle cx="200" cy="118" r="56" fill="#e3f24a" stroke="#ffffff" stroke-width="5"/>'
        '<path d="M156 84 q44 34 0 68 M244 84 q-44 34 0 68" fill="none" stroke="#ffffff" stroke-width="6"/>'
    )


def _shoe(_: list[str]) -> str:
    return (
        '<path d="M120 150 q0 -48 30 -52 l26 24 q36 12 90 18 q24 4 24 26 l0 8 l-170 0 z" '
        'fill="#ffffff" stroke="#2b2b2e" stroke-width="5" stroke-linejoin="round"/>'
        '<rect x="116" y="168" width="178" height="12" rx="6" fill="#2b2b2e"/>'
    )


def _bag(_: list[str]) -> str:
    return (
        '<path d="M168 82 q32 -40 64 0" fill="none" stroke="#ffffff" stroke-width="8"/>'
        '<rect x="120" y="82" width="160" height="100" rx="24" fill="#ffffff" opacity="0.92"/>'
        '<rect x="120" y="118" width="160" height="10" fill="#2b2b2e" opacity="0.5"/>'
    )


def _grip(_: list[str]) -> str:
    return "".join(
        f'<rect x="{150 + step * 20}" y="{70 + step * 6}" width="22" height="90" rx="8" '
        f'fill="#ffffff" opacity="{0.95 - step * 0.1:.2f}" transform="rotate(-20 200 118)"/>'
        for step in range(5)
    )


def _lesson(_: list[str]) -> str:
    return (
        '<rect x="110" y="62" width="180" height="110" fill="none" stroke="#ffffff" stroke-width="5"/>'
        '<line x1="200" y1="62" x2="200" y2="172" stroke="#ffffff" stroke-width="3"/>'
        '<line x1="110" y1="117" x2="290" y2="117" stroke="#ffffff" stroke-width="5"/>'
        '<circle cx="246" cy="92" r="9" fill="#e3f24a"/>'
    )


def _coffee(_: list[str]) -> str:
    return (
        '<path d="M142 92 l116 0 l-12 78 q-2 12 -14 12 l-64 0 q-12 0 -14 -12 z" fill="#ffffff"/>'
        '<path d="M258 104 q34 2 26 30 q-6 18 -32 16" fill="none" stroke="#ffffff" stroke-width="8"/>'
        '<path d="M176 80 q-10 -14 0 -28 M200 80 q-10 -14 0 -28 M224 80 q-10 -14 0 -28" '
        'fill="none" stroke="#ffffff" stroke-width="4" opacity="0.8"/>'
    )


ICONS: dict[str, Callable[[list[str]], str]] = {
    "padel-rackets": _racket,
    "padel-balls": _ball,
    "padel-shoes": _shoe,
    "padel-bags": _bag,
    "grips-overgrips": _grip,
    "padel-lessons": _lesson,
    "coffee-gear": _coffee,
}


def _name_lines(name: str) -> list[str]:
    """The name over at most two lines, the second cut with an ellipsis when it is too long."""
    lines: list[str] = [""]
    for word in name.split():
        candidate = f"{lines[-1]} {word}".strip()
        if len(candidate) <= NAME_LINE_CHARS or not lines[-1]:
            lines[-1] = candidate
        elif len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = lines[-1][: NAME_LINE_CHARS - 1].rstrip() + "…"
            break
    return lines


def product_svg(product: dict[str, Any]) -> str:
    category = str(product.get("category", ""))
    variation = _variation(str(product["id"]))
    hue = (CATEGORY_HUES.get(category, DEFAULT_HUE) + variation % 24 - 12) % 360
    light = 34 + variation % 8
    icon = ICONS.get(category, _ball)(_colours_of(product))
    name = "".join(
        f'<text x="200" y="{244 + 26 * index}" text-anchor="middle" font-size="21" font-weight="700">'
        f"{escape(line)}</text>"
        for index, line in enumerate(_name_lines(str(product["name"])))
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}">'
        f'<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue} 55% {light + 8}%)"/>'
        f'<stop offset="1" stop-color="hsl({hue} 60% {light - 6}%)"/></linearGradient></defs>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="16" fill="url(#bg)"/>'
        f"{icon}"
        f'<g fill="{INK}" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">'
        f'<text x="18" y="30" font-size="15" font-weight="600" opacity="0.9">'
        f"{escape(str(product.get('brand', '')).upper())}</text>"
        f"{name}</g></svg>\n"
    )


def expected_images() -> dict[str, str]:
    """File name -> content, for every product of the demo catalog."""
    return {f"{product['id']}.svg": product_svg(product) for product in demo_catalog()}


def write_images(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    images = expected_images()
    for file_name, content in images.items():
        (folder / file_name).write_text(content, encoding="utf-8")
    return len(images)


if __name__ == "__main__":
    written = write_images(images_dir())
    sys.stdout.write(f"Wrote {written} product images to {images_dir()}\n")
