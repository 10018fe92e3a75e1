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


def test_a_month_without_data_is_a_gap_not_a_zero():
    svg = line_chart("NPS", ["Jan", "Feb", "Mar", "Apr"], [Series("nps", [40, None, 20, 30])])

    tips = re.findall(r"<title>([^<]*)</title></circle>", svg)
    assert tips == ["Jan · nps: 40", "Mar · nps: 20", "Apr · nps: 30"]  # no point for Feb
    assert svg.count("<polyline") == 2  # the line breaks at the gap


# --- Turkish: separators and percentages on the axes, a legend that never overlaps --------

def _legend_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) of each legend entry: its swatch and its text's estimated width."""
    from crm.charts import LEGEND_FONT, text_width
    entries = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="10" height="10" fill="[^"]+"/>'
                         r'<text x="[\d.]+" y="[\d.]+" font-size="11">([^<]*)</text>', svg)
    return [(float(x), float(y), float(x) + 14 + text_width(name, LEGEND_FONT), float(y) + 12)
            for x, y, name in entries]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_axis_and_tooltips_use_turkish_separators_and_percent_sign():
    from django.utils import translation
    with translation.override("tr"):
        counts = bar_chart("t", ["Oca", "Şub"], [Series("Kişi", [1234.5, 20000])])
        shares = line_chart("t", ["Oca", "Şub"], [Series("Oran", [0.03, 0.5])], fmt=percent)
    assert ">20.000<" in counts and ">10.000<" in counts and "Kişi: 1.234" in counts
    assert "Oran: %3" in shares and ">%50<" in shares and "3%" not in shares
    with translation.override("en"):
        assert ">20,000<" in bar_chart("t", ["Jan"], [Series("n", [20000])])


def test_long_turkish_legend_entries_wrap_and_never_overlap():
    names = ["Tekrar eden müşteriler (%)", "Açık destek talebi olan müşteriler (%)",
             "Net Tavsiye Skoru", "İlk siparişler", "Tekrarlanan satın almalar ve iadeler",
             "Çok uzun bir seri adı " * 8]
    series = [Series(name, [1, 2, 3]) for name in names]
    for svg in (line_chart("t", ["a", "b", "c"], series),
                bar_chart("t", ["a", "b", "c"], series, stacked=True)):
        boxes = _legend_boxes(svg)
        assert len(boxes) == len(names)
        assert not any(_overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
        width, height = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
        plot_bottom = 240 - 36 + 14  # the x-axis labels' baseline
        assert all(0 <= x0 and x1 <= width and y0 > plot_bottom and y1 <= height
                   for x0, y0, x1, y1 in boxes)
        assert height > 240  # the legend took more than one row and the chart grew for it


def test_wide_money_labels_move_the_plot_right_instead_of_off_the_chart():
    from crm.charts import text_width
    from customers.templatetags.money import money_whole
    from django.utils import translation
    with translation.override("tr"):
        svg = bar_chart("t", ["a"], [Series("x", [12_500_000])],
                        fmt=lambda v: money_whole(v, "TRY"))
    label = re.findall(r'text-anchor="end">([^<]+)<', svg)[-1]
    x = float(re.findall(r'<text x="([\d.]+)" y="[\d.]+" font-size="10" text-anchor="end">',
                         svg)[-1])
    assert label == "₺12.500.000" and x - text_width(label, 10) >= 0


def test_small_counts_get_distinct_ticks():
    from django.utils import translation
    with translation.override("tr"):
        svg = bar_chart("t", ["a", "b"], [Series("n", [0, 1])])
    assert re.findall(r'text-anchor="end">([^<]+)<', svg) == ["0", "0,25", "0,5", "0,75", "1"]
