"""The district report page: one self-contained HTML file drawn from `service_layer.dashboard`.

Rendering only: Jinja2 templates (shipped in ``service_layer/templates``, autoescaped — names come
from the log and are hostile text) and SVG charts whose geometry is computed here. The page loads
nothing: inline CSS and SVG, no script, no font or image fetched, and a Content-Security-Policy of
``default-src 'none'`` so a browser refuses (and reports) anything that would reach out. Every
figure carries its exact value in a ``data-`` attribute for checks that read the page back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from domain.labels import catalogue_section, label
from domain.policy.amounts import yuan
from domain.reference import DISTRICTS
from service_layer.dashboard import HORIZON_DAYS, MONEY_KEYS, Dashboard, DistrictReport, MoneyLine

DUE_SHOWN = 200  # rows of the due list drawn per district; the count always covers them all
PALETTE = ("#1f5fa8", "#e07b28", "#2e8b57", "#8e44ad", "#c0392b", "#17a2b8", "#7f8c8d")
MONEY_COLOURS = {
    "fixed": "#1f5fa8",
    "ceilings": "#9bbbe0",
    "approved": "#e0a328",
    "paid": "#2e8b57",
    "recover": "#c0392b",
}

LANGUAGES = ("zh", "en")


def page_text(lang: str) -> dict[str, str]:
    """The page's words in ``lang`` (the catalogue's ``page`` section), the due list's horizon filled in."""
    chosen = 1 if lang == "zh" else 0
    return {
        key: pair[chosen].replace("{days}", str(HORIZON_DAYS))
        for key, pair in catalogue_section("page").items()
    }


TRACK_EN = {
    "tech-sme": "Tech-based SMEs",
    "innovative-sme": "Innovative SMEs",
    "hnte": "High-tech enterprises",
    "srdi-municipal": "Municipal SRDI",
    "little-giant": "Little giants",
    "champion": "Single champions",
}
STAGE_EN = {
    "none": "not listed",
    "otc-listed": "regional equity market",
    "neeq-filed": "NEEQ filed",
    "neeq-listed": "NEEQ listed",
    "neeq-select": "NEEQ select / BSE",
    "ipo-tutoring": "IPO tutoring",
    "ipo-accepted": "IPO accepted",
    "ipo-listed": "IPO listed",
    "tutoring-lapsed": "tutoring lapsed",
}


# ── chart geometry ───────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Bullet:
    """A progress bar: the actual as a filled bar, the target as a tick, on one scale."""

    fill: float  # 0..1 of the width
    tick: float  # 0..1 of the width


def bullet(actual: int | None, target: int) -> Bullet:
    top = max(target, actual or 0, 1)
    return Bullet((actual or 0) / top, target / top)


def nice_top(value: float) -> int:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (an axis end), at least 1."""
    if value <= 1:
        return 1
    scale = 1
    while True:
        for step in (1, 2, 2.5, 5):
            top = step * scale
            if top >= value and top == int(top):
                return int(top)
        scale *= 10


@dataclass(frozen=True, slots=True)
class Axis:
    top: int
    ticks: list[tuple[float, str]]  # (0..1 from the bottom, label)


def axis(value: float, *, money: bool = False) -> Axis:
    """An axis from 0 to a round top; counts get whole-number ticks (4, 5, 2 or 1 steps)."""
    top = nice_top(value)
    steps = 4 if money else next(n for n in (4, 5, 2, 1) if top % n == 0)
    ticks = [(i / steps, _tick(top * i / steps, money)) for i in range(steps + 1)]
    return Axis(top, ticks)


def _tick(value: float, money: bool) -> str:
    if not money:
        return f"{value:g}" if value != int(value) else f"{int(value):,}"
    if value >= 100_000_000:
        return label("hundred-million", namespace="axis").format(n=f"{value / 100_000_000:g}")
    if value >= 10_000:
        return label("ten-thousand", namespace="axis").format(n=f"{value / 10_000:g}")
    return f"{value:g}"


@dataclass(frozen=True, slots=True)
class LineSeries:
    key: str
    label: str
    colour: str
    points: list[tuple[float, float, int]]  # (x, y, value) in the chart's pixels

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _) in enumerate(self.points))


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart's frame: its size in pixels, the margins of the plot inside it, the value axis."""

    width: int
    height: int
    left: int
    bottom: int
    top_pad: int
    axis: Axis

    @property
    def plot_height(self) -> int:
        return self.height - self.bottom - self.top_pad


@dataclass(frozen=True, slots=True)
class LineChart(Chart):
    xs: list[tuple[float, str]]
    series: list[LineSeries]


def line_chart(
    report: DistrictReport, tracks: tuple[str, ...], lang: str, width: int = 640, height: int = 240
) -> LineChart:
    years = sorted(report.titles)
    left, right, bottom, top_pad = 44, 16, 28, 12
    shown = [t for t in tracks if any(report.titles[y].get(t, 0) for y in years)] or list(tracks[:1])
    peak = max([report.titles[y].get(t, 0) for y in years for t in shown] or [0])
    ax = axis(peak)
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    step = plot_w / max(len(years) - 1, 1)
    xs = [(left + (i * step if len(years) > 1 else plot_w / 2), str(y)) for i, y in enumerate(years)]
    series = []
    for n, track in enumerate(shown):
        points = []
        for (x, _), year in zip(xs, years, strict=True):
            value = report.titles[year].get(track, 0)
            points.append((x, top_pad + plot_h * (1 - value / ax.top), value))
        series.append(LineSeries(track, track_label(track, lang), PALETTE[n % len(PALETTE)], points))
    return LineChart(width, height, left, bottom, top_pad, ax, xs, series)


@dataclass(frozen=True, slots=True)
class Bar:
    key: str
    x: float
    y: float
    w: float
    h: float
    colour: str
    value: Decimal


@dataclass(frozen=True, slots=True)
class BarChart(Chart):
    groups: list[tuple[float, str]]  # (centre x, label)
    bars: list[Bar]


def money_chart(by_year: dict[int, MoneyLine], width: int = 640, height: int = 240) -> BarChart:
    left, right, bottom, top_pad = 56, 12, 28, 12
    years = sorted(by_year)
    peak = max([float(by_year[y].get(k)) for y in years for k in MONEY_KEYS] or [0.0])
    ax = axis(peak, money=True)
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    slot = plot_w / max(len(years), 1)
    bar_w = min(14.0, slot * 0.8 / len(MONEY_KEYS))
    groups, bars = [], []
    for i, year in enumerate(years):
        centre = left + slot * (i + 0.5)
        groups.append((centre, str(year)))
        first = centre - bar_w * len(MONEY_KEYS) / 2
        for j, key in enumerate(MONEY_KEYS):
            value = by_year[year].get(key)
            h = plot_h * float(value) / ax.top
            x = first + j * bar_w
            bars.append(Bar(key, x, top_pad + plot_h - h, bar_w - 1, h, MONEY_COLOURS[key], value))
    return BarChart(width, height, left, bottom, top_pad, ax, groups, bars)


# ── labels ───────────────────────────────────────────────────────────────────────────────────


def track_label(track: str, lang: str) -> str:
    return label(track, "zh", namespace="track") if lang == "zh" else TRACK_EN.get(track, track)


MEASURE_EN = {
    "new-listings": "New listings",
    "listed-srdi": "Listed SRDI enterprises",
    "srdi-parks": "SRDI industrial parks",
}


def measure_en(measure: str) -> str:
    """A target's measure in English: a title's name, else its key in words."""
    return TRACK_EN.get(measure) or MEASURE_EN.get(measure) or measure.replace("-", " ").capitalize()


def district_label(key: str, lang: str) -> str:
    if lang == "zh":
        district = DISTRICTS.get(key)
        return district.zh_full if district is not None else key
    return key.capitalize()


def stage_label(stage: str, lang: str) -> str:
    if lang == "zh":
        return label(stage, "zh", namespace="state", kind="listing")
    return STAGE_EN.get(stage, stage)


def money_text(value: Decimal | None, lang: str) -> str:
    if value is None:
        return "—"
    return f"{yuan(value)} {label('yuan', lang, namespace='page')}"


def exact(value: Decimal | int | None) -> str:
    """The value as written in a data- attribute: exact, no exponent (``Decimal('1E+5')`` → 100000)."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


def article_label(article: str, lang: str) -> str:
    """An article as the document numbers it: 第5条, 一、 (a section), 附件1, 序言."""
    if lang != "zh":
        return label("article", lang, namespace="page-article").format(n=article)
    if article == "preamble":
        return label("preamble", lang, namespace="page-article")
    if article and article.isdigit():
        return label("article", lang, namespace="page-article").format(n=article)
    if article and article.isnumeric():  # a section numbered in Chinese numerals: 一、
        return label("section", lang, namespace="page-article").format(n=article)
    return article


# ── the page ─────────────────────────────────────────────────────────────────────────────────


def render(dashboard: Dashboard, lang: str = "zh") -> str:
    """The whole page as one HTML document."""
    import jinja2

    if lang not in LANGUAGES:
        raise InvalidInput(f"unknown language {lang!r}; use zh or en")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("service_layer", "templates"),
        autoescape=True,  # every stored name is hostile text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=lambda v: money_text(v, lang),
        exact=exact,
        yuan=lambda v: "—" if v is None else yuan(v),
        track=lambda t: track_label(t, lang),
        district=lambda d: district_label(d, lang),
        stage=lambda s: stage_label(s, lang),
        article=lambda a: article_label(a, lang),
        px=lambda v: f"{float(v):.1f}",
    )
    template = env.get_template("dashboard.html.j2")
    return template.render(
        d=dashboard,
        lang=lang,
        t=page_text(lang),
        money_keys=MONEY_KEYS,
        due_shown=DUE_SHOWN,
        money_colours=MONEY_COLOURS,
        bullet=bullet,
        line_chart=lambda report: line_chart(report, dashboard.tracks, lang),
        money_chart=money_chart,
        sections=_sections,
        listing_peak=lambda report: max([n for stage, n in report.listing.items() if stage != "none"] + [1]),
        status_label=lambda s: _status_label(s, lang),
        measure_label=lambda row: row.label_zh if lang == "zh" else measure_en(row.measure),
        policy_title=lambda key: _policy_title(dashboard, key, lang),
    )


def _sections(report: DistrictReport) -> dict[str, Any]:
    """The targets split for drawing: plain rows (bars) and per-department tables (grids)."""
    plain = [r for r in report.targets if r.department is None]
    grids: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in report.targets:
        if r.department is None:
            continue
        grid = grids.setdefault(
            (r.policy, r.article, r.measure), {"row": r, "years": [], "departments": [], "cells": {}}
        )
        if r.year not in grid["years"]:
            grid["years"].append(r.year)
        if r.department not in grid["departments"]:
            grid["departments"].append(r.department)
        grid["cells"][(r.department, r.year)] = r
    for grid in grids.values():
        grid["years"].sort()
    met = sum(1 for r in report.targets if r.met is True)
    behind = sum(1 for r in report.targets if r.met is False)
    uncounted = sum(1 for r in report.targets if r.met is None)
    return {
        "plain": plain,
        "grids": list(grids.values()),
        "met": met,
        "behind": behind,
        "uncounted": uncounted,
    }


def _status_label(status: str, lang: str) -> str:
    return label(status, lang, namespace="status")


def _policy_title(dashboard: Dashboard, key: str, lang: str) -> str:
    document = dashboard.policies.get(key)
    if document is None:
        return key
    return str(document.title_zh if lang == "zh" else document.title)


def check_path(path: Path, *, force: bool) -> Path:
    """The folder ``path`` is to be written in; InvalidInput (exit 2) when it cannot or must not be
    (`service_layer.files.check_output`: an existing file without ``force``, a link, a device, a
    folder, a missing folder)."""
    from service_layer.files import check_output

    folder = check_output(path, force=force).parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidInput(f"folder {folder} is not writable; choose another path")
    return folder


def write_page(path: Path, html: str, *, force: bool) -> None:
    """Write ``html`` to ``path`` through a temporary file in the same folder, then rename
    (`service_layer.files.output_file`): an existing file is kept unless ``force``; a full disk is
    exit 5 and leaves nothing behind."""
    from service_layer.files import output_file

    check_path(path, force=force)
    with output_file(path, force=force) as out:
        out.write(html)
