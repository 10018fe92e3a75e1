"""A CustomerBaseSnapshot's figures as the managers' page shows them: the cohort grid with a
shade per cell (CSS classes, no inline style), the RFM cells, and the predicted 12-month value
as a server-drawn SVG histogram with its numbers beside it."""
import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.charts import Series, bar_chart
from crm.numbers import number, percent
from customers.money import base_currency
from customers.templatetags.money import money_whole

HEAT_LEVELS = 5  # CSS classes crm-heat-0 .. crm-heat-5 (static/css/crm.css)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _heat(share: float | None) -> int:
    return 0 if share is None else min(HEAT_LEVELS, round(share * HEAT_LEVELS))


@dataclass(frozen=True)
class Cell:
    text: str
    heat: int
    title: str


def cohort_rows(data: dict) -> list[dict]:
    """One row per first-purchase month with contacts: its month (a date, for the |date
    filter), size, and one cell per month since (share still buying, its count in the title)."""
    rows = []
    for cohort in data.get("cohorts", []):
        if not cohort["contacts"]:
            continue
        cells = []
        for active in cohort["active"]:
            share = _share(active, cohort["contacts"])
            cells.append(Cell(percent(share), _heat(share),
                              _("%(count)s of %(contacts)s bought in this month") % {
                                  "count": number(active), "contacts": number(cohort["contacts"])}))
        rows.append({"month": dt.date.fromisoformat(cohort["month"] + "-01"),
                     "contacts": number(cohort["contacts"]), "cells": cells})
    return rows


def _bands(edges: list[int]) -> list[tuple[int, int | None]]:
    bands, low = [], 0
    for high in edges:
        bands.append((low, high))
        low = high + 1
    return [*bands, (low, None)]


def _band_label(low: int, high: int | None) -> str:
    if high is None:
        return _("%(low)s or more") % {"low": number(low)}
    if low == high:
        return number(low)
    return f"{number(low)}–{number(high)}"


def rfm_table(data: dict) -> dict | None:
    """Rows by days since the last purchase, columns by purchase days; each cell: contacts
    now, their mean spend, and the share of the cell's contacts OUTCOME_DAYS ago who bought
    again since."""
    rfm = data.get("rfm")
    if not rfm:
        return None
    currency = base_currency()
    recency = _bands(rfm["recency_edges"])  # from 0 days: bought today
    frequency = _bands(rfm["frequency_edges"])
    frequency[0] = (1, frequency[0][1])
    rows = []
    for (low, high), cells in zip(recency, rfm["cells"]):
        shown = []
        for cell in cells:
            again = _share(cell["bought_again"], cell["past_contacts"])
            shown.append({
                "empty": not cell["contacts"] and not cell["past_contacts"],
                "contacts": ngettext("%(count)s contact", "%(count)s contacts",
                                     cell["contacts"]) % {"count": number(cell["contacts"])},
                "mean_spend": (money_whole(cell["spend"] / cell["contacts"], currency)
                               if cell["contacts"] else ""),
                "again": percent(again), "heat": _heat(again),
                "past": number(cell["past_contacts"]) if cell["past_contacts"] else "",
            })
        rows.append({"label": _band_label(low, high), "cells": shown})
    return {"columns": [_band_label(low, high) for low, high in frequency], "rows": rows,
            "outcome_days": rfm["outcome_days"]}


def value_chart(data: dict) -> dict | None:
    """The histogram of predicted 12-month values: SVG, and (range, contacts) rows."""
    value = data.get("value")
    if not value or not value["contacts"]:
        return None
    currency = base_currency()
    width, counts = value["width"], value["counts"]
    labels = [f"{money_whole(width * i, currency)}–{money_whole(width * (i + 1), currency)}"
              for i in range(len(counts) - 1)]
    labels.append(_("%(value)s or more") % {"value": money_whole(width * (len(counts) - 1),
                                                                 currency)})
    title = _("Predicted value over the next 12 months: contacts per range")
    return {"title": title,
            "svg": bar_chart(title, labels, [Series(_("Contacts"), counts)]),
            "table": [(label, number(count)) for label, count in zip(labels, counts)],
            "contacts": number(value["contacts"]),
            "total": money_whole(value["total"], currency),
            "median": money_whole(value["median"], currency)}
