"""The customer base for managers (#18 point 6), computed once per scoring run and stored as a
CustomerBaseSnapshot: the page reads that row and never scans purchases.

Figures, from the live purchases (refunds never count) merged to one per contact and day, in
the shop's time zone:
- cohort retention: contacts by first-purchase month (the last COHORT_MONTHS months), and for
  each month since (0 = the first-purchase month itself) how many of them bought in it;
- RFM cells: contacts by recency (days since the last purchase, RECENCY_EDGES) and frequency
  (purchase days, FREQUENCY_EDGES), with their total spend (the M: the page shows the mean);
  and, for the contacts who were in each cell OUTCOME_DAYS ago, how many bought again since:
  what a cell is worth as a call list;
- the distribution of the predicted 12-month value of the current scoring run's contacts, in
  VALUE_BUCKETS buckets of one round width (1, 2 or 5 times a power of ten, so that about 99%
  of contacts fall below the last edge) and one open bucket above.

The KPI refresh task (every 15 minutes) computes a new snapshot when a new scoring run was
published since the last one (or, before any run, once a day): in effect after the nightly run.
"""
import datetime as dt
import math
import time

import numpy as np
from django.utils import timezone

from customers.models import ContactScore
from customers.scoring.model.pipeline import contact_days
from customers.scoring.runs import current_run
from customers.scoring.store import day_index, day_rows

from .models import CustomerBaseSnapshot

COHORT_MONTHS = 12
# Upper edges (inclusive) of the recency bands in days: 0-30, 31-90, 91-180, 181-365, over 365.
RECENCY_EDGES = (30, 90, 180, 365)
# Upper edges (inclusive) of the frequency bands in purchase days: 1, 2, 3-4, 5 or more.
FREQUENCY_EDGES = (1, 2, 4)
OUTCOME_DAYS = 90
VALUE_BUCKETS = 10
SNAPSHOTS_KEPT = 5


def _month_number(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of days since 1970-01-01."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _cohorts(owner: np.ndarray, days: np.ndarray, first_day: np.ndarray,
             today: dt.date) -> list[dict]:
    """[{"month": "2026-01", "contacts": n, "active": [n bought in month 0, 1, ...]}], oldest
    first; a cohort's list is as long as the months it has had (the current month included)."""
    current = _month_number(np.array([day_index(today)]))[0]
    start = current - (COHORT_MONTHS - 1)
    grid = np.zeros((COHORT_MONTHS, COHORT_MONTHS), dtype=np.int64)
    start_day = (np.datetime64(0, "M") + np.timedelta64(int(start), "M")).astype(
        "datetime64[D]").astype(np.int64)
    keep = first_day >= start_day  # the cohorts in the grid only: most rows are older
    owner, days, first_day = owner[keep], days[keep], first_day[keep]
    if len(days):
        cohort_month = _month_number(first_day)
        since = _month_number(days) - cohort_month
        cohort = cohort_month - start
        # Rows are sorted by (contact, day): a contact's months since never decrease, so one
        # row per (contact, month) is where the pair changes.
        pair = owner * COHORT_MONTHS + since
        first_of_pair = np.r_[True, pair[1:] != pair[:-1]]
        cell = cohort[first_of_pair] * COHORT_MONTHS + since[first_of_pair]
        grid += np.bincount(cell, minlength=grid.size)[:grid.size].reshape(grid.shape)
    cohorts = []
    for index in range(COHORT_MONTHS):
        month = np.datetime64(0, "M") + np.timedelta64(int(start + index), "M")
        cohorts.append({"month": str(month), "contacts": int(grid[index, 0]),
                        "active": grid[index, :COHORT_MONTHS - index].tolist()})
    return cohorts


def _per_contact(owner: np.ndarray, days: np.ndarray, spend: np.ndarray, as_of: int,
                 contacts: int):
    """For the purchases up to `as_of`: whether each contact had one, its last day, its number
    of purchase days and its spend."""
    kept = days <= as_of
    o, d = owner[kept], days[kept]
    frequency = np.bincount(o, minlength=contacts)
    money = np.bincount(o, weights=spend[kept], minlength=contacts)
    last = np.zeros(contacts, dtype=np.int64)
    if len(o):
        ends = np.r_[o[1:] != o[:-1], True]  # sorted by (contact, day): each contact's last row
        last[o[ends]] = d[ends]
    return frequency > 0, last, frequency, money


def _cells(present, last, frequency, as_of: int) -> np.ndarray:
    """Each contact's cell number (recency band × len(frequency bands) + frequency band); -1
    for contacts with no purchase yet."""
    recency = np.searchsorted(np.array(RECENCY_EDGES), as_of - last, side="left")
    often = np.searchsorted(np.array(FREQUENCY_EDGES), frequency, side="left")
    return np.where(present, recency * (len(FREQUENCY_EDGES) + 1) + often, -1)


def _rfm(owner: np.ndarray, days: np.ndarray, spend: np.ndarray, today: int) -> dict:
    rows, columns = len(RECENCY_EDGES) + 1, len(FREQUENCY_EDGES) + 1
    contacts = int(owner.max()) + 1 if len(owner) else 0
    present, last, frequency, money = _per_contact(owner, days, spend, today, contacts)
    now_cell = _cells(present, last, frequency, today)
    then = today - OUTCOME_DAYS
    was, last_then, frequency_then, _money = _per_contact(owner, days, spend, then, contacts)
    then_cell = _cells(was, last_then, frequency_then, then)
    bought_since = np.bincount(owner[days > then], minlength=contacts) > 0
    size = rows * columns

    def count(cells, weights=None):
        inside = cells >= 0
        return np.bincount(cells[inside], weights=None if weights is None else weights[inside],
                           minlength=size)[:size]

    now_counts, now_spend = count(now_cell), count(now_cell, money)
    then_counts = count(then_cell)
    again = count(np.where(bought_since, then_cell, -1))
    cells = [[{"contacts": int(now_counts[r * columns + f]),
               "spend": round(float(now_spend[r * columns + f]), 2),
               "past_contacts": int(then_counts[r * columns + f]),
               "bought_again": int(again[r * columns + f])}
              for f in range(columns)] for r in range(rows)]
    return {"recency_edges": list(RECENCY_EDGES), "frequency_edges": list(FREQUENCY_EDGES),
            "outcome_days": OUTCOME_DAYS, "cells": cells}


def round_width(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k (k ≥ 0) at least `value`: a bucket width people read."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def _values(run) -> dict | None:
    """The predicted 12-month values of the run's contacts: bucket width, counts (the last one
    open above), how many, their sum and median."""
    if run is None:
        return None
    values = np.fromiter(
        ContactScore.objects.filter(run=run).values_list("predicted_value_12m", flat=True)
        .iterator(chunk_size=20_000), dtype=np.float64)
    values = np.maximum(values, 0)
    top = float(np.quantile(values, 0.99)) if len(values) else 0.0
    width = round_width(top / VALUE_BUCKETS)
    buckets = np.minimum((values // width).astype(np.int64), VALUE_BUCKETS)
    return {"run_id": run.pk, "width": width,
            "counts": np.bincount(buckets, minlength=VALUE_BUCKETS + 1).tolist(),
            "contacts": len(values), "total": round(float(values.sum()), 2),
            "median": round(float(np.median(values)), 2) if len(values) else 0.0}


def customer_base_compute(*, today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    owner, days, spend, first_day = contact_days(day_rows(as_of=today), day_index(today))
    owner, days = owner.astype(np.int64), days.astype(np.int64)
    return {
        "today": today.isoformat(),
        "cohorts": _cohorts(owner, days, first_day.astype(np.int64), today),
        "rfm": _rfm(owner, days, spend, day_index(today)),
        "value": _values(current_run()),
    }


def customer_base_refresh() -> CustomerBaseSnapshot:
    """Compute and store a new snapshot; keep the last few."""
    started = time.perf_counter()
    run = current_run()
    data = customer_base_compute()
    snapshot = CustomerBaseSnapshot.objects.create(
        data=data, scoring_run_id=run.pk if run else None,
        seconds=time.perf_counter() - started)
    stale = CustomerBaseSnapshot.objects.values_list("pk", flat=True)[SNAPSHOTS_KEPT:]
    CustomerBaseSnapshot.objects.filter(pk__in=list(stale)).delete()
    return snapshot


def customer_base_refresh_if_due() -> CustomerBaseSnapshot | None:
    """A new snapshot when a scoring run was published since the last one, or, before the
    first run, when the last one is from an earlier day; None when the last one stands."""
    latest = CustomerBaseSnapshot.objects.first()
    run = current_run()
    if latest is not None:
        same_run = latest.scoring_run_id == (run.pk if run else None)
        today = timezone.localdate() == timezone.localdate(latest.computed_at)
        if same_run and (run is not None or today):
            return None
    return customer_base_refresh()
