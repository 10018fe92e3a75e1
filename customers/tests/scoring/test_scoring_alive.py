"""P(alive) as staff see it: Pareto/NBD's, never 100% for a long-silent one-time buyer, never
below the buy-again number, unknown when Pareto/NBD could not be fitted (issue #18, point 4).

On CDNOW (as of 1998-06-30, 90 days) BG/NBD gives every one-time buyer P(alive) = 1: a buyer
silent for 464 days read "2% likely to buy again" next to "Still an active customer 100%", and a
second purchase on the scoring day made the figure drop to 81%."""

import dataclasses

import numpy as np
import pytest

from customers.scoring.model import bgnbd, paretonbd, pipeline
from customers.tests.scoring.test_scoring_pipeline import AS_OF, _cdnow_rows

ONE_TIME = [AS_OF - 464]  # one purchase, 464 days before the scoring date
AND_TODAY = [AS_OF - 464, AS_OF]  # ... and a second one on the scoring date


@pytest.fixture(scope="module")
def cdnow_rows():
    return _cdnow_rows()


@pytest.fixture(scope="module")
def fitted(cdnow_rows):
    return pipeline.fit(cdnow_rows, as_of_day=AS_OF, horizon_days=90).fitted


def _with(fitted, *, chosen=None, btyd=None, paretonbd_params=None):
    state = fitted.state
    state = dataclasses.replace(state, btyd=btyd or state.btyd,
                                paretonbd=paretonbd_params or state.paretonbd)
    return dataclasses.replace(fitted, chosen=chosen or fitted.chosen, state=state)


def _one(days, spend=30.0):
    n = len(days)
    return pipeline.DayRows(np.full(n, 7, np.int64), np.asarray(days, np.int64),
                            np.full(n, spend), np.ones(n, np.int64), np.zeros(n, bool))


@pytest.mark.parametrize("btyd", ["bgnbd", "paretonbd"])
@pytest.mark.parametrize("chosen", ["bgnbd", "paretonbd", "covariate", "baseline"])
def test_a_one_time_buyer_silent_464_days_is_not_shown_as_surely_active(fitted, btyd, chosen):
    model = _with(fitted, chosen=chosen, btyd=btyd)
    assert bgnbd.probability_alive(model.state.bgnbd, [0], [0], [464])[0] == 1.0  # the old number

    before = pipeline.score(model, _one(ONE_TIME))

    assert before.p_buy_again[0] < 0.1
    assert 0.1 < before.p_alive[0] < 0.5  # 30% on CDNOW: Pareto/NBD's
    assert before.p_alive[0] >= before.p_buy_again[0]


@pytest.mark.parametrize("btyd", ["bgnbd", "paretonbd"])
@pytest.mark.parametrize("chosen", ["bgnbd", "paretonbd", "covariate"])
def test_a_second_purchase_today_makes_still_active_100_percent_not_81(fitted, btyd, chosen):
    model = _with(fitted, chosen=chosen, btyd=btyd)
    assert bgnbd.probability_alive(model.state.bgnbd, [1], [464], [464])[0] < 0.85  # the old

    before = pipeline.score(model, _one(ONE_TIME))
    after = pipeline.score(model, _one(AND_TODAY))

    # the rule: a purchase on the scoring day means still active; both numbers move up together
    assert after.p_alive[0] == 1.0
    assert after.p_buy_again[0] > before.p_buy_again[0]
    assert after.p_alive[0] > before.p_alive[0]


def test_still_active_is_never_below_the_buy_again_number(fitted, cdnow_rows):
    for chosen in ("covariate", "bgnbd", "baseline"):
        scores = pipeline.score(_with(fitted, chosen=chosen, btyd="bgnbd"), cdnow_rows)
        assert np.isfinite(scores.p_alive).all()
        assert (scores.p_alive >= scores.p_buy_again).all()
        assert scores.p_alive.max() <= 1.0 and (scores.p_alive < 1.0).sum() > 1000


def test_p_alive_is_pareto_nbd_whichever_model_gives_the_other_numbers(fitted, cdnow_rows):
    by_bgnbd = pipeline.score(_with(fitted, chosen="paretonbd", btyd="bgnbd"), cdnow_rows)
    by_pareto = pipeline.score(_with(fitted, chosen="paretonbd", btyd="paretonbd"), cdnow_rows)

    expected = paretonbd.probability_alive(fitted.state.paretonbd, by_bgnbd.frequency,
                                           by_bgnbd.recency_days, by_bgnbd.age_days)
    np.testing.assert_allclose(by_bgnbd.p_alive, expected, rtol=1e-9)
    np.testing.assert_allclose(by_pareto.p_alive, expected, rtol=1e-9)
    # the value if still active times P(alive) is Pareto/NBD's 12-month value
    np.testing.assert_allclose(by_pareto.value_if_active_12m * by_pareto.p_alive,
                               by_pareto.predicted_value_12m, rtol=1e-6, atol=1e-9)


def test_without_a_pareto_nbd_fit_still_active_is_unknown_not_another_models_number(fitted):
    failed = dataclasses.replace(fitted.state.paretonbd, converged=False)
    model = _with(fitted, chosen="bgnbd", btyd="bgnbd", paretonbd_params=failed)

    scores = pipeline.score(model, _one(ONE_TIME))

    assert np.isnan(scores.p_alive[0]) and np.isnan(scores.value_if_active_12m[0])
    assert 0 < scores.p_buy_again[0] < 0.1  # the other numbers are still there


def test_value_if_active_grows_with_what_they_spend_and_how_often_they_bought(fitted):
    rare = pipeline.score(fitted, _one([AS_OF - 300, AS_OF - 200]))
    often = pipeline.score(fitted, _one([AS_OF - 300 + 20 * k for k in range(6)]))
    rich = pipeline.score(fitted, _one([AS_OF - 300, AS_OF - 200], spend=300.0))

    assert often.value_if_active_12m[0] > rare.value_if_active_12m[0] > 0
    assert rich.value_if_active_12m[0] > rare.value_if_active_12m[0]


def test_along_a_contacts_timeline_both_numbers_fall_with_silence_and_rise_with_a_purchase(
        fitted):
    """The rule, day by day for one contact: silence lowers both numbers, a purchase lifts both
    (still active to 100%); they never move in opposite directions."""
    model = _with(fitted, chosen="paretonbd")
    first, second = AS_OF - 700, AS_OF - 300
    alive, buy = [], []
    for day in range(first, AS_OF + 1, 10):
        days = [first] + ([second] if day >= second else [])
        scores = pipeline.score(model, _one(days), as_of_day=day)
        alive.append(scores.p_alive[0])
        buy.append(scores.p_buy_again[0])
    alive, buy = np.array(alive), np.array(buy)
    purchase = (second - first) // 10

    assert alive[purchase] == 1.0 and alive[purchase] > alive[purchase - 1]
    assert buy[purchase] > buy[purchase - 1]
    for numbers in (alive, buy):
        silent = np.r_[np.diff(numbers[:purchase]), np.diff(numbers[purchase:])]
        assert (silent <= 1e-12).all()
    assert (alive >= buy).all()
