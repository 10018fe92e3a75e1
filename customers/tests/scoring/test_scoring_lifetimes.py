"""Our per-customer predictions agree with lifetimes 0.11.3 at identical parameters.

lifetimes is a dev dependency used only here, as an independent implementation. We set its
fitters' params_ directly instead of fitting. Everything below runs on pandas 3 / numpy 2 /
scipy 1.17; the only gap is that lifetimes' CLV helper expects the `predict` attribute that
fit() would have set, which we set by hand.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from customers.scoring.model import bgnbd, clv, gammagamma, paretonbd
from customers.tests.data import cdnow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.utils import _customer_lifetime_value

BG = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PN = paretonbd.ParetoNbdParams(r=0.553, alpha=10.578, s=0.606, beta=11.669)
GG = gammagamma.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
RTOL = 1e-9  # the brief asked for 1e-3; they agree to ~1e-12


@pytest.fixture(scope="module")
def customers():
    data = cdnow.summary_with_spend()
    return pd.DataFrame({"x": data["x"], "t_x": data["t_x"], "T": data["T"], "m": data["zbar"]})


@pytest.fixture(scope="module")
def their_bgnbd():
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series({"r": BG.r, "alpha": BG.alpha, "a": BG.a, "b": BG.b})
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time
    return fitter


@pytest.fixture(scope="module")
def their_paretonbd():
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series({"r": PN.r, "alpha": PN.alpha, "s": PN.s, "beta": PN.beta})
    return fitter


@pytest.fixture(scope="module")
def their_gammagamma():
    fitter = GammaGammaFitter()
    fitter.params_ = pd.Series({"p": GG.p, "q": GG.q, "v": GG.gamma})
    return fitter


def _history(customers):
    return customers["x"].to_numpy(), customers["t_x"].to_numpy(), customers["T"].to_numpy()


@pytest.mark.parametrize("horizon", [1.0, 39.0, 104.0])
def test_bgnbd_conditional_expectation_agrees(customers, their_bgnbd, horizon):
    theirs = their_bgnbd.conditional_expected_number_of_purchases_up_to_time(
        horizon, customers["x"], customers["t_x"], customers["T"]
    )
    ours = bgnbd.conditional_expected_purchases(BG, horizon, *_history(customers))
    assert np.allclose(ours, theirs, rtol=RTOL, atol=0)


def test_bgnbd_probability_alive_agrees(customers, their_bgnbd):
    theirs = their_bgnbd.conditional_probability_alive(
        customers["x"], customers["t_x"], customers["T"]
    )
    assert np.allclose(bgnbd.probability_alive(BG, *_history(customers)), theirs, rtol=RTOL, atol=0)


def test_bgnbd_unconditional_expectation_agrees(their_bgnbd):
    horizons = np.array([0.5, 1.0, 39.0, 78.0, 500.0])
    theirs = their_bgnbd.expected_number_of_purchases_up_to_time(horizons)
    assert np.allclose(bgnbd.expected_purchases(BG, horizons), theirs, rtol=RTOL, atol=0)


@pytest.mark.parametrize("horizon", [1.0, 39.0, 104.0])
def test_paretonbd_conditional_expectation_agrees(customers, their_paretonbd, horizon):
    theirs = their_paretonbd.conditional_expected_number_of_purchases_up_to_time(
        horizon, customers["x"], customers["t_x"], customers["T"]
    )
    ours = paretonbd.conditional_expected_purchases(PN, horizon, *_history(customers))
    assert np.allclose(ours, theirs, rtol=RTOL, atol=0)


def test_paretonbd_probability_alive_agrees(customers, their_paretonbd):
    theirs = their_paretonbd.conditional_probability_alive(
        customers["x"], customers["t_x"], customers["T"]
    )
    assert np.allclose(
        paretonbd.probability_alive(PN, *_history(customers)), theirs, rtol=RTOL, atol=0
    )


def test_paretonbd_unconditional_expectation_agrees(their_paretonbd):
    horizons = np.array([0.5, 1.0, 39.0, 78.0, 500.0])
    theirs = their_paretonbd.expected_number_of_purchases_up_to_time(horizons)
    assert np.allclose(paretonbd.expected_purchases(PN, horizons), theirs, rtol=RTOL, atol=0)


def test_paretonbd_log_likelihood_agrees(customers):
    theirs = ParetoNBDFitter._conditional_log_likelihood(
        [PN.r, PN.alpha, PN.s, PN.beta],
        customers["x"].to_numpy(),
        customers["t_x"].to_numpy(),
        customers["T"].to_numpy(),
    )
    assert np.allclose(
        paretonbd.log_likelihood(PN, *_history(customers)), theirs, rtol=1e-9, atol=0
    )


def test_gammagamma_conditional_spend_agrees(customers, their_gammagamma):
    theirs = their_gammagamma.conditional_expected_average_profit(customers["x"], customers["m"])
    ours = gammagamma.conditional_expected_spend(GG, customers["x"], customers["m"])
    assert np.allclose(ours, theirs, rtol=RTOL, atol=0)


def test_customer_lifetime_value_agrees(customers, their_bgnbd, their_gammagamma):
    spend = their_gammagamma.conditional_expected_average_profit(customers["x"], customers["m"])
    theirs = _customer_lifetime_value(
        their_bgnbd,
        customers["x"],
        customers["t_x"],
        customers["T"],
        spend,
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    ours = clv.customer_lifetime_value(
        BG,
        *_history(customers),
        spend.to_numpy(),
        period_length=4.345,
        periods=12,
        discount_rate=0.01,
    )
    assert np.allclose(ours, theirs, rtol=RTOL, atol=0)


def test_bgnbd_log_likelihood_agrees(customers):
    x, t_x, T = _history(customers)
    log_params = np.log([BG.r, BG.alpha, BG.a, BG.b])
    # lifetimes minimises the mean negative log-likelihood (no penalty here)
    theirs = -BetaGeoFitter._negative_log_likelihood(log_params, x, t_x, T, np.ones_like(x), 0.0)
    assert bgnbd.log_likelihood(BG, x, t_x, T).mean() == pytest.approx(theirs, rel=1e-12)
