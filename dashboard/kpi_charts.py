"""KPI snapshot figures as charts (server-rendered SVG) with the numbers beside them."""
import datetime as dt
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

from crm.charts import Series, bar_chart, line_chart
from crm.numbers import number, percent, percent_points, percent_range
from customers.money import base_currency
from customers.models import ScoringRun, Stage
from customers.scoring.report import calibration_svg
from customers.templatetags.money import money_whole


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str
    table: list[tuple[str, str]]  # (label, value) for people who prefer numbers


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def month_label(month: str) -> str:
    """A snapshot's month ("2026-01") as the reader's language writes it ("Jan 2026",
    "Oca 2026"): short enough for an axis of twelve."""
    year, number_of_month = month.split("-")
    return formats.date_format(dt.date(int(year), int(number_of_month), 1), "M Y")


def kpi_charts(data: dict, *, months: int) -> list[Chart]:
    labels = [month_label(month) for month in data.get("months", [])[-months:]]

    def last(key):
        return data.get(key, [])[-months:]

    charts = [_stages(data)]
    if labels:
        charts += [_revenue(labels, last), _repeat_rate(labels, last), _cohorts(labels, last)]
    charts.append(_likelihood(data))
    if labels and any(value is not None for value in last("nps")):
        charts.append(_nps(labels, last("nps")))
    if any(band["contacts"] for band in data.get("bands", [])):
        charts.append(_bands(data["bands"]))
    calibration = _calibration(data)
    if calibration:
        charts.append(calibration)
    return charts


def _stages(data: dict) -> Chart:
    stages = data.get("stages", {})
    labels = [str(label) for _value, label in Stage.choices]
    values = [stages.get(value, 0) for value, _label in Stage.choices]
    return Chart("stages", _("Contacts by stage"),
                 bar_chart(_("Contacts by stage"), labels, [Series(_("Contacts"), values)]),
                 [(label, number(value)) for label, value in zip(labels, values)])


def _revenue(labels, last) -> Chart:
    first, repeat = last("revenue_first"), last("revenue_repeat")
    title = _("Revenue: first orders and repeat purchases")
    currency = base_currency()

    def money(value):
        return money_whole(value, currency)
    return Chart("revenue", title, bar_chart(title, labels, [
        Series(_("First orders"), first), Series(_("Repeat purchases"), repeat)], stacked=True,
        fmt=money),
        [(label, f"{money(a)} / {money(b)}") for label, a, b in zip(labels, first, repeat)])


def _repeat_rate(labels, last) -> Chart:
    rates = [_share(r, b) for r, b in zip(last("returning_buyers"), last("buyers"))]
    title = _("Repeat-purchase rate: buyers who had bought before")
    return Chart("repeat_rate", title,
                 line_chart(title, labels, [Series(_("Returning buyers"), rates)], fmt=percent),
                 [(label, percent(rate)) for label, rate in zip(labels, rates)])


def _cohorts(labels, last) -> Chart:
    new, within = last("new_buyers"), last("converted_90")
    complete = last("cohort_complete")
    rates = [_share(c, n) if done else 0.0 for c, n, done in zip(within, new, complete)]
    title = _("One-time to repeat: share of each month's new buyers back within 90 days")
    return Chart("cohorts", title,
                 bar_chart(title, labels, [Series(_("Came back within 90 days"), rates)],
                           fmt=percent),
                 [(label, f"{percent(rate)} ({number(n)})" if done else _("not 90 days yet"))
                  for label, rate, n, done in zip(labels, rates, new, complete)])


def _likelihood(data: dict) -> Chart:
    counts = data.get("p_buy_histogram", [0] * 10)
    labels = [percent_range(10 * i, 10 * i + 10) for i in range(10)]
    title = _("Likelihood to buy again: contacts per band")
    return Chart("likelihood", title,
                 bar_chart(title, labels, [Series(_("Contacts"), counts)]),
                 [(label, number(n)) for label, n in zip(labels, counts)])


def _nps(labels, values) -> Chart:
    title = _("Net Promoter Score by month (promoters minus detractors)")
    # Months without answers are gaps in the line (not 0) and marked in the table.
    return Chart("nps", title, line_chart(title, labels, [Series(_("NPS"), values)],
                                          fmt=number),
                 [(label, "–" if value is None else number(value))
                  for label, value in zip(labels, values)])


def _bands(bands: list[dict]) -> Chart:
    step = 100 // len(bands)
    labels = [percent_range(step * i, step * (i + 1)) for i in range(len(bands))]
    repeat = [100 * _share(b["repeat"], b["contacts"]) for b in bands]
    cases = [100 * _share(b["open_cases"], b["contacts"]) for b in bands]
    nps = [100 * _share(b["promoters"] - b["detractors"], b["answered"]) for b in bands]
    title = _("By likelihood to buy again: repeat clients, open cases and NPS")
    return Chart("bands", title, line_chart(title, labels, [
        Series(_("Repeat clients (%)"), repeat), Series(_("With an open case (%)"), cases),
        Series(_("NPS"), nps)], fmt=number),
        [(label, f"{percent_points(r)} · {percent_points(c)} · {number(n)}") for label, r, c, n in
         zip(labels, repeat, cases, nps)])


def _calibration(data: dict) -> Chart | None:
    run = ScoringRun.objects.filter(pk=data.get("scoring_run_id")).first()
    if run is None:
        return None
    title = _("Scoring model calibration: predicted against actual")
    return Chart("calibration", title, calibration_svg(run, size=300), [])
