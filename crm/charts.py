"""Small server-rendered SVG charts: no JavaScript, no third-party requests, readable by screen
readers (each chart has a title and a data table is one click away in the page).

Charts scale to their container (viewBox); colours come from Bootstrap's palette. Numbers
on axes and in tooltips use the active language's separators (crm.numbers: "1.234,5" and
"%3" in Turkish); the legend wraps to as many rows as its labels need, so long (Turkish)
series names never overlap each other or the plot.
"""
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from crm.numbers import number, percent  # noqa: F401 (percent: the charts' share format)

WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 36
LEGEND_FONT, LEGEND_ROW, LEGEND_SWATCH, LEGEND_GAP = 11, 16, 10, 16
COLOURS = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997"]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Any]  # numbers; None is a gap (line charts only)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _scale_max(series: Sequence[Series], stacked: bool) -> float:
    if stacked:
        peak = max((sum(v[i] for v in (s.values for s in series))
                    for i in range(len(series[0].values))), default=0)
    else:
        peak = max((max(s.values, default=0) for s in series), default=0)
    return float(peak) or 1.0


def _tick_values(peak: float, low: float = 0.0) -> list[float]:
    return [low + (peak - low) * step / 4 for step in range(5)]


def _tick_format(peak: float, fmt, low: float = 0.0):
    """The plain number format gets as many decimals as the tick step needs (0, 0.25, 0.5 ...
    rather than 0, 0, 1, 1), at most two."""
    if fmt is not number:
        return fmt
    step = (peak - low) / 4
    digits = next((d for d in range(3) if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-9),
                  2)
    return lambda value: number(value, digits)


def _left(peak: float, fmt, low: float = 0.0) -> float:
    """The plot's left edge: wide enough for the longest axis label ("₺1.250.000")."""
    fmt = _tick_format(peak, fmt, low)
    widest = max(text_width(str(fmt(value)), 10) for value in _tick_values(peak, low))
    return max(PAD_LEFT, round(widest + 8))


def _axis(peak: float, fmt, low: float = 0.0, left: float = PAD_LEFT) -> SafeString:
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    fmt = _tick_format(peak, fmt, low)
    ticks = []
    for step, value in enumerate(_tick_values(peak, low)):
        y = PAD_TOP + inner_h - inner_h * step / 4
        ticks.append((left, _n(y), WIDTH - PAD_RIGHT, _n(y), left - 4, _n(y + 4),
                      fmt(value)))
    return format_html_join(
        "", '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dee2e6"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>', ticks)


def _labels(labels: Sequence[str], slot: float, left: float = PAD_LEFT) -> SafeString:
    every = max(1, len(labels) // 12)  # at most ~12 labels, so they never overlap
    return format_html_join(
        "", '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
        ((_n(left + slot * (i + 0.5)), HEIGHT - PAD_BOTTOM + 14, label)
         for i, label in enumerate(labels) if i % every == 0))


# Advance widths in em of a sans-serif face, rounded up: a legend laid out with these is never
# narrower than the text the browser draws.
_NARROW, _WIDE = set("iIlıjf.,:;'|!()[] t"), set("mwMWŞĞÜÖ@%")


def text_width(text: str, font_size: float) -> float:
    """An upper estimate of `text`'s drawn width in user units (no font metrics server-side)."""
    em = sum(0.34 if c in _NARROW else 0.95 if c in _WIDE else 0.72 if c.isupper()
             else 0.62 for c in text)
    return em * font_size


def _fit(name: str, room: float) -> str:
    """`name`, cut short with "…" if even a row of its own cannot hold it."""
    while len(name) > 1 and text_width(name, LEGEND_FONT) > room:
        name = name[:-2] + "…"
    return name


def _legend_items(names: Sequence[str], left: float, top: float):
    """(x, y, name) of each legend entry's swatch, wrapped to rows that fit the chart's width,
    and the number of rows. An entry wider than a whole row gets a row of its own."""
    right = WIDTH - PAD_RIGHT
    x, row, items = left, 0, []
    for name in names:
        name = _fit(name, right - left - LEGEND_SWATCH - 4)
        width = LEGEND_SWATCH + 4 + text_width(name, LEGEND_FONT)
        if x > left and x + width > right:
            x, row = left, row + 1
        items.append((x, top + row * LEGEND_ROW, name))
        x += width + LEGEND_GAP
    return items, (row + 1 if names else 0)


def _legend_rows(series: Sequence[Series], left: float = PAD_LEFT) -> int:
    return _legend_items([s.name for s in series], left, 0)[1] if len(series) > 1 else 0


def _legend(series: Sequence[Series], left: float = PAD_LEFT) -> SafeString:
    if len(series) < 2:
        return SafeString("")
    items, _rows = _legend_items([s.name for s in series], left, HEIGHT - 12)
    return format_html_join(
        "", '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
            '<text x="{}" y="{}" font-size="11">{}</text>',
        ((_n(x), y, COLOURS[i % len(COLOURS)], _n(x + 14), y + 9, name)
         for i, (x, y, name) in enumerate(items)))


def _frame(title: str, body: SafeString, legend_rows: int = 1) -> SafeString:
    height = HEIGHT + LEGEND_ROW * max(0, legend_rows - 1)  # extra legend rows below
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}" class="crm-chart" preserveAspectRatio="xMidYMid meet">'
        '<title>{}</title>{}</svg>', WIDTH, height, title, title, body)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
              stacked: bool = False, fmt=number) -> SafeString:
    """Vertical bars per label: side by side, or stacked."""
    if not labels or not series:
        return SafeString("")
    peak = _scale_max(series, stacked)
    left = _left(peak, fmt)
    inner_w, inner_h = WIDTH - left - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / len(labels)
    bars = []
    for i in range(len(labels)):
        base = 0.0
        for k, one in enumerate(series):
            value = float(one.values[i])
            height = inner_h * value / peak
            width = slot * 0.8 / (1 if stacked else len(series))
            x = left + slot * i + slot * 0.1 + (0 if stacked else width * k)
            y = PAD_TOP + inner_h - height - (inner_h * base / peak if stacked else 0)
            bars.append((_n(x), _n(y), _n(width), _n(height), COLOURS[k % len(COLOURS)],
                         f"{labels[i]} · {one.name}: {fmt(value)}"))
            base += value if stacked else 0
    body = format_html("{}{}{}{}", _axis(peak, fmt, left=left), format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
            '<title>{}</title></rect>', bars), _labels(labels, slot, left), _legend(series))
    return _frame(title, body, _legend_rows(series))


def _runs(values: Sequence) -> list[list[tuple[int, float]]]:
    """(index, value) runs between the gaps (None) of a series."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, value))
    return [run for run in runs if run]


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
               fmt=number) -> SafeString:
    """One line per series over the labels, with a dot (and tooltip) per point. A value of
    None (no data that month) is a gap in the line, never drawn as 0."""
    if not labels or not series:
        return SafeString("")
    known = [float(v) for one in series for v in one.values if v is not None]
    peak = _scale_max([Series(one.name, [v or 0 for v in one.values]) for one in series],
                      stacked=False)
    # Lines may go below zero (NPS runs from -100 to 100): the axis starts at the lowest value.
    low = min(0.0, min(known, default=0.0))
    peak = max(peak, low + 1)
    left = _left(peak, fmt, low)
    inner_w, inner_h = WIDTH - left - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / len(labels)
    lines = []
    for k, one in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        for run in _runs(one.values):
            points = [(left + slot * (i + 0.5),
                       PAD_TOP + inner_h - inner_h * (float(v) - low) / (peak - low),
                       f"{labels[i]} · {one.name}: {fmt(float(v))}") for i, v in run]
            lines.append(format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>{}',
                " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points), colour,
                format_html_join("", '<circle cx="{}" cy="{}" r="3" fill="{}">'
                                     '<title>{}</title></circle>',
                                 ((_n(x), _n(y), colour, tip) for x, y, tip in points))))
    body = format_html("{}{}{}{}", _axis(peak, fmt, low, left),
                       format_html_join("", "{}", ((line,) for line in lines)),
                       _labels(labels, slot, left), _legend(series))
    return _frame(title, body, _legend_rows(series))

