"""Customer lifetime value, and scoring many customers at once (clv.py, scores.py)."""

import numpy as np
import pytest

from customers.scoring.model import bgnbd, clv, paretonbd

BG = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PN = paretonbd.ParetoNbdParams(r=0.553, alpha=10.578, s=0.606, beta=11.669)
HISTORIES = ([0, 2, 10], [0.0, 30.43, 35.0], [38.86, 38.86, 38.86])


@pytest.mark.parametrize("params", [BG, PN])
def test_undiscounted_value_is_spend_times_expected_purchases(params):
    value = clv.customer_lifetime_value(
        params, *HISTORIES, [10.0, 20.0, 30.0], period_length=52 / 12
    )
    expected = clv.conditional_expected_purchases(params, 52, *HISTORIES) * [10.0, 20.0, 30.0]
    assert np.allclose(value, expected, rtol=1e-12)


def test_discounting_lowers_value():
    plain = clv.customer_lifetime_value(BG, *HISTORIES, [10.0] * 3, period_length=4.345)
    discounted = clv.customer_lifetime_value(
        BG, *HISTORIES, [10.0] * 3, period_length=4.345, discount_rate=0.01
    )
    assert (discounted < plain).all()


def test_dispatches_to_the_model_of_the_parameters():
    assert clv.conditional_expected_purchases(PN, 39, [2], [30.43], [38.86])[0] == pytest.approx(
        paretonbd.conditional_expected_purchases(PN, 39, [2], [30.43], [38.86])[0]
    )


def test_nonsense_periods_are_rejected():
    with pytest.raises(ValueError, match="periods >= 1"):
        clv.customer_lifetime_value(BG, *HISTORIES, [1.0] * 3, period_length=4.345, periods=0)


@pytest.mark.parametrize("params", [BG, PN])
def test_score_matches_the_per_customer_functions(params):
    from customers.scoring.model import scores

    model = bgnbd if params is BG else paretonbd
    x, t_x, T = [0, 2, 0, 2], [0.0, 30.43, 0.0, 30.43], [38.86, 38.86, 10.0, 38.86]
    result = scores.score(params, 39, x, t_x, T)
    assert np.array_equal(result.probability_alive, model.probability_alive(params, x, t_x, T))
    assert np.array_equal(
        result.expected_purchases, model.conditional_expected_purchases(params, 39, x, t_x, T)
    )
    assert np.array_equal(
        result.probability_purchase, model.probability_purchase(params, 39, x, t_x, T)
    )
