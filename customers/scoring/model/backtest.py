"""Honest comparison of purchase models on the newest complete window (numpy/scipy only).

Rolling origin: for a scoring date `as_of` and horizon h, the backtest window is
(cutoff, as_of] with cutoff = as_of - h. Every model is fitted (or trained) on purchases on or
before cutoff only, predicts for each contact known at cutoff, and is compared with what the
contacts really did in the window. The metrics here are plain functions of (prediction, outcome)
arrays so they can be checked by hand; pipeline.py does the fitting.

The winner (whose P(buy) becomes p_buy_again) is chosen by `choose`: the lowest Brier score on
the window among models that converged and gave finite predictions. Brier is a proper scoring
rule, so it rewards both ranking (AUC) and calibration; ties go to the simpler model (the order
of CANDIDATE_ORDER).
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

DECILES = 10
# On equal Brier score (within this) the earlier, simpler model wins.
CANDIDATE_ORDER = ("bgnbd", "paretonbd", "covariate", "baseline")
_TIE = 1e-12


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One group of the calibration chart: mean predicted and observed rate, and its size."""

    predicted: float
    observed: float
    count: int

    def to_json(self) -> dict:
        return {"predicted": self.predicted, "observed": self.observed, "count": self.count}

    @classmethod
    def from_json(cls, data: dict) -> "CalibrationBin":
        return cls(predicted=data["predicted"], observed=data["observed"], count=data["count"])


@dataclass(frozen=True, slots=True)
class WindowMetrics:
    """All backtest metrics of one model on one window (see window_metrics)."""

    n: int | None  # the figures are None only when read from a stored report that lacks them
    n_one_time: int | None
    auc: float | None
    auc_one_time: float | None
    brier: float | None
    calibration: tuple[CalibrationBin, ...]
    predicted_buyers: float | None
    actual_buyers: int | None
    predicted_purchases: float | None  # None for models that only give a probability
    actual_purchases: int | None
    brier_one_time: float | None = None  # among contacts with one purchase day by the cutoff

    def to_json(self) -> dict:
        """JSON-serialisable, in the shape stored in ScoringRun.reports."""
        return {
            "n": self.n,
            "n_one_time": self.n_one_time,
            "auc": self.auc,
            "auc_one_time": self.auc_one_time,
            "brier": self.brier,
            "calibration": [group.to_json() for group in self.calibration],
            "predicted_buyers": self.predicted_buyers,
            "actual_buyers": self.actual_buyers,
            "predicted_purchases": self.predicted_purchases,
            "actual_purchases": self.actual_purchases,
            "brier_one_time": self.brier_one_time,
        }

    @classmethod
    def from_json(cls, data: dict) -> "WindowMetrics":
        """From a stored report; a figure missing there reads as None."""
        return cls(
            n=data.get("n"),
            n_one_time=data.get("n_one_time"),
            auc=data.get("auc"),
            auc_one_time=data.get("auc_one_time"),
            brier=data.get("brier"),
            calibration=tuple(CalibrationBin.from_json(g) for g in data.get("calibration") or ()),
            predicted_buyers=data.get("predicted_buyers"),
            actual_buyers=data.get("actual_buyers"),
            predicted_purchases=data.get("predicted_purchases"),
            actual_purchases=data.get("actual_purchases"),
            brier_one_time=data.get("brier_one_time"),
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model up for choice: usable means it converged and gave finite predictions; brier is
    its backtest Brier score (None when no backtest was possible)."""

    usable: bool
    brier: float | None


def auc(scores, labels) -> float | None:
    """Area under the ROC curve = Mann-Whitney U / (n1 n0), ties counted as one half.

    None when one of the two classes is empty (the AUC is undefined there).
    """
    s = np.asarray(scores, dtype=float).ravel()
    y = np.asarray(labels, dtype=bool).ravel()
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return None
    ranks = rankdata(s)  # midranks for ties
    u = float(ranks[y].sum()) - n1 * (n1 + 1) / 2
    return u / (n1 * n0)


def brier(probabilities, labels) -> float | None:
    """Mean squared difference between P(event) and the 0/1 outcome (None for no rows)."""
    p = np.asarray(probabilities, dtype=float).ravel()
    y = np.asarray(labels, dtype=float).ravel()
    if not len(p):
        return None
    return float(np.mean((p - y) ** 2))


def calibration(probabilities, labels, bins: int = DECILES) -> tuple[CalibrationBin, ...]:
    """Mean predicted vs observed rate in `bins` groups of (nearly) equal size by prediction.

    Rows are sorted by prediction (stable, so ties keep input order) and cut into `bins`
    consecutive groups whose sizes differ by at most one (np.array_split); empty groups (fewer
    rows than bins) are left out.
    """
    p = np.asarray(probabilities, dtype=float).ravel()
    y = np.asarray(labels, dtype=float).ravel()
    order = np.argsort(p, kind="stable")
    groups = []
    for chunk in np.array_split(order, bins):
        if len(chunk):
            groups.append(
                CalibrationBin(
                    predicted=float(p[chunk].mean()),
                    observed=float(y[chunk].mean()),
                    count=len(chunk),
                )
            )
    return tuple(groups)


def window_metrics(p_buy, expected_purchases, purchase_days, one_time) -> WindowMetrics:
    """All backtest metrics of one model on one window (to_json() for storing).

    p_buy: predicted P(at least one purchase day in the window); expected_purchases: predicted
    purchase days in the window (None for models that only give a probability); purchase_days:
    actual purchase days in the window; one_time: the contact had a single purchase day by the
    cutoff.
    """
    p = np.asarray(p_buy, dtype=float).ravel()
    days = np.asarray(purchase_days, dtype=float).ravel()
    once = np.asarray(one_time, dtype=bool).ravel()
    bought = days > 0
    return WindowMetrics(
        n=len(p),
        n_one_time=int(once.sum()),
        auc=auc(p, bought),
        auc_one_time=auc(p[once], bought[once]),
        brier=brier(p, bought),
        calibration=calibration(p, bought),
        predicted_buyers=float(p.sum()),
        actual_buyers=int(bought.sum()),
        predicted_purchases=(
            None if expected_purchases is None else float(np.sum(expected_purchases))
        ),
        actual_purchases=int(days.sum()),
        brier_one_time=brier(p[once], bought[once]),
    )


def choose(candidates: dict[str, Candidate]) -> str | None:
    """Name of the model with the lowest backtest Brier score among the usable ones.

    `candidates` maps a model name to its Candidate. Models without a Brier score (no backtest
    possible) are skipped; None when no model qualifies.
    """
    best_name, best_score = None, np.inf
    names = sorted(candidates, key=_order)
    for name in names:
        usable, score = candidates[name].usable, candidates[name].brier
        if usable and score is not None and np.isfinite(score) and score < best_score - _TIE:
            best_name, best_score = name, score
    return best_name


def _order(name: str) -> int:
    return CANDIDATE_ORDER.index(name) if name in CANDIDATE_ORDER else len(CANDIDATE_ORDER)
