"""Reading the report page back: every figure it carries in its data- attributes, as the browser or
the file holds it (the same parser reads `chromium --dump-dom` output and the written file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any


@dataclass
class PageFigures:
    head: dict[str, str] = field(default_factory=dict)
    money: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # scope → key → value
    targets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    titles: dict[str, dict[tuple[int, str], int]] = field(default_factory=dict)  # (year, track) → count
    title_days: dict[str, dict[int, str]] = field(default_factory=dict)
    due: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    listing: dict[str, dict[str, int]] = field(default_factory=dict)
    enterprises: dict[str, int] = field(default_factory=dict)
    due_count: dict[str, int] = field(default_factory=dict)
    money_lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    elements: list[str] = field(default_factory=list)  # every tag name met, in order
    attributes: set[str] = field(default_factory=set)  # every attribute name met
    text: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageFigures()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.page.text.append(data.strip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        page = self.page
        page.elements.append(tag)
        page.attributes.update(a)
        classes = set(a.get("class", "").split())
        if a.get("id") == "dashboard":
            page.head = {k.removeprefix("data-"): v for k, v in a.items() if k.startswith("data-")}
        if "data-money" in a:
            page.money.setdefault(a["data-scope"], {})[a["data-money"]] = Decimal(a["data-value"])
            return
        district = a.get("data-district", "")
        if "target" in classes and "data-measure" in a:
            page.targets.setdefault(district, []).append(
                {
                    "policy": a["data-policy"],
                    "measure": a["data-measure"],
                    "department": a["data-department"] or None,
                    "year": int(a["data-year"]),
                    "target": int(a["data-target"]),
                    "actual": int(a["data-actual"]) if a["data-actual"] else None,
                    "met": {"true": True, "false": False}.get(a["data-met"]),
                }
            )
        elif "title-count" in classes:
            year = int(a["data-year"])
            page.titles.setdefault(district, {})[(year, a["data-track"])] = int(a["data-count"])
            page.title_days.setdefault(district, {})[year] = a["data-on"]
        elif "due-title" in classes:
            page.due.setdefault(district, []).append(
                {
                    "uscc": a["data-uscc"],
                    "track": a["data-track"],
                    "valid_until": a["data-valid-until"],
                    "days_left": int(a["data-days-left"]),
                }
            )
        elif "listing-count" in classes:
            page.listing.setdefault(district, {})[a["data-stage"]] = int(a["data-count"])
        elif "due-count" in classes:
            page.due_count[district] = int(a["data-count"])
        elif "enterprises" in classes:
            page.enterprises[district] = int(a["data-count"])
        elif "money-line" in classes:
            line = {k.removeprefix("data-"): v for k, v in a.items() if k.startswith("data-")}
            page.money_lines.setdefault(district, []).append(line)
        elif "status-count" in classes:
            page.statuses.setdefault(district, {})[a["data-status"]] = int(a["data-count"])


def read_page(html: str) -> PageFigures:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.page


def money(value: Any) -> Decimal:
    """A JSON amount (int or float as `print_json` writes it) as an exact Decimal."""
    return Decimal(str(value))


def png_pixels(data: bytes) -> tuple[int, int, int, bytes]:
    """Width, height, bytes per pixel and the raw pixels of an 8-bit, non-interlaced PNG (what
    Chromium writes), decoded with the standard library only."""
    import struct
    import zlib

    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat = 8, bytearray()
    width = height = bpp = 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, "only 8-bit, non-interlaced PNGs"
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    out = bytearray(stride * height)
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if method == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif method == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif method == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif method == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        out[y * stride : (y + 1) * stride] = line
        previous = line
    return width, height, bpp, bytes(out)


def grey_variance(data: bytes) -> tuple[float, int]:
    """The variance of the pixels' grey levels and how many distinct colours a PNG holds."""
    _, _, bpp, pixels = png_pixels(data)
    greys = []
    colours = set()
    for i in range(0, len(pixels), bpp * 7):  # every 7th pixel is plenty for "is it blank?"
        px = pixels[i : i + min(bpp, 3)]
        colours.add(bytes(px))
        greys.append(sum(px) / len(px))
    mean = sum(greys) / len(greys)
    return sum((g - mean) ** 2 for g in greys) / len(greys), len(colours)
