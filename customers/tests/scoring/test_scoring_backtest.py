"""Backtest metrics against small examples computed by hand, and the model-choice rule."""

import numpy as np
import pytest

from customers.scoring.model import backtest


def test_auc_counts_ties_as_one_half():
    # positives 0.4 and 0.8 against negatives 0.1 and 0.4: wins 1 + 0.5 (tie) + 1 + 1 of 4 pairs
    assert backtest.auc([0.1, 0.4, 0.4, 0.8], [0, 1, 0, 1]) == 0.875


def test_auc_is_one_for_perfect_ranking_and_zero_for_reversed():
    assert backtest.auc([0.1, 0.2, 0.9], [0, 0, 1]) == 1.0
    assert backtest.auc([0.9, 0.2, 0.1], [0, 0, 1]) == 0.0


def test_auc_of_constant_scores_is_one_half():
    assert backtest.auc([0.3] * 5, [0, 1, 0, 1, 1]) == 0.5


def test_auc_is_undefined_with_one_class():
    assert backtest.auc([0.1, 0.2], [1, 1]) is None
    assert backtest.auc([], []) is None


def test_brier_is_mean_squared_error_of_probabilities():
    assert backtest.brier([0.2, 0.9], [0, 1]) == pytest.approx((0.04 + 0.01) / 2, abs=1e-15)
    assert backtest.brier([], []) is None


def test_calibration_splits_sorted_predictions_into_equal_groups():
    p = np.arange(20)[::-1] / 20  # given in reverse order: grouping must sort
    y = (np.arange(20)[::-1] % 2 == 1).astype(int)  # odd positions (by prediction) bought
    groups = backtest.calibration(p, y)
    assert len(groups) == 10
    assert groups[0].to_json() == {"predicted": pytest.approx(0.025), "observed": 0.5, "count": 2}
    assert groups[-1].to_json() == {"predicted": pytest.approx(0.925), "observed": 0.5, "count": 2}


def test_calibration_with_fewer_rows_than_deciles_keeps_non_empty_groups():
    groups = backtest.calibration([0.9, 0.1, 0.5], [1, 0, 0])
    assert [g.predicted for g in groups] == [0.1, 0.5, 0.9]
    assert [g.observed for g in groups] == [0.0, 0.0, 1.0]
    assert [g.count for g in groups] == [1, 1, 1]


def test_window_metrics_totals_and_one_time_auc():
    metrics = backtest.window_metrics(
        p_buy=[0.1, 0.6, 0.3, 0.8],
        expected_purchases=[0.2, 1.0, 0.5, 2.0],
        purchase_days=[0, 2, 1, 0],
        one_time=[True, True, True, False],
    )
    assert metrics.n == 4 and metrics.n_one_time == 3
    assert metrics.actual_buyers == 2 and metrics.actual_purchases == 3
    assert metrics.predicted_buyers == pytest.approx(1.8)
    assert metrics.predicted_purchases == pytest.approx(3.7)
    assert metrics.auc_one_time == 1.0  # 0.6 and 0.3 bought, 0.1 did not
    assert metrics.auc == 0.5  # 0.8 did not buy: beats 0.6 and 0.3
    assert metrics.brier == pytest.approx((0.01 + 0.16 + 0.49 + 0.64) / 4)


def test_window_metrics_without_expected_purchases():
    metrics = backtest.window_metrics([0.5], None, [1], [True])
    assert metrics.predicted_purchases is None
    assert metrics.auc is None


def test_choose_takes_lowest_brier_among_usable_models():
    candidates = {
        "bgnbd": backtest.Candidate(True, 0.20),
        "paretonbd": backtest.Candidate(False, 0.05),  # did not converge: never chosen
        "covariate": backtest.Candidate(True, 0.10),
    }
    assert backtest.choose(candidates) == "covariate"


def test_choose_prefers_the_simpler_model_on_a_tie():
    candidates = {"covariate": backtest.Candidate(True, 0.1), "bgnbd": backtest.Candidate(True, 0.1)}
    assert backtest.choose(candidates) == "bgnbd"


def test_choose_returns_none_without_a_usable_backtested_model():
    candidates = {"bgnbd": backtest.Candidate(True, None), "covariate": backtest.Candidate(False, 0.1)}
    assert backtest.choose(candidates) is None
