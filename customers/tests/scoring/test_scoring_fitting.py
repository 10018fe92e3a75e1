"""The shared fitting driver and input handling (customers/scoring/_common.py)."""

import numpy as np
import pytest

from customers.scoring.model._common import PARAM_MAX, as_history, group_rows, maximise


def test_maximise_finds_an_interior_optimum_and_says_converged():
    # log-likelihood of 7 successes in 10 Bernoulli-like trials, in odds o: 7 log o - 10 log(1 + o)
    def loglik(params):
        odds = params[0]
        return 7 * np.log(odds) - 10 * np.log1p(odds), np.array([7 / odds - 10 / (1 + odds)])

    best = maximise(loglik, [(1.0,), (5.0,)], ["odds"], total_weight=10)
    assert best.params[0] == pytest.approx(7 / 3, rel=1e-6)
    assert best.converged is True
    assert best.message == "converged (best of 2 starting point(s))"


def test_maximise_reports_a_parameter_that_runs_to_the_edge():
    def loglik(params):  # keeps rising as the parameter grows
        return float(np.log(params[0])), np.array([1 / params[0]])

    best = maximise(loglik, [(1.0,)], ["q"], total_weight=1)
    assert best.converged is False
    assert best.params[0] == pytest.approx(PARAM_MAX, rel=1e-6)
    assert best.message.startswith("q ran to the edge of the allowed range")


def test_maximise_survives_a_likelihood_that_is_never_finite():
    best = maximise(
        lambda params: (np.nan, np.array([np.nan])), [(1.0,), (2.0,)], ["r"], total_weight=1
    )
    assert best.converged is False
    assert best.log_likelihood == -np.inf
    assert (
        best.message == "likelihood not finite at any starting point (best of 2 starting point(s))"
    )


def test_maximise_tries_every_start_when_they_disagree():
    calls = []

    def loglik(params):  # two optima: starts near each find a different one
        calls.append(params[0])
        x = np.log(params[0])
        return float(-((x**2 - 1) ** 2) + 0.1 * x), np.array(
            [(-4 * x * (x**2 - 1) + 0.1) / params[0]]
        )

    best = maximise(loglik, [(np.exp(-1),), (np.exp(1),), (np.exp(-1.2),)], ["p"], total_weight=1)
    assert np.log(best.params[0]) == pytest.approx(1.0, abs=0.05)  # the higher of the two optima
    assert best.message == "converged (best of 3 starting point(s))"


def test_group_rows_collapses_identical_rows_and_rebuilds_the_input():
    x = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    t = np.array([2.0, 0.0, 2.0, 3.0, 0.0])
    ux, ut, weights, inverse = group_rows(x, t)
    assert ux.tolist() == [0.0, 1.0, 1.0] and ut.tolist() == [0.0, 2.0, 3.0]
    assert weights.tolist() == [2.0, 2.0, 1.0]
    assert np.array_equal(ux[inverse], x) and np.array_equal(ut[inverse], t)


def test_group_rows_adds_up_given_weights():
    _, weights, _ = group_rows(np.array([5, 5, 6]), weights=np.array([0.5, 2.0, 1.0]))
    assert weights.tolist() == [2.5, 1.0]


def test_group_rows_handles_no_rows():
    ux, weights, inverse = group_rows(np.array([]))
    assert len(ux) == len(weights) == len(inverse) == 0


def test_as_history_rejects_negative_weights():
    with pytest.raises(ValueError, match="weights must be finite and >= 0"):
        as_history([1], [0.5], [1], weights=[-1])


def test_large_data_compares_starts_on_a_sample_and_refines_on_everything(monkeypatch):
    from customers.scoring.model import _common, bgnbd
    from customers.tests.data import cdnow

    data = cdnow.summary()
    history = (data["frequency"], data["recency"], data["T"])
    direct = bgnbd.fit_bgnbd(*history)
    monkeypatch.setattr(_common, "SAMPLE_ABOVE_ROWS", 100)
    monkeypatch.setattr(_common, "SAMPLE_CUSTOMERS", 500)
    sampled = bgnbd.fit_bgnbd(*history)
    assert sampled.converged is True
    assert "sampled customers, the best refined on all 2,357" in sampled.message
    assert (sampled.r, sampled.alpha, sampled.a, sampled.b) == pytest.approx(
        (direct.r, direct.alpha, direct.a, direct.b), rel=1e-4
    )
    assert sampled.log_likelihood == pytest.approx(direct.log_likelihood, abs=1e-6)
