"""Uplift statistics (pure, no database): Newcombe's interval for rates, Welch's for revenue."""
import math
import subprocess
import sys

import pytest
from scipy import stats

from campaigns.uplift import (GroupStats, UpliftStatus, newcombe_difference, uplift,
                              welch_difference, wilson_interval)


def rates(a: int, n: int, b: int, m: int):
    return newcombe_difference(GroupStats(n, a), GroupStats(m, b))


@pytest.mark.parametrize(("a", "n", "b", "m", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
])
def test_rate_difference_matches_newcombes_published_intervals(a, n, b, m, low, high):
    result = rates(a, n, b, m)

    assert result.estimate == pytest.approx(a / n - b / m)
    assert result.low == pytest.approx(low, abs=5e-5)
    assert result.high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_by_hand():
    # 81 of 263, z = 1.959964: centre (p + z²/2n) / (1 + z²/n), half-width as in Wilson (1927).
    z = 1.959963984540054
    p, n = 81 / 263, 263
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)

    assert wilson_interval(81, 263) == pytest.approx((centre - half, centre + half))
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)


def test_wilson_interval_at_the_edges_is_exact():
    assert wilson_interval(0, 50)[0] == 0.0
    assert wilson_interval(50, 50)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_revenue_difference_by_hand():
    # Emailed spent 0, 0, 10, 30: n 4, sum 40, squares 1000, mean 10, variance 200.
    # Held out spent 0, 0, 6: n 3, sum 6, squares 36, mean 2, variance 12.
    # se² = 200/4 + 12/3 = 54; df = 54² / (50²/3 + 4²/2) = 2916 / 841.33 = 3.4659;
    # t(0.975, 3.4659) = 2.95359; interval 8 ± 2.95359 · 7.34847 = (-13.7044, 29.7044).
    emailed = GroupStats(4, 2, revenue_sum=40, revenue_sum_squares=1000)
    held_out = GroupStats(3, 1, revenue_sum=6, revenue_sum_squares=36)

    result = welch_difference(emailed, held_out)

    assert result.estimate == pytest.approx(8.0)
    assert result.low == pytest.approx(-13.7044, abs=5e-4)
    assert result.high == pytest.approx(29.7044, abs=5e-4)
    scipy_ci = stats.ttest_ind([0, 0, 10, 30], [0, 0, 6], equal_var=False).confidence_interval()
    assert (result.low, result.high) == pytest.approx((scipy_ci.low, scipy_ci.high))
    assert not result.significant


def test_revenue_difference_with_no_spread_is_a_point():
    result = welch_difference(GroupStats(5, 0), GroupStats(4, 0))

    assert (result.estimate, result.low, result.high) == (0.0, 0.0, 0.0)


def test_clear_uplift_is_significant():
    emailed = GroupStats(10_000, 1_200, revenue_sum=60_000, revenue_sum_squares=3_000_000)
    held_out = GroupStats(1_000, 80, revenue_sum=3_500, revenue_sum_squares=170_000)

    result = uplift(emailed, held_out)

    assert result.status is UpliftStatus.OK
    assert result.response_rate.estimate == pytest.approx(0.04)
    assert result.response_rate.significant
    assert result.response_rate.low > 0.02
    assert result.revenue_per_contact.estimate == pytest.approx(2.5)


@pytest.mark.parametrize(("emailed", "held_out", "status"), [
    (GroupStats(0, 0), GroupStats(10, 1), UpliftStatus.NO_EMAILED),
    (GroupStats(10, 1), GroupStats(0, 0), UpliftStatus.NO_HOLDOUT),
    (GroupStats(10, 1), GroupStats(1, 0), UpliftStatus.TOO_FEW_FOR_REVENUE),
])
def test_groups_too_small_are_reported_not_crashed(emailed, held_out, status):
    result = uplift(emailed, held_out)

    assert result.status is status
    if status is not UpliftStatus.TOO_FEW_FOR_REVENUE:
        assert result.response_rate.low is None
    assert result.revenue_per_contact.low is None


def test_responders_cannot_exceed_contacts():
    with pytest.raises(ValueError):
        GroupStats(3, 4)


def test_uplift_module_does_not_import_django():
    code = "import sys, campaigns.uplift; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"
