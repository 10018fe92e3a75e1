"""Awkward data never crashes the models or yields NaN/inf, and predictions keep their shape.

hypothesis is not installed, so properties are checked on a seeded random grid of parameters
(log-uniform over many orders of magnitude, including a + b < 1, a near 1 and s near 1) and
histories (up to x = 5000, t_x = T, T = 0).
"""

import numpy as np
import pytest

from customers.scoring.model import bgnbd, paretonbd, simulate
from customers.scoring.model._common import PARAM_MAX, PARAM_MIN
from customers.tests.data import cdnow

MODELS = {"bgnbd": bgnbd, "paretonbd": paretonbd}
FITS = {"bgnbd": bgnbd.fit_bgnbd, "paretonbd": paretonbd.fit_paretonbd}
PARAMS = {"bgnbd": bgnbd.BgNbdParams, "paretonbd": paretonbd.ParetoNbdParams}
HORIZONS = np.array([0.0, 1e-6, 0.5, 1.0, 10.0, 100.0, 1e4])


def _random_params(name, rng):
    r, alpha, a, b = np.exp(
        rng.uniform(np.log([1e-3, 1e-3, 1e-3, 1e-3]), np.log([50, 1e4, 50, 50]))
    )
    if rng.random() < 0.15:
        a = 1 + rng.choice([0.0, 1e-9, -1e-7, 1e-5])  # a = 1 (BG/NBD) or s = 1 (Pareto/NBD)
    return PARAMS[name](r, alpha, a, b)


def _random_histories(rng, n=60):
    x = rng.choice([0, 0, 1, 2, 10, 500, 5000], size=n).astype(float)
    T = np.where(rng.random(n) < 0.1, 0.0, np.exp(rng.uniform(-3, np.log(1000), n)))
    t_x = np.where(x > 0, T * rng.choice([0.0, 0.3, 0.99, 1.0], size=n), 0.0)
    return x, t_x, T


def _grid(name, count=150, seed=7):
    rng = np.random.default_rng(seed)
    return [(_random_params(name, rng), *_random_histories(rng)) for _ in range(count)]


@pytest.mark.parametrize("name", MODELS)
def test_probability_alive_is_a_probability_everywhere(name):
    for params, x, t_x, T in _grid(name):
        alive = MODELS[name].probability_alive(params, x, t_x, T)
        assert np.isfinite(alive).all() and (alive >= 0).all() and (alive <= 1).all(), params


@pytest.mark.parametrize("name", MODELS)
def test_probability_purchase_lies_between_zero_and_probability_alive(name):
    model = MODELS[name]
    for params, x, t_x, T in _grid(name):
        alive = model.probability_alive(params, x, t_x, T)
        for t in HORIZONS:
            buy = model.probability_purchase(params, t, x, t_x, T)
            assert np.isfinite(buy).all() and (buy >= 0).all(), params
            assert (buy <= alive * (1 + 1e-12)).all(), params


@pytest.mark.parametrize("name", MODELS)
def test_conditional_expectation_is_finite_and_non_decreasing_in_the_horizon(name):
    model = MODELS[name]
    for params, x, t_x, T in _grid(name):
        expected = np.array(
            [model.conditional_expected_purchases(params, t, x, t_x, T) for t in HORIZONS]
        )
        assert np.isfinite(expected).all(), params
        assert (expected[0] == 0).all()
        assert (np.diff(expected, axis=0) >= -1e-9 * expected[1:]).all(), params


@pytest.mark.parametrize("name", MODELS)
def test_expected_purchases_are_at_least_the_probability_of_one(name):
    # Y is a count, so E[Y] >= P(Y >= 1).
    model = MODELS[name]
    for params, x, t_x, T in _grid(name):
        for t in HORIZONS[1:]:
            expected = model.conditional_expected_purchases(params, t, x, t_x, T)
            buy = model.probability_purchase(params, t, x, t_x, T)
            assert (expected >= buy * (1 - 1e-9)).all(), params


@pytest.mark.parametrize("name", MODELS)
def test_unconditional_expectation_is_finite_and_non_decreasing(name):
    for params, *_ in _grid(name):
        expected = MODELS[name].expected_purchases(params, HORIZONS)
        assert np.isfinite(expected).all() and expected[0] == 0, params
        assert (np.diff(expected) >= -1e-9 * expected[1:]).all(), params


@pytest.mark.parametrize("name", MODELS)
def test_log_likelihood_is_finite_everywhere(name):
    for params, x, t_x, T in _grid(name):
        assert np.isfinite(MODELS[name].log_likelihood(params, x, t_x, T)).all(), params


def _assert_usable(name, fitted, x, t_x, T):
    values = [
        getattr(fitted, field)
        for field in (
            "r",
            "alpha",
            "a" if name == "bgnbd" else "s",
            "b" if name == "bgnbd" else "beta",
        )
    ]
    assert all(PARAM_MIN * 0.999 <= v <= PARAM_MAX * 1.001 for v in values), fitted
    assert isinstance(fitted.converged, bool) and fitted.message
    model = MODELS[name]
    assert np.isfinite(model.conditional_expected_purchases(fitted, 52, x, t_x, T)).all()
    alive = model.probability_alive(fitted, x, t_x, T)
    assert np.isfinite(alive).all() and (alive >= 0).all() and (alive <= 1).all()


@pytest.mark.parametrize("name", MODELS)
def test_fit_with_no_repeat_purchases_reports_it_did_not_converge(name):
    x, t_x, T = np.zeros(100), np.zeros(100), np.linspace(1, 50, 100)
    fitted = FITS[name](x, t_x, T)
    _assert_usable(name, fitted, x, t_x, T)
    assert fitted.converged is False
    assert fitted.message.startswith("no customer has a repeat purchase")
    assert (MODELS[name].conditional_expected_purchases(fitted, 52, x, t_x, T) < 1e-3).all()


@pytest.mark.parametrize("name", MODELS)
def test_fit_on_one_customer_does_not_raise(name):
    x, t_x, T = np.array([2.0]), np.array([30.43]), np.array([38.86])
    _assert_usable(name, FITS[name](x, t_x, T), x, t_x, T)


@pytest.mark.parametrize("name", MODELS)
def test_fit_on_no_customers_says_so(name):
    fitted = FITS[name]([], [], [])
    assert fitted.converged is False
    assert fitted.message == "no customers to fit"


@pytest.mark.parametrize("name", MODELS)
def test_fit_with_a_huge_frequency_customer_still_converges(name):
    data = cdnow.summary()
    x = np.r_[data["frequency"], 500.0]
    t_x = np.r_[data["recency"], 38.0]
    T = np.r_[data["T"], 38.0]
    fitted = FITS[name](x, t_x, T)
    assert fitted.converged is True
    _assert_usable(name, fitted, x, t_x, T)


@pytest.mark.parametrize("name", MODELS)
def test_customers_seen_today_for_the_first_time_are_scored(name):
    # T = t_x = 0: first purchase on the as-of date.
    params = PARAMS[name](0.243, 4.4, 0.79, 2.4)
    model = MODELS[name]
    assert model.probability_alive(params, 0, 0, 0)[0] == 1.0
    assert model.conditional_expected_purchases(params, 10, 0, 0, 0)[0] == pytest.approx(
        model.expected_purchases(params, 10), rel=1e-12
    )
    assert 0 < model.probability_purchase(params, 10, 0, 0, 0)[0] < 1


@pytest.mark.parametrize("name", MODELS)
def test_huge_frequency_with_recency_equal_to_age_is_alive_and_busy(name):
    params = PARAMS[name](0.243, 4.4, 0.79, 2.4)
    model = MODELS[name]
    alive = model.probability_alive(params, 500, 38.0, 38.0)[0]
    expected = model.conditional_expected_purchases(params, 39, 500, 38.0, 38.0)[0]
    assert 0.99 < alive <= 1.0
    assert (
        300 < expected < 600
    )  # about 500 purchases per 38 weeks, minus the chance of dropping out


def test_bgnbd_fit_on_data_with_a_plus_b_below_one_recovers_the_parameters():
    truth = bgnbd.BgNbdParams(r=0.3, alpha=0.5, a=0.3, b=0.4)
    rng = np.random.default_rng(11)
    T = rng.uniform(1, 52, 20_000)
    x, t_x = simulate.bgnbd_histories(truth, T, rng)
    fitted = bgnbd.fit_bgnbd(x, t_x, T)
    assert fitted.converged is True
    assert (fitted.r, fitted.alpha, fitted.a, fitted.b) == pytest.approx(
        (0.3, 0.5, 0.3, 0.4), rel=0.1
    )
    _assert_usable("bgnbd", fitted, x, t_x, T)


def test_bgnbd_unconditional_expectation_with_a_plus_b_below_one_is_finite_and_increasing():
    params = bgnbd.BgNbdParams(r=0.3, alpha=0.5, a=0.3, b=0.4)
    expected = bgnbd.expected_purchases(params, HORIZONS)
    assert np.isfinite(expected).all() and (np.diff(expected) > 0).all()


@pytest.mark.parametrize(
    "bad",
    [
        {"frequency": [-1], "recency": [0], "T": [1]},
        {"frequency": [1.5], "recency": [0.5], "T": [1]},
        {"frequency": [1], "recency": [2], "T": [1]},
        {"frequency": [0], "recency": [0.5], "T": [1]},
        {"frequency": [1], "recency": [np.nan], "T": [1]},
        {"frequency": [1, 2], "recency": [0.5], "T": [1]},
    ],
)
@pytest.mark.parametrize("name", MODELS)
def test_histories_that_cannot_happen_are_rejected_with_a_clear_error(name, bad):
    with pytest.raises(ValueError, match="frequency|recency"):
        FITS[name](bad["frequency"], bad["recency"], bad["T"])


@pytest.mark.parametrize("name", MODELS)
def test_negative_horizon_is_rejected(name):
    params = PARAMS[name](1, 1, 1, 1)
    with pytest.raises(ValueError, match="horizon"):
        MODELS[name].conditional_expected_purchases(params, -1, [1], [0.5], [1])
