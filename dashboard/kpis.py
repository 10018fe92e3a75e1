"""The dashboard's KPIs, computed in one pass over the purchases (numpy), stored as a snapshot.

Figures, by calendar month of the shop's time zone:
- revenue from first orders (a contact's first purchase day) and from repeat purchases;
- buyers and returning buyers (who had bought on an earlier day): the repeat-purchase rate;
- cohorts by first-purchase month: new buyers, and the share who came back within 90 days
  (only for cohorts whose 90 days have passed) and at all so far.
Plus contacts by stage and, from the current scoring run, the distribution of the likelihood
to buy again.
"""
import datetime as dt
import time

import numpy as np
from django.db.models import Count, F
from django.db.models.functions import Floor
from django.utils import timezone

from customers.models import Contact, ContactScore
from customers.scoring.model.pipeline import contact_days
from customers.scoring.runs import current_run
from customers.scoring.store import day_index, day_rows
from feedback.selectors import answered_q, detractors_q, nps_by_month, promoters_q
from support.selectors import open_case_q

from .models import KpiSnapshot

MONTHS_KEPT = 36
CONVERSION_DAYS = 90


def _months(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[M]")


def _contact_days(today: dt.date):
    """Purchase days merged per contact: (contact index per row, day, spend, first day)."""
    return contact_days(day_rows(as_of=today), day_index(today))


def _monthly(owner, days, spend, first_day, months: np.ndarray) -> dict:
    if not len(days):
        zeros = [0] * len(months)
        return {"revenue_first": zeros, "revenue_repeat": zeros, "buyers": zeros,
                "returning_buyers": zeros}
    month_of_row = _months(days)
    repeat = days > first_day
    position = np.searchsorted(months, month_of_row)
    inside = (position < len(months)) & (months[np.minimum(position, len(months) - 1)]
                                         == month_of_row)
    n = len(months)

    def per_month(weights=None, mask=None):
        keep = inside if mask is None else inside & mask
        return np.bincount(position[keep], weights=None if weights is None else weights[keep],
                           minlength=n)[:n]

    # Distinct buyers per month: one row per (contact, month) is enough to count.
    key = owner.astype(np.int64) * 100_000 + position
    first_of_pair = np.r_[True, key[1:] != key[:-1]]
    returning_pair = np.maximum.reduceat(repeat, np.flatnonzero(first_of_pair)).astype(bool)
    pair_position = position[first_of_pair]
    pair_inside = inside[first_of_pair]
    buyers = np.bincount(pair_position[pair_inside], minlength=n)[:n]
    returning = np.bincount(pair_position[pair_inside & returning_pair], minlength=n)[:n]
    return {
        "revenue_first": per_month(spend, ~repeat).round(2).tolist(),
        "revenue_repeat": per_month(spend, repeat).round(2).tolist(),
        "buyers": buyers.tolist(),
        "returning_buyers": returning.tolist(),
    }


def _cohorts(owner, days, first_day, months: np.ndarray, today: int) -> dict:
    if not len(days):
        zeros = [0] * len(months)
        return {"new_buyers": zeros, "converted_90": zeros, "converted_ever": zeros,
                "cohort_complete": [True] * len(months)}
    new_contact = np.r_[True, owner[1:] != owner[:-1]]
    starts = np.flatnonzero(new_contact)
    first = days[starts]
    has_second = np.r_[starts[1:], len(days)] - starts > 1
    second = np.where(has_second, days[np.minimum(starts + 1, len(days) - 1)], 0)
    cohort = np.searchsorted(months, _months(first))
    valid = (cohort < len(months)) & (months[np.minimum(cohort, len(months) - 1)]
                                      == _months(first))
    n = len(months)
    within = has_second & (second - first <= CONVERSION_DAYS)
    matured = first + CONVERSION_DAYS <= today
    new = np.bincount(cohort[valid], minlength=n)[:n]
    converted = np.bincount(cohort[valid & within], minlength=n)[:n]
    ever = np.bincount(cohort[valid & has_second], minlength=n)[:n]
    complete = np.bincount(cohort[valid & ~matured], minlength=n)[:n] == 0
    return {"new_buyers": new.tolist(), "converted_90": converted.tolist(),
            "converted_ever": ever.tolist(), "cohort_complete": complete.tolist()}


def kpis_compute(*, today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    owner, days, spend, first_day = _contact_days(today)
    last = np.datetime64(today, "M")
    months = np.arange(last - (MONTHS_KEPT - 1), last + 1)
    run = current_run()
    buckets = dict(ContactScore.objects.filter(run=run).annotate(
        bucket=Floor(F("p_buy_again") * 10)).values_list("bucket").annotate(n=Count("id"))
        .values_list("bucket", "n")) if run else {}
    return {
        "months": [str(month) for month in months],
        "stages": dict(Contact.objects.values_list("stage").annotate(n=Count("id"))
                       .values_list("stage", "n")),
        **_monthly(owner, days, spend, first_day, months),
        **_cohorts(owner, days, first_day, months, day_index(today)),
        "p_buy_histogram": [buckets.get(b, 0) + (buckets.get(10, 0) if b == 9 else 0)
                            for b in range(10)],
        "scoring_run_id": run.pk if run else None,
        **_monthly_series(months),  # feedback: "nps"
        "bands": _by_score_band(run),
    }


SCORE_BANDS = 5


def _by_score_band(run) -> list[dict]:
    """Per band of the likelihood to buy again: contacts, repeat clients, open support cases,
    survey promoters and detractors (latest answers) — how listening relates to buying."""
    if run is None:
        return []
    from django.db.models import FilteredRelation, FloatField, Q, Value
    from django.db.models.functions import Least

    # {name: Q on Contact}: feedback's answered/promoters/detractors, support's open_cases.
    counts = {"answered": answered_q(), "promoters": promoters_q(),
              "detractors": detractors_q(), "open_cases": open_case_q()}
    rows = (Contact.objects
            .annotate(score=FilteredRelation("scores", condition=Q(scores__run=run)))
            .filter(score__isnull=False)
            .annotate(band=Least(Floor(F("score__p_buy_again") * SCORE_BANDS),
                                 Value(float(SCORE_BANDS - 1)), output_field=FloatField()))
            .values("band")
            .annotate(contacts=Count("id"), repeat=Count("id", filter=Q(stage="repeat")),
                      **{name: Count("id", filter=condition)
                         for name, condition in counts.items()})
            .order_by("band"))
    by_band = {int(row.pop("band")): row for row in rows}
    empty = {"contacts": 0, "repeat": 0, **dict.fromkeys(counts, 0)}
    return [by_band.get(band, empty) for band in range(SCORE_BANDS)]


def _monthly_series(months: np.ndarray) -> dict[str, list]:
    """The series other apps give by month (feedback: "nps"), one value per month of the
    snapshot (None where they have none)."""
    start = months[0].astype("datetime64[D]").astype(dt.date)
    return {name: [by_month.get(str(month)) for month in months]
            for name, by_month in _kpi_monthly(start).items()}


def _kpi_monthly(start: dt.date) -> dict:
    """NPS by month since `start` (feedback's survey answers)."""
    return {"nps": {f"{row.month:%Y-%m}": row.counts.nps
                    for row in nps_by_month(start=start, end=timezone.localdate())}}


def kpis_refresh() -> KpiSnapshot:
    """Compute and store a new snapshot; keep the last few."""
    started = time.perf_counter()
    data = kpis_compute()
    snapshot = KpiSnapshot.objects.create(data=data, seconds=time.perf_counter() - started)
    stale = KpiSnapshot.objects.order_by("-computed_at", "-id").values_list("pk", flat=True)[5:]
    KpiSnapshot.objects.filter(pk__in=list(stale)).delete()
    return snapshot
