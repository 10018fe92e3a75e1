"""Server-rendered SVG charts: the bars and points say what the numbers say, and text is escaped."""
import re

from crm.charts import Series, bar_chart, line_chart, percent


def _bar_heights(svg: str) -> list[float]:
    return [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" '
                                         r'height="([\d.]+)" fill', svg)]


def test_bar_heights_are_proportional_to_the_values():
    svg = bar_chart("Sales", ["a", "b", "c"], [Series("n", [10, 20, 40])])

    heights = _bar_heights(svg)
    assert heights[1] == 2 * heights[0] and heights[2] == 4 * heights[0]
    assert "<title>Sales</title>" in svg and 'role="img"' in svg


def test_stacked_bars_add_up_and_side_by_side_bars_do_not():
    stacked = _bar_heights(bar_chart("t", ["m"], [Series("x", [1]), Series("y", [3])],
                                     stacked=True))
    assert stacked[1] == 3 * stacked[0]


def test_labels_and_tooltips_are_escaped():
    svg = line_chart("<b>t</b>", ["<script>"], [Series("s&p", [0.5])], fmt=percent)

    assert "<script>" not in svg and "&lt;script&gt;" in svg and "s&amp;p: 50%" in svg


def test_no_data_draws_nothing():
    assert bar_chart("t", [], [Series("x", [])]) == ""


def test_lines_may_go_below_zero():
    svg = line_chart("NPS", ["a", "b"], [Series("nps", [-50, 50])])

    ys = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert ys[0] > ys[1]  # -50 is drawn lower than +50
    assert ">-50<" in svg.replace(",", "")
