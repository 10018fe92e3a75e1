"""Pareto/NBD internals: gradient, weights, s = 1, and the power-law integrals behind it."""

import numpy as np
import pytest
from scipy.integrate import quad

from customers.scoring.model import _powerint, paretonbd
from customers.tests.data import cdnow
from customers.tests.scoring.test_scoring_bgnbd import central_differences

CDNOW = paretonbd.ParetoNbdParams(r=0.553, alpha=10.578, s=0.606, beta=11.669)


def _cdnow():
    data = cdnow.summary()
    return data["frequency"], data["recency"], data["T"]


@pytest.mark.parametrize(
    "params", [(0.553, 10.578, 0.606, 11.669), (2.0, 3.0, 0.2, 40.0), (0.1, 50.0, 3.0, 0.5)]
)
def test_gradient_matches_finite_differences(params):
    x, t_x, T = _cdnow()
    point = np.array(params)

    def total(p):
        return paretonbd._loglik_terms(p, x, t_x, T, gradient=False)[0].sum()

    analytic = paretonbd._loglik_terms(point, x, t_x, T)[1].sum(axis=1)
    assert np.allclose(analytic, central_differences(total, point), rtol=1e-5, atol=1e-5)


def test_weights_give_the_same_fit_as_repeated_rows():
    x, t_x, T = (column[:300] for column in _cdnow())
    weights = np.arange(300) % 3 + 1
    weighted = paretonbd.fit_paretonbd(x, t_x, T, weights=weights)
    repeated = paretonbd.fit_paretonbd(
        np.repeat(x, weights), np.repeat(t_x, weights), np.repeat(T, weights)
    )
    assert (weighted.r, weighted.alpha, weighted.s, weighted.beta) == pytest.approx(
        (repeated.r, repeated.alpha, repeated.s, repeated.beta), rel=1e-4
    )


def test_expectation_is_continuous_through_s_equal_one():
    histories = ([0, 1, 7], [0, 3.0, 20.0], [10.0, 10.0, 25.0])
    at_one = paretonbd.conditional_expected_purchases(
        paretonbd.ParetoNbdParams(0.5, 5.0, 1.0, 8.0), 30, *histories
    )
    near = paretonbd.conditional_expected_purchases(
        paretonbd.ParetoNbdParams(0.5, 5.0, 1 + 1e-7, 8.0), 30, *histories
    )
    assert np.allclose(at_one, near, rtol=1e-6)


def test_recency_equal_to_age_means_alive():
    assert paretonbd.probability_alive(CDNOW, [3, 0], [20.0, 0.0], [20.0, 0.0]).tolist() == [
        1.0,
        1.0,
    ]


def test_probability_purchase_approaches_the_share_of_buyers_before_death():
    # As t grows, P(buy | alive) -> E[lambda / (lambda + mu)] over the alive posterior.
    rng = np.random.default_rng(2)
    rate = rng.gamma(CDNOW.r + 2, 1 / (CDNOW.alpha + 30), 2_000_000)
    death = rng.gamma(CDNOW.s, 1 / (CDNOW.beta + 30), 2_000_000)
    limit = np.mean(rate / (rate + death))
    far = paretonbd.probability_purchase(CDNOW, 1e7, [2], [30.0], [30.0])[0]
    assert far == pytest.approx(limit, rel=0.01)


def _reference_window(lo, hi, c1, c2, k, m):
    """Adaptive quadrature of the integrand scaled by its value at lo (no overflow)."""

    def scaled(y):
        return np.exp(-k * np.log((c1 + y) / (c1 + lo)) - m * np.log((c2 + y) / (c2 + lo)))

    value, _ = quad(scaled, lo, hi, epsabs=0, epsrel=1e-12, limit=200)
    return np.log(value) - k * np.log(c1 + lo) - m * np.log(c2 + lo)


@pytest.mark.parametrize(
    ("lo", "hi", "c1", "c2", "k", "m"),
    [
        (0.0, 38.9, 10.6, 11.7, 2.55, 1.61),  # CDNOW-like, alpha < beta
        (5.0, 30.0, 20.0, 0.5, 0.7, 1.9),  # alpha > beta
        (0.0, 1e-4, 3.0, 0.002, 11.0, 1.0),  # narrow window
        (0.0, 0.5, 4970.0, 0.00156, 1.0062, 0.00168),  # heavy tail: window is a sliver of it
        (1.0, 40.0, 5.0, 0.01, 3.0, 2.0),  # c - a - b = 1 with z near 1: scipy's 2F1 is off here
    ],
)
def test_window_integral_matches_adaptive_quadrature(lo, hi, c1, c2, k, m):
    assert _powerint.log_window(lo, hi, c1, c2, k, m) == pytest.approx(
        _reference_window(lo, hi, c1, c2, k, m), abs=1e-9
    )


def test_window_integral_handles_frequencies_where_scipy_returns_nan():
    # k = r + x with x = 2000, alpha >> beta: scipy's hyp2f1(1, k; k + m; z ~ 0.9998) is NaN.
    lo, hi, c1, c2, k, m = 0.0, 0.01, 5.0, 0.001, 2000.5, 1.6
    assert np.isfinite(_powerint.log_tail(lo, c1, c2, k, m))
    assert _powerint.log_window(lo, hi, c1, c2, k, m) == pytest.approx(
        _reference_window(lo, hi, c1, c2, k, m), abs=1e-8
    )


def test_empty_window_has_zero_mass():
    assert _powerint.log_window(5.0, 5.0, 1.0, 2.0, 1.5, 1.5) == -np.inf
