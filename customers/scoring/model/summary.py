"""Turn raw purchase rows into the (x, t_x, T) histories the models take, with numpy only.

Input is what one SQL query returns: one row per purchase with a customer id, the purchase date
and optionally its amount (several rows per customer, in any order). A transaction is a
customer-DAY: purchases on the same day count once (and their amounts are added up), as in the
CDNOW studies. The customer's first purchase day starts their clock and is not a repeat.
"""

from dataclasses import dataclass

import numpy as np

from ._common import group_rows

UNITS = {"days": 1.0, "weeks": 7.0}


@dataclass(frozen=True)
class Histories:
    """Per-customer histories at an as-of date, sorted by customer id."""

    customer_ids: np.ndarray
    frequency: np.ndarray  # x: repeat purchase days up to as_of
    recency: np.ndarray  # t_x: last purchase day - first purchase day, in the unit
    T: np.ndarray  # as_of - first purchase day, in the unit
    first_day: np.ndarray  # datetime64[D]
    monetary_value: np.ndarray | None  # mean spend per repeat purchase day (0 if x = 0)


def histories(customer_ids, days, as_of, *, unit: str = "days", amounts=None) -> Histories:
    """Histories of every customer with a purchase on or before `as_of` (later rows are ignored).

    `days` are dates (anything numpy turns into datetime64[D], e.g. datetime.date objects);
    `unit` is "days" or "weeks" (7 days, fractional). Amounts, if given, give monetary_value: the
    mean total per repeat purchase day, the first day excluded (the Gamma-Gamma input).
    """
    ids, day, amount = _rows(customer_ids, days, amounts)
    cutoff = np.datetime64(as_of, "D").astype(np.int64)
    kept = day <= cutoff
    ids, day = ids[kept], day[kept]
    amount = None if amount is None else amount[kept]
    customer, first, last, n_days, first_spend, total_spend = _per_customer(ids, day, amount)
    divisor = _divisor(unit)
    monetary = None
    if amount is not None:
        repeat = n_days > 1
        monetary = np.where(repeat, (total_spend - first_spend) / np.maximum(n_days - 1, 1), 0.0)
    return Histories(
        customer_ids=customer,
        frequency=(n_days - 1).astype(float),
        recency=(last - first) / divisor,
        T=(cutoff - first) / divisor,
        first_day=first.astype("datetime64[D]"),
        monetary_value=monetary,
    )


def purchase_days_between(customer_ids, days, start, end, *, among) -> np.ndarray:
    """Number of purchase days in (start, end] for each customer id in `among` (0 if none).

    This is the "actual" side of a holdout check: histories up to `start`, then count what
    each customer really did in the following period.
    """
    ids, day, _ = _rows(customer_ids, days, None)
    lo, hi = (np.datetime64(v, "D").astype(np.int64) for v in (start, end))
    inside = (day > lo) & (day <= hi)
    unique_ids, _, _, counts, _, _ = _per_customer(ids[inside], day[inside], None)
    wanted = np.asarray(among).ravel()
    if not len(unique_ids):
        return np.zeros(len(wanted), dtype=int)
    position = np.minimum(np.searchsorted(unique_ids, wanted), len(unique_ids) - 1)
    return np.where(unique_ids[position] == wanted, counts[position], 0)


def _rows(customer_ids, days, amounts):
    ids = np.asarray(customer_ids).ravel()
    day = np.asarray(days, dtype="datetime64[D]").ravel()
    if len(ids) != len(day):
        raise ValueError(f"customer_ids and days differ in length: {len(ids)}, {len(day)}")
    if np.isnat(day).any():
        raise ValueError("every purchase needs a date")
    if amounts is None:
        return ids, day.astype(np.int64), None
    amount = np.asarray(amounts, dtype=float).ravel()
    if len(amount) != len(ids) or not np.isfinite(amount).all():
        raise ValueError("amounts must be finite numbers, one per purchase")
    return ids, day.astype(np.int64), amount


def _per_customer(ids, day, amount):
    """Collapse rows to customer-days, then per customer: first/last day, day count, spend."""
    customer, cday, spend, _ = group_rows(ids, day, weights=amount)
    # group_rows returns groups sorted by (customer, day): each customer's block is contiguous.
    starts = (
        np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
        if len(customer)
        else np.array([], int)
    )
    n_days = np.diff(np.r_[starts, len(customer)])
    ends = starts + n_days - 1
    total = np.add.reduceat(spend, starts) if len(starts) else np.array([])
    return customer[starts], cday[starts], cday[ends], n_days, spend[starts], total


def _divisor(unit: str) -> float:
    try:
        return UNITS[unit]
    except KeyError:
        raise ValueError(f"unit must be one of {sorted(UNITS)}, not {unit!r}") from None
