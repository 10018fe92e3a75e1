"""Scores before a backtest is possible: BG/NBD and Pareto/NBD fitted on all the history.

When the history up to as_of is too short for a complete backtest window (at most the horizon,
or under MIN_HISTORY_DAYS: pipeline.backtest_needs_days) but there are repeat purchases to learn
from, the purchase models still fit well: that is the set-up of the papers the product
reproduces (CDNOW: 39 weeks of calibration, a 39-week forecast). The run's verdict is then
NOT_BACKTESTED and:
  * BG/NBD, Pareto/NBD and Gamma-Gamma are fitted on every purchase up to as_of (the same
    production fits as a backtested run);
  * the model used is BG/NBD, the simpler of the two, when it converged and gave finite numbers:
    without a backtest nothing shows that Pareto/NBD would do better (the backtest's own rule,
    "ties go to the simpler model"); Pareto/NBD when only it qualifies; no scores (verdict
    TOO_SHORT_HISTORY, with the two reports) when neither does;
  * the covariate model is not used (it is only trusted after winning a backtest) and the
    baseline rates come from the newest window that fits (see pipeline.training_window);
  * the reports carry no backtest figures.
"""

import dataclasses
from typing import Literal

from . import covariate, gammagamma
from ._common import FitOutcome
from .backtest import WindowMetrics
from .bgnbd import BgNbdParams, fit_bgnbd
from .paretonbd import ParetoNbdParams
from .pipeline import (
    BaselineRates,
    DataVerdict,
    FitCounts,
    FitResult,
    FittedModels,
    FittedState,
    ModelReport,
    PurchaseTable,
    baseline_rates,
    btyd_predictions,
    fit_paretonbd_at,
    json_float,
    params_json,
    predictions_finite,
    purchase_days_between,
    snapshot_at,
    training_window,
)

NOT_BACKTESTED = "not_backtested"  # the covariate model's reason: never trained without one


def fit_unbacktested(table: PurchaseTable, as_of: int, horizon: int, counts: FitCounts,
                     clock, previous: ParetoNbdParams | None = None) -> FitResult:
    """Fit on everything up to as_of (table: the fit sample) and use BG/NBD or Pareto/NBD."""
    now = snapshot_at(table, as_of)
    bg = fit_bgnbd(now.x, now.t_x, now.T)
    clock.lap("fit_bgnbd")
    pn = fit_paretonbd_at(now, previous)
    clock.lap("fit_paretonbd")
    gg = gammagamma.fit_gammagamma(now.x, now.repeat_spend)
    clock.lap("fit_gammagamma")
    fits: dict[str, BgNbdParams | ParetoNbdParams] = {"bgnbd": bg, "paretonbd": pn}
    usable = {name: bool(fit.converged) and predictions_finite(btyd_predictions(fit, horizon, now, year=True))
              for name, fit in fits.items()}
    clock.lap("check_predictions")
    counts = dataclasses.replace(counts, fit_sample=len(table.contact_ids))
    reports = _reports(fits, usable)
    chosen = next((name for name in ("bgnbd", "paretonbd") if usable[name]), None)
    if chosen is None:
        return FitResult(DataVerdict.TOO_SHORT_HISTORY, None, reports, counts, clock.durations())
    train_snap, train_start, _window = training_window(table, as_of, horizon)
    baseline = BaselineRates(one_time=0.0, repeat=0.0)
    if len(train_snap):
        baseline = baseline_rates(
            train_snap, purchase_days_between(table, train_snap, train_start, as_of) > 0)
    state = FittedState(
        bgnbd=bg,
        paretonbd=pn,
        gammagamma=gg,
        covariate=dataclasses.replace(covariate._unusable(horizon, 0, 0), reason=NOT_BACKTESTED),
        baseline=baseline,
        mean_spend=float(now.mean_spend.mean()) if len(now) else 0.0,
        btyd=chosen,
    )
    fitted = FittedModels(int(horizon), int(as_of), chosen, state)
    return FitResult(DataVerdict.NOT_BACKTESTED, fitted, reports, counts, clock.durations())


def _reports(fits: dict, usable: dict[str, bool]) -> list[ModelReport]:
    """The two purchase models' fits; no backtest figures (there is no window)."""
    reports = []
    name: Literal["bgnbd", "paretonbd"]
    for name, names in (("bgnbd", ("r", "alpha", "a", "b")),
                        ("paretonbd", ("r", "alpha", "s", "beta"))):
        fitted = fits[name]
        reason = fitted.reason.value
        if fitted.converged and not usable[name]:
            reason = FitOutcome.NOT_FINITE.value
        reports.append(ModelReport(
            name=name,
            params=params_json(fitted, names),
            log_likelihood=json_float(fitted.log_likelihood),
            converged=usable[name],
            reason=str(reason),
            metrics=WindowMetrics.from_json({}),
        ))
    return reports
