"""Small server-rendered SVG charts: no JavaScript, no third-party requests, readable by screen
readers (each chart has a title and a data table is one click away in the page).

Charts scale to their container (viewBox); colours come from Bootstrap's palette.
"""
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 36
COLOURS = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#dc3545", "#20c997"]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _n(value: float) -> str:
    return f"{value:.1f}"


def _scale_max(series: Sequence[Series], stacked: bool) -> float:
    if stacked:
        peak = max((sum(v[i] for v in (s.values for s in series))
                    for i in range(len(series[0].values))), default=0)
    else:
        peak = max((max(s.values, default=0) for s in series), default=0)
    return float(peak) or 1.0


def _axis(peak: float, fmt, low: float = 0.0) -> SafeString:
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    ticks = []
    for step in range(5):
        value = low + (peak - low) * step / 4
        y = PAD_TOP + inner_h - inner_h * step / 4
        ticks.append((PAD_LEFT, _n(y), WIDTH - PAD_RIGHT, _n(y), PAD_LEFT - 4, _n(y + 4),
                      fmt(value)))
    return format_html_join(
        "", '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dee2e6"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>', ticks)


def _labels(labels: Sequence[str], slot: float) -> SafeString:
    every = max(1, len(labels) // 12)  # at most ~12 labels, so they never overlap
    return format_html_join(
        "", '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
        ((_n(PAD_LEFT + slot * (i + 0.5)), HEIGHT - PAD_BOTTOM + 14, label)
         for i, label in enumerate(labels) if i % every == 0))


def _legend(series: Sequence[Series]) -> SafeString:
    if len(series) < 2:
        return SafeString("")
    return format_html_join(
        "", '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
            '<text x="{}" y="{}" font-size="11">{}</text>',
        ((PAD_LEFT + 150 * i, HEIGHT - 12, COLOURS[i % len(COLOURS)], PAD_LEFT + 150 * i + 14,
          HEIGHT - 3, s.name) for i, s in enumerate(series)))


def _frame(title: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}" class="crm-chart" preserveAspectRatio="xMidYMid meet">'
        '<title>{}</title>{}</svg>', WIDTH, HEIGHT, title, title, body)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
              stacked: bool = False, fmt=lambda v: f"{v:,.0f}") -> SafeString:
    """Vertical bars per label: side by side, or stacked."""
    if not labels or not series:
        return SafeString("")
    peak = _scale_max(series, stacked)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / len(labels)
    bars = []
    for i in range(len(labels)):
        base = 0.0
        for k, one in enumerate(series):
            value = float(one.values[i])
            height = inner_h * value / peak
            width = slot * 0.8 / (1 if stacked else len(series))
            x = PAD_LEFT + slot * i + slot * 0.1 + (0 if stacked else width * k)
            y = PAD_TOP + inner_h - height - (inner_h * base / peak if stacked else 0)
            bars.append((_n(x), _n(y), _n(width), _n(height), COLOURS[k % len(COLOURS)],
                         f"{labels[i]} · {one.name}: {fmt(value)}"))
            base += value if stacked else 0
    body = format_html("{}{}{}{}", _axis(peak, fmt), format_html_join(
        "", '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
            '<title>{}</title></rect>', bars), _labels(labels, slot), _legend(series))
    return _frame(title, body)


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], *,
               fmt=lambda v: f"{v:,.0f}") -> SafeString:
    """One line per series over the labels, with a dot (and tooltip) per point."""
    if not labels or not series:
        return SafeString("")
    peak = _scale_max(series, stacked=False)
    # Lines may go below zero (NPS runs from -100 to 100): the axis starts at the lowest value.
    low = min(0.0, min((float(v) for one in series for v in one.values), default=0.0))
    peak = max(peak, low + 1)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / len(labels)
    lines = []
    for k, one in enumerate(series):
        points = [(PAD_LEFT + slot * (i + 0.5),
                   PAD_TOP + inner_h - inner_h * (float(v) - low) / (peak - low),
                   f"{labels[i]} · {one.name}: {fmt(float(v))}")
                  for i, v in enumerate(one.values)]
        colour = COLOURS[k % len(COLOURS)]
        lines.append(format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>{}',
            " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points), colour,
            format_html_join("", '<circle cx="{}" cy="{}" r="3" fill="{}">'
                                 '<title>{}</title></circle>',
                             ((_n(x), _n(y), colour, tip) for x, y, tip in points))))
    body = format_html("{}{}{}{}", _axis(peak, fmt, low), format_html_join("", "{}", ((line,) for line in lines)),
                       _labels(labels, slot), _legend(series))
    return _frame(title, body)


def percent(value: float) -> str:
    return f"{value:.0%}"
