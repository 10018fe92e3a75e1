"""Raw purchase rows -> (x, t_x, T) histories, vectorised (customers/scoring/summary.py)."""

import datetime

import numpy as np
import pytest

from customers.scoring.model import summary
from customers.scoring.model._common import group_rows  # noqa: F401  (summary relies on its ordering)


def _rows():
    # customer 7: 3 purchases on 2 days; customer 3: one purchase; customer 9: only after as_of
    ids = [7, 3, 7, 7, 9]
    days = ["2024-01-10", "2024-01-05", "2024-01-01", "2024-01-10", "2024-03-01"]
    amounts = [5.0, 8.0, 20.0, 15.0, 99.0]
    return ids, days, amounts


def test_histories_count_purchase_days_and_measure_from_the_first_day():
    ids, days, amounts = _rows()
    h = summary.histories(ids, days, "2024-01-31", amounts=amounts)
    assert h.customer_ids.tolist() == [3, 7]
    assert h.frequency.tolist() == [0.0, 1.0]  # customer 7's two purchases on Jan 10 are one day
    assert h.recency.tolist() == [0.0, 9.0]
    assert h.T.tolist() == [26.0, 30.0]
    assert h.first_day.tolist() == [datetime.date(2024, 1, 5), datetime.date(2024, 1, 1)]


def test_monetary_value_is_mean_spend_per_repeat_day_without_the_first_day():
    ids, days, amounts = _rows()
    h = summary.histories(ids, days, "2024-01-31", amounts=amounts)
    assert h.monetary_value.tolist() == [0.0, 20.0]  # Jan 10: 5 + 15; Jan 1 is the first day


def test_purchases_after_as_of_are_ignored_and_later_customers_absent():
    ids, days, _ = _rows()
    h = summary.histories(ids, days, "2024-01-09")
    assert h.customer_ids.tolist() == [3, 7]
    assert h.frequency.tolist() == [0.0, 0.0]
    assert h.monetary_value is None


def test_weeks_are_days_over_seven():
    ids, days, _ = _rows()
    h = summary.histories(ids, days, "2024-01-31", unit="weeks")
    assert h.T.tolist() == pytest.approx([26 / 7, 30 / 7])
    assert h.recency.tolist() == pytest.approx([0.0, 9 / 7])


def test_accepts_date_objects_and_string_ids():
    days = [datetime.date(2024, 1, 1), datetime.date(2024, 1, 3)]
    h = summary.histories(["b", "b"], days, datetime.date(2024, 1, 4))
    assert h.customer_ids.tolist() == ["b"] and h.frequency.tolist() == [1.0]


def test_as_of_before_any_purchase_gives_no_customers():
    ids, days, _ = _rows()
    h = summary.histories(ids, days, "2023-12-31")
    assert len(h.customer_ids) == len(h.frequency) == 0


def test_purchase_days_between_counts_days_in_the_half_open_period():
    ids, days, _ = _rows()
    counts = summary.purchase_days_between(
        ids, days, "2024-01-01", "2024-03-01", among=[3, 7, 9, 42]
    )
    assert counts.tolist() == [1, 1, 1, 0]  # Jan 1 itself is outside (start, end]


def test_purchase_days_between_with_no_purchases_in_the_period():
    ids, days, _ = _rows()
    assert summary.purchase_days_between(
        ids, days, "2025-01-01", "2025-02-01", among=[3, 7]
    ).tolist() == [0, 0]


def test_unknown_unit_is_rejected():
    ids, days, _ = _rows()
    with pytest.raises(ValueError, match="unit must be one of"):
        summary.histories(ids, days, "2024-01-31", unit="fortnights")


def test_missing_dates_are_rejected():
    with pytest.raises(ValueError, match="every purchase needs a date"):
        summary.histories([1, 2], ["2024-01-01", "NaT"], "2024-02-01")


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="differ in length"):
        summary.histories([1, 2], ["2024-01-01"], "2024-02-01")


def test_a_large_input_is_summarised_without_per_customer_python_loops():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 100_000, 1_000_000)
    days = np.datetime64("2024-01-01") + rng.integers(0, 365, 1_000_000).astype("timedelta64[D]")
    h = summary.histories(ids, days, "2024-12-31")
    # every purchase day is counted once: repeat days + first days = distinct (customer, day) pairs
    assert h.frequency.sum() + len(h.customer_ids) == len(
        np.unique(ids * 1000 + (days - days.min()).astype(int))
    )
