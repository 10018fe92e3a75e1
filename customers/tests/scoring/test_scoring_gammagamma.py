"""Gamma-Gamma spend model: gradient, expected spend and awkward input."""

import numpy as np
import pytest

from customers.scoring.model import gammagamma
from customers.tests.data import cdnow
from customers.tests.scoring.test_scoring_bgnbd import central_differences

PUBLISHED = gammagamma.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def test_gradient_matches_finite_differences():
    data = cdnow.summary_with_spend()
    buyers = data["x"] > 0
    x, m = data["x"][buyers], data["zbar"][buyers]
    point = np.array([6.25, 3.74, 15.44])
    analytic = gammagamma._loglik_terms(point, x, m)[1].sum(axis=1)
    numeric = central_differences(lambda p: gammagamma._loglik_terms(p, x, m)[0].sum(), point)
    assert np.allclose(analytic, numeric, rtol=1e-6, atol=1e-6)


def test_expected_spend_shrinks_the_customer_mean_towards_the_population_mean():
    # p (gamma + x m) / (p x + q - 1) for x = 2, m = 30
    expected = gammagamma.conditional_expected_spend(PUBLISHED, [2], [30.0])[0]
    assert expected == pytest.approx(6.25 * (15.44 + 60) / (12.5 + 2.74), rel=1e-12)


def test_customer_without_repeat_purchases_gets_the_population_mean():
    assert gammagamma.conditional_expected_spend(PUBLISHED, [0], [0.0])[0] == pytest.approx(
        6.25 * 15.44 / 2.74
    )


def test_population_mean_is_infinite_when_q_is_at_most_one():
    heavy = gammagamma.GammaGammaParams(p=2.0, q=0.8, gamma=10.0)
    spend = gammagamma.conditional_expected_spend(heavy, [0, 1], [0.0, 20.0])
    assert spend[0] == np.inf
    assert spend[1] == pytest.approx(2.0 * 30.0 / 1.8)


def test_fit_ignores_customers_without_repeat_spend():
    data = cdnow.summary_with_spend()
    everyone = gammagamma.fit_gammagamma(data["x"], data["zbar"])
    buyers = data["x"] > 0
    only_buyers = gammagamma.fit_gammagamma(data["x"][buyers], data["zbar"][buyers])
    assert (everyone.p, everyone.q, everyone.gamma) == pytest.approx(
        (only_buyers.p, only_buyers.q, only_buyers.gamma), rel=1e-9
    )


def test_fit_without_repeat_buyers_says_so():
    fitted = gammagamma.fit_gammagamma([0, 0], [0.0, 0.0])
    assert fitted.converged is False
    assert fitted.message == "no repeat buyers with spend to fit"


def test_fit_with_identical_spend_everywhere_does_not_raise():
    fitted = gammagamma.fit_gammagamma([1, 2, 3, 4], [10.0, 10.0, 10.0, 10.0])
    assert np.isfinite([fitted.p, fitted.q, fitted.gamma]).all()
    assert isinstance(fitted.converged, bool) and fitted.message


def test_negative_spend_is_rejected():
    with pytest.raises(ValueError, match="monetary_value must be finite and >= 0"):
        gammagamma.fit_gammagamma([1], [-5.0])
