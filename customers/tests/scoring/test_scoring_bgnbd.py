"""BG/NBD internals: gradient, weights, and the numerical paths behind E[Y(t)]."""

import numpy as np
import pytest

from customers.scoring.model import bgnbd, simulate
from customers.tests.data import cdnow

CDNOW = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def _cdnow():
    data = cdnow.summary()
    return data["frequency"], data["recency"], data["T"]


@pytest.mark.parametrize(
    "params", [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 0.2, 0.3), (0.05, 30.0, 5.0, 40.0)]
)
def test_analytic_gradient_matches_finite_differences(params):
    x, t_x, T = _cdnow()
    levels, level_of = np.unique(x, return_inverse=True)
    point = np.array(params)

    def total(p):
        return bgnbd._loglik_terms(p, x, t_x, T, levels, level_of)[0].sum()

    analytic = bgnbd._loglik_terms(point, x, t_x, T, levels, level_of)[1].sum(axis=1)
    assert np.allclose(analytic, central_differences(total, point), rtol=1e-6, atol=1e-6)


def central_differences(f, point, relative_step=1e-5):
    steps = relative_step * point
    return np.array(
        [
            (f(point + e) - f(point - e)) / (2 * h)
            for e, h in zip(np.diag(steps), steps, strict=True)
        ]
    )


def test_weights_give_the_same_fit_as_repeated_rows():
    x, t_x, T = _cdnow()
    x, t_x, T = x[:300], t_x[:300], T[:300]
    weights = np.arange(300) % 3 + 1
    weighted = bgnbd.fit_bgnbd(x, t_x, T, weights=weights)
    repeated = bgnbd.fit_bgnbd(
        np.repeat(x, weights), np.repeat(t_x, weights), np.repeat(T, weights)
    )
    assert (weighted.r, weighted.alpha, weighted.a, weighted.b) == pytest.approx(
        (repeated.r, repeated.alpha, repeated.a, repeated.b), rel=1e-5
    )
    assert weighted.log_likelihood == pytest.approx(repeated.log_likelihood, rel=1e-9)


def test_fit_recovers_simulated_parameters():
    truth = bgnbd.BgNbdParams(r=0.5, alpha=8.0, a=0.9, b=3.0)
    rng = np.random.default_rng(3)
    T = rng.uniform(10, 80, 100_000)
    x, t_x = simulate.bgnbd_histories(truth, T, rng)
    fitted = bgnbd.fit_bgnbd(x, t_x, T)
    assert (fitted.r, fitted.alpha, fitted.a, fitted.b) == pytest.approx(
        (0.5, 8.0, 0.9, 3.0), rel=0.06
    )


@pytest.mark.parametrize("a", [1.0, 1 + 1e-9, 1 - 1e-7])
def test_expectation_is_continuous_through_a_equal_one(a):
    near = bgnbd.BgNbdParams(0.5, 5.0, a, 2.0)
    away = bgnbd.BgNbdParams(0.5, 5.0, 1 + 1e-4, 2.0)
    histories = ([0, 1, 7], [0, 3.0, 20.0], [10.0, 10.0, 25.0])
    assert np.allclose(
        bgnbd.conditional_expected_purchases(near, 30, *histories),
        bgnbd.conditional_expected_purchases(away, 30, *histories),
        rtol=1e-4,
    )


def test_closed_form_and_rate_integral_agree():
    rng = np.random.default_rng(5)
    for _ in range(200):
        r, a, b = np.exp(rng.uniform(-3, 3, 3))
        x = np.array([0.0, 1.0, 5.0, 60.0])
        u = np.exp(rng.uniform(-4, 5, 4))
        closed = bgnbd._expected_if_alive(np.array([r, 1.0, a, b]), u, x, np.zeros(4))
        integral = bgnbd._expected_if_alive_integral(r, a, b, u, x)
        assert np.allclose(closed, integral, rtol=1e-7), (r, a, b, u)


def test_short_horizon_series_matches_closed_form_at_the_switch():
    r, a, b = 0.243, 0.793, 2.426
    u = np.array([0.999e-3, 1.001e-3]) / 1.0  # max(r + x, 1) * u on both sides of 1e-3
    series = bgnbd._expected_if_alive_series(r, a, b, u, np.zeros(2))
    closed = bgnbd._expected_if_alive(np.array([r, 1.0, a, b]), u, np.zeros(2), np.zeros(2))
    assert np.allclose(series, closed, rtol=1e-10)


def test_quantile_last_resort_agrees_with_closed_form():
    u = np.array([0.01, 1.0, 30.0])
    x = np.array([0.0, 2.0, 40.0])
    closed = bgnbd._expected_if_alive(np.array([0.7, 1.0, 1.3, 4.0]), u, x, np.zeros(3))
    quantiles = bgnbd._expected_if_alive_quantiles(0.7, 1.3, 4.0, u, x)
    assert np.allclose(quantiles, closed, rtol=1e-5)


def test_parameters_beyond_scipys_reach_still_give_a_finite_expectation():
    # An ill-posed fit (one customer) can end here; scipy's 2F1 returns NaN for these.
    params = bgnbd.BgNbdParams(r=5.1e6, alpha=1e8, a=1.7e-4, b=5.7e4)
    expected = bgnbd.conditional_expected_purchases(params, 52, [2], [30.43], [38.86])[0]
    ceiling = (params.r + 2) * 52 / (params.alpha + 38.86)
    assert 0.99 * ceiling < expected <= ceiling  # dropout is nearly impossible: E ~ E[lambda] t


def test_customers_without_repeat_purchases_are_alive():
    assert bgnbd.probability_alive(CDNOW, [0, 0], [0, 0], [5.0, 80.0]).tolist() == [1.0, 1.0]


def test_probability_purchase_at_zero_horizon_is_zero():
    assert bgnbd.probability_purchase(CDNOW, 0, [3], [10.0], [20.0]).tolist() == [0.0]


@pytest.mark.parametrize("params", [(0.243, 4.414, 0.793, 2.426), (2.0, 0.5, 0.2, 0.3)])
def test_fast_weighted_likelihood_equals_the_per_customer_sum(params):
    from customers.scoring.model._bgnbd_fit import WeightedLikelihood

    x, t_x, T = _cdnow()
    weights = np.arange(len(x)) % 4 + 0.5
    levels, level_of = np.unique(x, return_inverse=True)
    value, grad = bgnbd._loglik_terms(np.array(params), x, t_x, T, levels, level_of)
    fast_value, fast_grad = WeightedLikelihood(x, t_x, T, weights)(np.array(params))
    assert fast_value == pytest.approx(weights @ value, rel=1e-12)
    assert np.allclose(fast_grad, grad @ weights, rtol=1e-10)
