"""The nightly scoring pipeline: purchase-day rows in, fitted models and per-contact scores out.

No Django here: the Django side loads one row per (contact, purchase day), calls fit() once a
night, stores FittedModels.to_json(), then calls score() on chunks of contacts (or on one contact
right after a purchase) without refitting.

What fit() does, for a scoring date as_of and horizon h (days):
  1. Ignores rows after as_of. Verdict: no rows -> NO_PURCHASES; fewer than MIN_BUYERS contacts
     with purchases -> TOO_FEW_BUYERS; less than MIN_HISTORY_DAYS between the first purchase in
     the data and as_of, or no complete backtest window (history <= h, or fewer than MIN_BUYERS
     contacts had bought by its cutoff as_of - h) -> no backtest: then
     NOT_BACKTESTED when there is at least MIN_FIT_HISTORY_DAYS of history and MIN_REPEAT_BUYERS
     contacts bought on a second day (BG/NBD and Pareto/NBD are fitted on everything up to
     as_of and used without a backtest, see unbacktested.py), else TOO_SHORT_HISTORY.
  2. Draws a random sample of contacts (sample_size, fixed seed) for all fitting and the
     backtest; score() then scores everyone.
  3. Backtest on the newest complete window (cutoff = as_of - h, window (cutoff, as_of]):
       * BG/NBD and Pareto/NBD fitted on purchases <= cutoff;
       * the covariate model (covariate.py) trained on features at cutoff2 = as_of - 2h with
         labels in (cutoff2, cutoff] and its BG/NBD feature from a BG/NBD fit at cutoff2; when
         nobody had bought by cutoff2 (short history), on a shorter window: features at the
         midpoint between the first purchase and cutoff, labels up to cutoff;
       * a baseline: the share of one-time / repeat contacts who bought in that same training
         window (a sanity floor that always "converges");
     all evaluated on the contacts known at cutoff: AUC overall and for one-time buyers, Brier,
     calibration deciles, predicted vs actual buyers and purchase days (backtest.py).
  4. Production fits on purchases <= as_of: BG/NBD, Pareto/NBD, Gamma-Gamma; the covariate model
     is retrained on the newest complete window (features and BG/NBD feature at cutoff, labels in
     (cutoff, as_of]) and applied to features at as_of; the baseline rates likewise.
  5. Choice (backtest.choose): p_buy_again comes from the model with the lowest backtest Brier
     score among those that converged in both the backtest and the production fit and gave
     finite numbers; ties go to the simpler model. Expected purchases and the 12-month value
     come from the better of BG/NBD and Pareto/NBD by the same rule (BG/NBD if neither
     qualifies: its numbers are finite even at a boundary fit). p_alive is always Pareto/NBD's,
     never below p_buy_again, or unknown (NaN) when that fit failed (alive.py says why).

expected_value is the Gamma-Gamma conditional expected spend per purchase day (population mean
for x = 0; the contact's own mean, or the population's, where the fit gives no finite mean), and
predicted_value_12m = expected purchase days in the next 365 days * expected_value (undiscounted).

Beyond purchases (issue #18): fit(attributes=...) takes an AttributeSource (attributes.py), asked
for what was known at each cutoff the covariate model trains or is tested at, never later; its
L2 strength is picked on the window before the one it is judged on (_regularisation). A model
whose backtest AUC (overall or among one-time buyers) is below 0.5 is never used and its report
says so (reason BELOW_CHANCE). One-time buyers may be scored by another model than the rest
(FittedModels.chosen_one_time): the usable one with the lowest Brier score among them that
ranks them at all (AUC above 0.5), since the overall Brier score is mostly the repeat buyers'.
covariate_drivers() gives one contact's main drivers for the contact page.
"""

import dataclasses
import enum
import math
import time
from dataclasses import dataclass
from typing import Literal, TypedDict

import numpy as np

from . import alive, backtest, bgnbd, covariate, gammagamma, paretonbd
from ._common import FitOutcome, group_rows
from .attributes import Attributes, AttributeSource
from .backtest import Candidate, WindowMetrics
from .bgnbd import BgNbdParams
from .covariate import CovariateModel
from .covariate import Inputs as CovariateInputs
from .gammagamma import GammaGammaParams
from .paretonbd import ParetoNbdParams

MIN_BUYERS = 300
# Pareto/NBD costs ~10x BG/NBD per distinct history: it is fitted on at most this many contacts
# of the fit sample (its parameters are population-level; 10,000 pin them down well, and at
# 50,000 the fit took 60 s of a 1M-contact nightly run), fewer where a smaller nested sample
# already pins them down (paretonbd.fit_paretonbd_nightly).
PARETO_SAMPLE = 10_000
MIN_HISTORY_DAYS = 180  # a backtest needs this much history, more than the horizon, and
# MIN_BUYERS contacts known at its cutoff (backtest_needs_days).
# Without a backtest window BG/NBD and Pareto/NBD are still fitted and used when there is this
# much history and this many contacts who bought on a second day (the repeat purchases are what
# they learn from); below that the run has no scores.
MIN_FIT_HISTORY_DAYS = 30
MIN_REPEAT_BUYERS = 30
YEAR_DAYS = 365
BTYD = ("bgnbd", "paretonbd")


@dataclass(frozen=True)
class DayRows:
    """Purchase rows as loaded from the database, in any order: one per (contact, day), or one
    per purchase (rows of the same contact and day are merged: spend and items added)."""

    contact_ids: np.ndarray  # int64
    days: np.ndarray  # int64: days since 1970-01-01 (shop-local calendar day)
    spend: np.ndarray  # float64: that day's total spend in base currency (>= 0)
    items: np.ndarray  # int64: that day's total items (>= 1)
    coupon: np.ndarray  # bool: a coupon/referral code was used that day


class DataVerdict(enum.Enum):
    ENOUGH = "enough"
    TOO_FEW_BUYERS = "too_few_buyers"
    TOO_SHORT_HISTORY = "too_short_history"
    NO_PURCHASES = "no_purchases"
    NOT_BACKTESTED = "not_backtested"  # scores from BG/NBD or Pareto/NBD, no backtest window yet


@dataclass(frozen=True, slots=True)
class ModelReport:
    """One per model ("bgnbd", "paretonbd", "covariate", "baseline"); to_json() is stored."""

    name: str
    params: dict  # the model's stored parameters (FittedState.to_json()[name])
    log_likelihood: float | None
    converged: bool | None  # None (and reason None) only when read from a report that lacks it
    reason: str | None  # FitOutcome value or another short code
    metrics: WindowMetrics  # backtest.window_metrics() on the newest complete window

    def to_json(self) -> dict:
        return {"name": self.name, "params": self.params, "log_likelihood": self.log_likelihood,
                "converged": self.converged, "reason": self.reason,
                "metrics": self.metrics.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> "ModelReport":
        """From a stored report; what is missing there reads as None (metrics as all None)."""
        return cls(
            name=data["name"],
            params=data.get("params") or {},
            log_likelihood=data.get("log_likelihood"),
            converged=data.get("converged"),
            reason=data.get("reason"),
            metrics=WindowMetrics.from_json(data.get("metrics") or {}),
        )


@dataclass(frozen=True, slots=True)
class BaselineRates:
    """The baseline model: share of one-time and of repeat contacts who bought in a window."""

    one_time: float
    repeat: float

    def to_json(self) -> dict:
        return {"one_time": self.one_time, "repeat": self.repeat}

    @classmethod
    def from_json(cls, data: dict) -> "BaselineRates":
        return cls(one_time=data["one_time"], repeat=data["repeat"])


@dataclass(frozen=True, slots=True)
class FittedState:
    """Every fitted parameter of every model; to_json() is plain JSON, no pickle."""

    bgnbd: BgNbdParams
    paretonbd: ParetoNbdParams
    gammagamma: GammaGammaParams
    covariate: CovariateModel
    baseline: BaselineRates
    mean_spend: float  # population mean spend per purchase day (the spend fallback)
    btyd: str  # the better of "bgnbd" and "paretonbd": p_alive, expected purchases, value

    def to_json(self) -> dict:
        return {
            "bgnbd": params_json(self.bgnbd, ("r", "alpha", "a", "b")),
            "paretonbd": params_json(self.paretonbd, ("r", "alpha", "s", "beta")),
            "gammagamma": params_json(self.gammagamma, ("p", "q", "gamma")),
            "covariate": self.covariate.to_json(),
            "baseline": self.baseline.to_json(),
            "mean_spend": self.mean_spend,
            "btyd": self.btyd,
        }

    @classmethod
    def from_json(cls, data: dict) -> "FittedState":
        return cls(
            bgnbd=BgNbdParams(**_params_fields(data["bgnbd"], ("r", "alpha", "a", "b"))),
            paretonbd=ParetoNbdParams(
                **_params_fields(data["paretonbd"], ("r", "alpha", "s", "beta"))),
            gammagamma=GammaGammaParams(**_params_fields(data["gammagamma"], ("p", "q", "gamma"))),
            covariate=CovariateModel.from_json(data["covariate"]),
            baseline=BaselineRates.from_json(data["baseline"]),
            mean_spend=data["mean_spend"],
            btyd=data["btyd"],
        )


@dataclass(frozen=True, slots=True)
class FittedModels:
    """Everything needed to score any contact later without refitting: JSON round-trips."""

    horizon_days: int
    as_of_day: int
    chosen: str  # name of the model whose P(buy) becomes p_buy_again
    state: FittedState
    # the model used for one-time buyers instead, when another one scores them better
    chosen_one_time: str | None = None

    def to_json(self) -> dict:
        return {
            "horizon_days": self.horizon_days,
            "as_of_day": self.as_of_day,
            "chosen": self.chosen,
            "state": self.state.to_json(),
            "chosen_one_time": self.chosen_one_time,
        }

    @classmethod
    def from_json(cls, data: dict) -> "FittedModels":
        return cls(
            horizon_days=int(data["horizon_days"]),
            as_of_day=int(data["as_of_day"]),
            chosen=str(data["chosen"]),
            state=FittedState.from_json(data["state"]),
            chosen_one_time=data.get("chosen_one_time"),
        )

    def model_for(self, one_time: bool) -> str:
        """The model whose P(buy) a one-time buyer's (or a repeat buyer's) number is."""
        return (self.chosen_one_time or self.chosen) if one_time else self.chosen


@dataclass(frozen=True, slots=True)
class FitCounts:
    """Contacts and purchase days seen by fit(); the sample and backtest figures only when
    there was enough data. to_json() is stored (ScoringRun.counts)."""

    contacts: int
    one_time: int
    repeat: int
    purchase_days: int
    fit_sample: int | None = None
    backtest_contacts: int | None = None
    backtest_one_time: int | None = None
    backtest_buyers: int | None = None
    covariate_backtest_training_rows: int | None = None
    covariate_backtest_window_days: int | None = None
    history_days: int | None = None  # as_of - first purchase day (when there is no backtest)
    backtest_needs_days: int | None = None  # more days of history a backtest needs

    def to_json(self) -> dict:
        """The figures known, in field order (the admin lists them so)."""
        return {field.name: value for field in dataclasses.fields(self)
                if (value := getattr(self, field.name)) is not None}


@dataclass(frozen=True, slots=True)
class FitResult:
    verdict: DataVerdict
    fitted: FittedModels | None  # None unless verdict is ENOUGH or NOT_BACKTESTED
    reports: list[ModelReport]
    counts: FitCounts
    durations: dict[str, float]  # stage -> seconds


@dataclass(frozen=True)
class ContactScores:
    """Arrays aligned with contact_ids (sorted ascending)."""

    contact_ids: np.ndarray
    p_buy_again: np.ndarray  # from the chosen model
    p_alive: np.ndarray  # Pareto/NBD's, at least p_buy_again; NaN: unknown (alive.py)
    expected_purchases: np.ndarray  # purchase days within the horizon
    expected_value: np.ndarray  # Gamma-Gamma expected spend per purchase day
    predicted_value_12m: np.ndarray
    frequency: np.ndarray
    recency_days: np.ndarray
    age_days: np.ndarray
    drivers: list[str] | None = None
    # The 12-month value if the contact stays active (alive.py); NaN: unknown, None: not given.
    value_if_active_12m: np.ndarray | None = None


# --- rows -> contact-day table -------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseTable:
    """Contact-days sorted by (contact, day), one row per distinct day; per-contact index."""

    contact_ids: np.ndarray  # per contact, ascending
    start: np.ndarray  # per contact: index of its first row
    owner: np.ndarray  # per row: contact index
    day: np.ndarray
    spend: np.ndarray
    items: np.ndarray
    coupon: np.ndarray


def _table(rows: DayRows, as_of: int) -> PurchaseTable:
    """Rows on or before as_of, duplicates of a (contact, day) merged (spend and items added)."""
    ids = np.asarray(rows.contact_ids, dtype=np.int64).ravel()
    day = np.asarray(rows.days, dtype=np.int64).ravel()
    columns = (rows.spend, rows.items, rows.coupon)
    if any(len(np.ravel(c)) != len(ids) for c in (day, *columns)):
        raise ValueError("DayRows columns differ in length")
    kept: np.ndarray | slice  # the rows on or before as_of: a mask, or all of them
    kept = day <= as_of
    if kept.all():
        kept = slice(None)  # the usual case: views, not copies (memory at 10M rows)
    ids, day = ids[kept], day[kept]
    if not len(ids):
        empty = np.array([], dtype=np.int64)
        return PurchaseTable(empty, empty, empty, empty, np.array([]), empty, np.array([], dtype=bool))
    order = _sort_order(ids, day)
    ids, day = ids[order], day[order]
    group = np.flatnonzero(np.r_[True, (ids[1:] != ids[:-1]) | (day[1:] != day[:-1])])
    ids, day = ids[group], day[group]
    spend = np.asarray(rows.spend, dtype=float).ravel()[kept][order]
    spend[~(np.isfinite(spend) & (spend > 0))] = 0.0  # bad amounts count as 0
    spend = np.add.reduceat(spend, group)
    items = np.asarray(rows.items, dtype=np.int64).ravel()[kept][order]
    items = np.add.reduceat(np.maximum(items, 1, out=items), group)
    coupon = np.logical_or.reduceat(np.asarray(rows.coupon, dtype=bool).ravel()[kept][order], group)
    del order
    new_contact = np.r_[True, ids[1:] != ids[:-1]]
    start = np.flatnonzero(new_contact)
    owner = np.cumsum(new_contact) - 1
    return PurchaseTable(ids[start], start, owner, day, spend, items, coupon)


def contact_days(rows: DayRows, as_of: int):
    """Rows merged to one per (contact, day), sorted: (owner index per row, day, spend, first day
    of the row's contact). Also used by the dashboard's KPIs."""
    table = _table(rows, as_of)
    first = table.day[table.start][table.owner] if len(table.day) else table.day
    return table.owner, table.day, table.spend, first


def _sort_order(ids: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Order by (contact, day): one argsort of a packed int64 key when it fits (5x lexsort)."""
    id_lo, day_lo = int(ids.min()), int(day.min())
    id_span, day_span = int(ids.max()) - id_lo + 1, int(day.max()) - day_lo + 1
    if id_span * day_span < 2**62:
        key = ids - id_lo  # built in place: one 8-byte temporary per row, not three
        key *= day_span
        key += day
        key -= day_lo
        return np.argsort(key)
    return np.lexsort((day, ids))


def _subset(table: PurchaseTable, contacts: np.ndarray) -> PurchaseTable:
    """The table restricted to the contacts at the given (sorted) indices."""
    keep = np.zeros(len(table.contact_ids), dtype=bool)
    keep[contacts] = True
    rows = keep[table.owner]
    owner = np.cumsum(keep)[table.owner[rows]] - 1
    start = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
    return PurchaseTable(
        table.contact_ids[contacts],
        start,
        owner,
        table.day[rows],
        table.spend[rows],
        table.items[rows],
        table.coupon[rows],
    )


@dataclass(frozen=True)
class Snapshot:
    """Contacts with a purchase on or before a cutoff and what was known about them then."""

    index: np.ndarray  # into PurchaseTable.contact_ids
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    first_spend: np.ndarray
    first_items: np.ndarray
    mean_spend: np.ndarray
    mean_items: np.ndarray
    coupon_share: np.ndarray
    first_coupon: np.ndarray
    repeat_spend: np.ndarray  # Gamma-Gamma m_x: mean spend per repeat day (0 for x = 0)
    days_to_second: np.ndarray  # days from the first to the second purchase day (0 for x = 0)

    def __len__(self) -> int:
        return len(self.index)


def snapshot_at(table: PurchaseTable, cutoff: int) -> Snapshot:
    """Per-contact facts from rows on or before cutoff (rows are day-sorted within a contact)."""
    kept = table.day <= cutoff
    everything = bool(kept.all())  # scoring at as_of: no masked copies of every row
    size = len(table.contact_ids)

    def per_contact(values):
        weights = values if everything else np.where(kept, values, 0)
        return np.bincount(table.owner, weights=weights, minlength=size)

    days = np.bincount(table.owner, weights=kept, minlength=size).astype(np.int64)
    index = np.flatnonzero(days > 0)
    n, first_row = days[index], table.start[index]
    first = table.day[first_row]
    spend = per_contact(table.spend)[index]
    first_spend = table.spend[first_row]
    x = (n - 1).astype(float)
    return Snapshot(
        index=index,
        x=x,
        t_x=(table.day[first_row + n - 1] - first).astype(float),
        T=(cutoff - first).astype(float),
        first_spend=first_spend,
        first_items=table.items[first_row].astype(float),
        mean_spend=spend / n,
        mean_items=per_contact(table.items)[index] / n,
        coupon_share=per_contact(table.coupon)[index] / n,
        first_coupon=table.coupon[first_row].astype(float),
        repeat_spend=np.where(x > 0, np.maximum(spend - first_spend, 0) / np.maximum(x, 1), 0.0),
        days_to_second=np.where(
            n > 1, table.day[np.minimum(first_row + 1, len(table.day) - 1)] - first, 0
        ).astype(float),
    )


def purchase_days_between(table: PurchaseTable, snap: Snapshot, after: int, until: int) -> np.ndarray:
    """Purchase days in (after, until] of each contact in the snapshot."""
    inside = (table.day > after) & (table.day <= until)
    counts = np.bincount(table.owner, weights=inside, minlength=len(table.contact_ids))
    return counts[snap.index].astype(np.int64)


# --- model predictions ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Predictions:
    """One model's predictions per contact of a snapshot; only P(buy) for the models that
    give nothing else (covariate, baseline)."""

    p_buy: np.ndarray  # P(at least one purchase day in the horizon)
    p_alive: np.ndarray | None = None
    expected: np.ndarray | None = None  # E[purchase days in the horizon]
    expected_year: np.ndarray | None = None  # E[purchase days in the next 365 days]


def btyd_predictions(
    params, horizon: float, snap: Snapshot, *, year: bool = False
) -> Predictions:
    """P(alive), E[purchase days in h], P(buy in h) [and E in 365 days], per distinct history."""
    model = bgnbd if isinstance(params, BgNbdParams) else paretonbd
    x, t_x, age, _, inverse = group_rows(snap.x, snap.t_x, snap.T)
    with np.errstate(all="ignore"):
        alive = model.probability_alive(params, x, t_x, age)
        # Pareto/NBD's P(alive) is most of its cost: computed once, not once per output.
        reuse = {"alive": alive} if model is paretonbd else {}
        expected = model.conditional_expected_purchases(params, horizon, x, t_x, age, **reuse)
        p_buy = model.probability_purchase(params, horizon, x, t_x, age, **reuse)
        expected_year = None
        if year:
            expected_year = model.conditional_expected_purchases(
                params, YEAR_DAYS, x, t_x, age, **reuse
            )
    return Predictions(
        p_buy=p_buy[inverse],
        p_alive=alive[inverse],
        expected=expected[inverse],
        expected_year=None if expected_year is None else expected_year[inverse],
    )


def predictions_finite(predictions: Predictions) -> bool:
    values = (predictions.p_buy, predictions.p_alive, predictions.expected,
              predictions.expected_year)
    return all(np.isfinite(v).all() for v in values if v is not None)


def _covariate_inputs(snap: Snapshot, bgnbd_p: np.ndarray,
                      attributes: Attributes | None = None) -> covariate.Inputs:
    """The covariate model's inputs; `attributes` aligned with the snapshot's contacts."""
    return covariate.Inputs(
        frequency=snap.x,
        recency=snap.t_x,
        age=snap.T,
        first_spend=snap.first_spend,
        first_items=snap.first_items,
        mean_spend=snap.mean_spend,
        mean_items=snap.mean_items,
        coupon_share=snap.coupon_share,
        first_coupon=snap.first_coupon,
        bgnbd_p=bgnbd_p,
        days_to_second=snap.days_to_second,
        attributes=attributes,
    )


class _Attributes:
    """An AttributeSource asked once per day and aligned with a snapshot's contacts."""

    def __init__(self, source: AttributeSource | None):
        self._source = source
        self._days: dict[int, Attributes] = {}

    def at(self, table: PurchaseTable, snap: Snapshot, day: int) -> Attributes | None:
        if self._source is None:
            return None
        if day not in self._days:
            self._days[day] = self._source(int(day))
        return self._days[day].take(table.contact_ids[snap.index])


def baseline_rates(snap: Snapshot, bought: np.ndarray) -> BaselineRates:
    """Share of one-time and of repeat contacts who bought (all contacts' share where the
    group is empty)."""
    one = snap.x == 0

    def rate(group: np.ndarray) -> float:
        return float(bought[group].mean()) if group.any() else float(bought.mean())

    return BaselineRates(one_time=rate(one), repeat=rate(~one))


def _baseline_p(rates: BaselineRates, snap: Snapshot) -> np.ndarray:
    return np.where(snap.x == 0, rates.one_time, rates.repeat)


# --- fit -----------------------------------------------------------------------------------


def fit(
    rows: DayRows,
    *,
    as_of_day: int,
    horizon_days: int = 90,
    sample_size: int | None = 200_000,
    seed: int = 0,
    attributes: AttributeSource | None = None,
    previous: ParetoNbdParams | None = None,
) -> FitResult:
    """Ignore every row after as_of_day. Fit all models (on a random sample of contacts when
    there are more than sample_size), backtest, choose. See the module docstring.

    `attributes`: what else is known about contacts as of a given day (attributes.py), for the
    covariate model; it is asked only for days on or before the cutoffs it trains at.
    `previous`: the last run's Pareto/NBD parameters (paretonbd_start()), where both its fits
    start."""
    clock = _Clock()
    table = _table(rows, as_of_day)
    clock.lap("load")
    verdict = _verdict(table, as_of_day, horizon_days)
    counts = _counts(table)
    if verdict in (DataVerdict.NOT_BACKTESTED, DataVerdict.TOO_SHORT_HISTORY):
        history = as_of_day - int(table.day.min())
        counts = dataclasses.replace(counts, history_days=history,
                                     backtest_needs_days=backtest_needs_days(
                                         table.day[table.start], as_of_day, horizon_days))
    if verdict is DataVerdict.NOT_BACKTESTED:
        from .unbacktested import fit_unbacktested  # it builds on this module's helpers

        sample = _sample(table, sample_size, seed)
        return fit_unbacktested(sample, as_of_day, horizon_days, counts, clock, previous)
    if verdict is not DataVerdict.ENOUGH:
        return FitResult(verdict, None, [], counts, clock.durations())
    sample = _sample(table, sample_size, seed)
    cutoff = as_of_day - horizon_days
    known = _Attributes(attributes)
    test = _backtest(sample, cutoff, as_of_day, horizon_days, clock, previous, attributes=known)
    production = _production(sample, test, as_of_day, horizon_days, clock, previous,
                             attributes=known)
    counts = dataclasses.replace(
        counts,
        fit_sample=len(sample.contact_ids),
        backtest_contacts=len(test.snap),
        backtest_one_time=int((test.snap.x == 0).sum()),
        backtest_buyers=int((test.actual > 0).sum()),
        covariate_backtest_training_rows=test.training_rows,
        covariate_backtest_window_days=test.window_days,
    )
    reports = _below_chance(_reports(test, production))
    usable = {r.name: Candidate(bool(r.converged), r.metrics.brier) for r in reports}
    chosen = backtest.choose(usable) or _fallback(reports)
    btyd = backtest.choose({k: usable[k] for k in BTYD}) or "bgnbd"
    state = FittedState(
        bgnbd=production.fits["bgnbd"],
        paretonbd=production.fits["paretonbd"],
        gammagamma=production.gammagamma,
        covariate=production.covariate,
        baseline=production.baseline,
        mean_spend=production.mean_spend,
        btyd=btyd,
    )
    fitted = FittedModels(int(horizon_days), int(as_of_day), chosen, state,
                          chosen_one_time=_choose_one_time(reports, chosen))
    return FitResult(verdict, fitted, reports, counts, clock.durations())


def _verdict(table: PurchaseTable, as_of: int, horizon: int) -> DataVerdict:
    if not len(table.contact_ids):
        return DataVerdict.NO_PURCHASES
    if len(table.contact_ids) < MIN_BUYERS:
        return DataVerdict.TOO_FEW_BUYERS
    history = as_of - int(table.day.min())
    if backtest_needs_days(table.day[table.start], as_of, horizon) > 0:
        repeat_buyers = int((np.diff(np.r_[table.start, len(table.day)]) > 1).sum())
        if history >= MIN_FIT_HISTORY_DAYS and repeat_buyers >= MIN_REPEAT_BUYERS:
            return DataVerdict.NOT_BACKTESTED
        return DataVerdict.TOO_SHORT_HISTORY
    return DataVerdict.ENOUGH


def backtest_needs_days(first_days: np.ndarray, as_of: int, horizon_days: int) -> int:
    """How many more days of purchase history a backtest needs (0: it has enough), from each
    contact's first purchase day: at least MIN_HISTORY_DAYS, more than the horizon so that a
    complete window (as_of - h, as_of] fits, and MIN_BUYERS contacts who had bought by its
    cutoff as_of - h (on fewer, its fits and figures would mean little)."""
    first = np.asarray(first_days, dtype=np.int64)
    earliest = int(first.min())
    nth = min(MIN_BUYERS, len(first)) - 1
    enough = int(np.partition(first, nth)[nth])  # the day the MIN_BUYERS-th contact first bought
    ready = max(earliest + MIN_HISTORY_DAYS, earliest + horizon_days + 1, enough + horizon_days)
    return max(ready - int(as_of), 0)


def _counts(table: PurchaseTable) -> FitCounts:
    days = np.diff(np.r_[table.start, len(table.day)])
    one_time = int((days == 1).sum())
    return FitCounts(
        contacts=len(table.contact_ids),
        one_time=one_time,
        repeat=len(table.contact_ids) - one_time,
        purchase_days=len(table.day),
    )


def _sample(table: PurchaseTable, size: int | None, seed: int) -> PurchaseTable:
    n = len(table.contact_ids)
    if size is None or n <= size:
        return table
    picked = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    return _subset(table, picked)


class _Fits(TypedDict):
    """The two BTYD fits, each of its own type."""

    bgnbd: BgNbdParams
    paretonbd: ParetoNbdParams


@dataclass(frozen=True, slots=True)
class _Backtest:
    """Models fitted (trained) up to the cutoff and how they did in (cutoff, as_of]."""

    snap: Snapshot  # contacts known at the cutoff
    actual: np.ndarray  # their purchase days in the window
    fits: _Fits
    covariate: CovariateModel
    finite: dict[str, bool]  # model name -> its predictions were all finite
    bgnbd_p: np.ndarray  # BG/NBD P(buy) per snapshot contact
    metrics: dict[str, WindowMetrics]  # model name -> its figures on the window
    training_rows: int  # the covariate model's training window: contacts
    window_days: int  # and length
    train_inputs: CovariateInputs | None = None  # that window's rows: features at its start
    train_bought: np.ndarray | None = None  # and whether they bought in it
    attributes: Attributes | None = None  # snap's contacts' attributes at the cutoff


def _backtest(table: PurchaseTable, cutoff: int, as_of: int, horizon: int, clock,
              previous: ParetoNbdParams | None = None, *,
              attributes: "_Attributes | None" = None) -> _Backtest:
    """Fit at cutoff, train the covariate model before it, predict (cutoff, as_of]."""
    snap = snapshot_at(table, cutoff)
    actual = purchase_days_between(table, snap, cutoff, as_of)
    bg = bgnbd.fit_bgnbd(snap.x, snap.t_x, snap.T)
    clock.lap("backtest_fit_bgnbd")
    pn = fit_paretonbd_at(snap, previous)
    clock.lap("backtest_fit_paretonbd")
    preds = {"bgnbd": btyd_predictions(bg, horizon, snap)}
    preds["paretonbd"] = btyd_predictions(pn, horizon, snap)
    train_snap, train_start, window = training_window(table, cutoff, horizon)
    train_bought = purchase_days_between(table, train_snap, train_start, cutoff) > 0
    known = attributes or _Attributes(None)
    train_bg = bgnbd.fit_bgnbd(train_snap.x, train_snap.t_x, train_snap.T)
    train_p = btyd_predictions(train_bg, window, train_snap).p_buy
    train_inputs = _covariate_inputs(train_snap, train_p,
                                     known.at(table, train_snap, train_start))
    strength = _regularisation(table, train_start, window, train_inputs, train_bought, known)
    model = covariate.train(train_inputs, train_bought, window_days=window,
                            regularisation=strength)
    clock.lap("backtest_train_covariate")
    test_attributes = known.at(table, snap, cutoff)
    preds["covariate"] = Predictions(p_buy=covariate.predict(
        model, _covariate_inputs(snap, preds["bgnbd"].p_buy, test_attributes)))
    rates = baseline_rates(train_snap, train_bought)
    preds["baseline"] = Predictions(p_buy=_baseline_p(rates, snap))
    metrics = {
        name: backtest.window_metrics(
            np.clip(np.nan_to_num(p.p_buy), 0, 1), p.expected, actual, snap.x == 0
        )
        for name, p in preds.items()
    }
    clock.lap("backtest_metrics")
    return _Backtest(
        snap=snap,
        actual=actual,
        fits={"bgnbd": bg, "paretonbd": pn},
        covariate=model,
        finite={name: predictions_finite(p) for name, p in preds.items()},
        bgnbd_p=preds["bgnbd"].p_buy,
        metrics=metrics,
        training_rows=len(train_snap),
        window_days=int(window),
        train_inputs=train_inputs,
        train_bought=train_bought,
        attributes=test_attributes,
    )


def _regularisation(table: PurchaseTable, start: int, window: int, inputs: covariate.Inputs,
                    bought: np.ndarray, known: "_Attributes") -> float:
    """C for a model trained on the window starting at `start`: the best at predicting that
    window from the window before it (features at start - window); the default when there is
    no earlier window."""
    earlier = start - window
    snap = snapshot_at(table, earlier)
    if len(snap) < covariate.MIN_TRAINING_ROWS:
        return covariate.REGULARISATION_C
    was_bought = purchase_days_between(table, snap, earlier, start) > 0
    bg = bgnbd.fit_bgnbd(snap.x, snap.t_x, snap.T)
    earlier_inputs = _covariate_inputs(snap, btyd_predictions(bg, window, snap).p_buy,
                                       known.at(table, snap, earlier))
    return covariate.choose_regularisation(earlier_inputs, was_bought, inputs, bought)


def fit_paretonbd_at(snap: Snapshot, previous: ParetoNbdParams | None = None) -> ParetoNbdParams:
    """Pareto/NBD on nested random samples of the snapshot (fixed seed), at most PARETO_SAMPLE
    contacts, starting from the previous run's parameters when given: see
    paretonbd.fit_paretonbd_nightly for the rule that picks the sample size."""
    return paretonbd.fit_paretonbd_nightly(
        snap.x, snap.t_x, snap.T, start=previous, most=PARETO_SAMPLE
    )


def paretonbd_start(fitted: dict | None) -> ParetoNbdParams | None:
    """The Pareto/NBD parameters of a stored run (ScoringRun.fitted, FittedModels.to_json()) as
    the next run's starting point: None unless that fit converged to finite positive values.
    Reads only that model's entry, so runs stored by older code still serve."""
    try:
        data = fitted["state"]["paretonbd"]  # type: ignore[index]
        params = ParetoNbdParams(**_params_fields(data, ("r", "alpha", "s", "beta")))
        values = [float(v) for v in (params.r, params.alpha, params.s, params.beta)]
    except (KeyError, TypeError, ValueError):
        return None
    if params.converged is not True or not all(math.isfinite(v) and v > 0 for v in values):
        return None
    return params


def training_window(table: PurchaseTable, cutoff: int, horizon: int):
    """(snapshot, start, length) of the newest complete window ending at cutoff.

    Normally features at cutoff - h and labels in (cutoff - h, cutoff]; if fewer than
    covariate.MIN_TRAINING_ROWS contacts had bought by cutoff - h, the window starts halfway
    between the first purchase in the data and cutoff instead (shorter than h).
    """
    start = cutoff - horizon
    snap = snapshot_at(table, start)
    if len(snap) >= covariate.MIN_TRAINING_ROWS:
        return snap, start, horizon
    first = int(table.day.min())
    start = first + max((cutoff - first) // 2, 0)
    return snapshot_at(table, start), start, max(cutoff - start, 1)


@dataclass(frozen=True, slots=True)
class _Production:
    """The models fitted (trained) on everything up to as_of."""

    fits: _Fits
    gammagamma: GammaGammaParams
    covariate: CovariateModel
    baseline: BaselineRates
    mean_spend: float
    finite: dict[str, bool]  # "bgnbd", "paretonbd" -> its predictions at as_of were finite


def _production(table: PurchaseTable, test: _Backtest, as_of: int, horizon: int, clock,
                previous: ParetoNbdParams | None = None, *,
                attributes: "_Attributes | None" = None) -> _Production:
    """Fit on everything up to as_of; retrain the covariate model on the newest window."""
    now = snapshot_at(table, as_of)
    bg = bgnbd.fit_bgnbd(now.x, now.t_x, now.T)
    clock.lap("fit_bgnbd")
    pn = fit_paretonbd_at(now, previous)
    clock.lap("fit_paretonbd")
    gg = gammagamma.fit_gammagamma(now.x, now.repeat_spend)
    clock.lap("fit_gammagamma")
    bought = test.actual > 0
    inputs = _covariate_inputs(test.snap, test.bgnbd_p, test.attributes)
    strength = covariate.REGULARISATION_C
    if test.train_inputs is not None:  # judged on the backtest window, trained before it
        strength = covariate.choose_regularisation(test.train_inputs, test.train_bought, inputs,
                                                   bought)
    model = covariate.train(inputs, bought, window_days=horizon, regularisation=strength)
    clock.lap("train_covariate")
    finite = {
        "bgnbd": predictions_finite(btyd_predictions(bg, horizon, now)),
        "paretonbd": predictions_finite(btyd_predictions(pn, horizon, now)),
    }
    clock.lap("check_predictions")
    return _Production(
        fits={"bgnbd": bg, "paretonbd": pn},
        gammagamma=gg,
        covariate=model,
        baseline=baseline_rates(test.snap, bought),
        mean_spend=float(now.mean_spend.mean()) if len(now) else 0.0,
        finite=finite,
    )


def _reports(test: _Backtest, production: _Production) -> list[ModelReport]:
    reports = []
    name: Literal["bgnbd", "paretonbd"]
    for name, names in (("bgnbd", ("r", "alpha", "a", "b")),
                        ("paretonbd", ("r", "alpha", "s", "beta"))):
        fitted, tested = production.fits[name], test.fits[name]
        usable = (fitted.converged and tested.converged and production.finite[name]
                  and test.finite[name])
        reason = fitted.reason if not fitted.converged else tested.reason
        if fitted.converged and tested.converged and not usable:
            reason = FitOutcome.NOT_FINITE
        reports.append(
            ModelReport(
                name=name,
                params=params_json(fitted, names),
                log_likelihood=json_float(fitted.log_likelihood),
                converged=bool(usable),
                reason=str(reason.value),
                metrics=test.metrics[name],
            )
        )
    model, tested_model = production.covariate, test.covariate
    usable = model.converged and tested_model.converged and test.finite["covariate"]
    reports.append(
        ModelReport(
            name="covariate",
            params=model.to_json(),
            log_likelihood=None,
            converged=bool(usable),
            reason=model.reason if not model.converged else tested_model.reason,
            metrics=test.metrics["covariate"],
        )
    )
    reports.append(
        ModelReport(
            name="baseline",
            params=production.baseline.to_json(),
            log_likelihood=None,
            converged=True,
            reason="converged",
            metrics=test.metrics["baseline"],
        )
    )
    return reports


BELOW_CHANCE = "auc_below_chance"


def _below_chance(reports: list[ModelReport]) -> list[ModelReport]:
    """A model that ranked the backtest window worse than a coin (AUC, overall or among
    one-time buyers, below 0.5) is never used: its report says so (reason BELOW_CHANCE)."""
    marked = []
    for report in reports:
        aucs = (report.metrics.auc, report.metrics.auc_one_time)
        if report.converged and any(a is not None and a < 0.5 for a in aucs):
            report = dataclasses.replace(report, converged=False, reason=BELOW_CHANCE)
        marked.append(report)
    return marked


def _choose_one_time(reports: list[ModelReport], chosen: str) -> str | None:
    """The usable model with the lowest Brier score among one-time buyers, if it is not
    `chosen` and it ranks them (one-time AUC above 0.5: a flat rate does not); else None.

    Why apart: the overall Brier score is mostly the repeat buyers', where BG/NBD and
    Pareto/NBD are at home; one-time buyers are where what the first order says matters."""
    best, best_score = None, np.inf
    for report in reports:
        m = report.metrics
        score = m.brier_one_time
        if not report.converged or score is None or not np.isfinite(score):
            continue
        if m.auc_one_time is None or m.auc_one_time <= 0.5:
            continue
        if score < best_score - 1e-12:
            best, best_score = report.name, score
    chosen_report = next((r for r in reports if r.name == chosen), None)
    if best is None or best == chosen or chosen_report is None:
        return None
    current = chosen_report.metrics.brier_one_time
    if current is not None and np.isfinite(current) and best_score >= current - 1e-12:
        return None
    return best


def _fallback(reports: list[ModelReport]) -> str:
    """The model used when none qualifies: BG/NBD (finite even at a boundary fit) unless it
    ranked below chance, then the baseline rates."""
    below = {r.name for r in reports if r.reason == BELOW_CHANCE}
    return "baseline" if "bgnbd" in below and "baseline" not in below else "bgnbd"


def params_json(params, names: tuple[str, ...]) -> dict:
    data: dict[str, float | bool | str | None] = {
        name: float(getattr(params, name)) for name in names}
    data.update(
        converged=bool(params.converged),
        reason=str(params.reason.value),
        log_likelihood=json_float(params.log_likelihood),
    )
    return data


def _params_fields(data: dict, names: tuple[str, ...]) -> dict:
    """The keyword arguments of a *Params dataclass from its params_json()."""
    log_likelihood = data.get("log_likelihood")
    return {
        **{name: data[name] for name in names},
        "converged": data["converged"],
        "reason": FitOutcome(data["reason"]),
        "log_likelihood": math.nan if log_likelihood is None else log_likelihood,
    }


def json_float(value) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


class _Clock:
    def __init__(self):
        self._start = self._last = time.perf_counter()
        self._laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self._laps[stage] = self._laps.get(stage, 0.0) + now - self._last
        self._last = now

    def durations(self) -> dict[str, float]:
        return {**self._laps, "total": time.perf_counter() - self._start}


# --- score ---------------------------------------------------------------------------------


def score(fitted: FittedModels, rows: DayRows, *, as_of_day: int | None = None,
          attributes: Attributes | None = None) -> ContactScores:
    """Score every contact that has rows on or before as_of_day (default fitted.as_of_day) with
    the fitted models, no refit. Each contact's scores depend on its own rows (and attributes,
    as of the same day) only, so chunks of contacts (or one contact) give the same numbers as a
    full run."""
    as_of = fitted.as_of_day if as_of_day is None else int(as_of_day)
    table = _table(rows, as_of)
    snap = snapshot_at(table, as_of)
    contact_ids = table.contact_ids[snap.index]
    del table  # the row-level arrays are no longer needed: frees most of the memory early
    state, horizon = fitted.state, fitted.horizon_days
    bg_preds = btyd_predictions(state.bgnbd, horizon, snap, year=state.btyd == "bgnbd")
    btyd_preds = bg_preds
    if state.btyd == "paretonbd":
        btyd_preds = btyd_predictions(state.paretonbd, horizon, snap, year=True)
    known = None if attributes is None else attributes.take(contact_ids)
    p_buy = _p_buy(fitted, snap, bg_preds, btyd_preds, known)
    if fitted.chosen_one_time not in (None, fitted.chosen):
        one_time = snap.x == 0
        p_buy = np.where(one_time, _p_buy(fitted, snap, bg_preds, btyd_preds, known,
                                          name=fitted.chosen_one_time), p_buy)
    p_buy = _clean(p_buy)
    spend = _expected_spend(state, snap)
    # A BTYD model's predictions have every field; expected_year since it was asked for above.
    assert btyd_preds.p_alive is not None and btyd_preds.expected is not None
    assert btyd_preds.expected_year is not None
    expected_year = _clean(btyd_preds.expected_year, upper=np.inf)
    active = alive.shown(state.paretonbd, snap.x, snap.t_x, snap.T, p_buy, spend,
                         p_alive=btyd_preds.p_alive if state.btyd == "paretonbd" else None)
    return ContactScores(
        contact_ids=contact_ids,
        p_buy_again=p_buy,
        p_alive=active.p_alive,
        expected_purchases=_clean(btyd_preds.expected, upper=np.inf),
        expected_value=spend,
        predicted_value_12m=expected_year * spend,
        frequency=snap.x.astype(np.int64),
        recency_days=snap.t_x.astype(np.int64),
        age_days=snap.T.astype(np.int64),
        value_if_active_12m=active.value_if_active_year,
    )


def _p_buy(
    fitted: FittedModels, snap: Snapshot, bg_preds: Predictions, btyd_preds: Predictions,
    attributes: Attributes | None = None, name: str | None = None,
) -> np.ndarray:
    """P(buy) from the model `name` (default: the chosen one)."""
    state = fitted.state
    name = fitted.chosen if name is None else name
    if name == "covariate":
        return covariate.predict(state.covariate,
                                 _covariate_inputs(snap, _clean(bg_preds.p_buy), attributes))
    if name == "baseline":
        return _baseline_p(state.baseline, snap)
    if name == "paretonbd" and state.btyd != "paretonbd":
        return btyd_predictions(state.paretonbd, fitted.horizon_days, snap).p_buy
    return (bg_preds if name == "bgnbd" else btyd_preds).p_buy


def _expected_spend(state: FittedState, snap: Snapshot) -> np.ndarray:
    """Gamma-Gamma E[spend | x, m_x]; where that has no finite value, the contact's own repeat
    mean (x > 0) or the population mean spend per purchase day."""
    params = state.gammagamma
    with np.errstate(all="ignore"):
        spend = gammagamma.conditional_expected_spend(params, snap.x, snap.repeat_spend)
    fallback = np.where(snap.x > 0, snap.repeat_spend, state.mean_spend)
    good = np.isfinite(spend) & (spend >= 0) & bool(params.converged)
    return np.where(good, spend, fallback)


def _clean(values: np.ndarray, upper: float = 1.0) -> np.ndarray:
    """Finite and within [0, upper]: NaN -> 0, above upper -> upper (a last line of defence)."""
    return np.clip(np.nan_to_num(values, nan=0.0, posinf=upper, neginf=0.0), 0.0, upper)


# --- explanations --------------------------------------------------------------------------


def explain(frequency, recency_days, age_days, first_spend, p_buy_again) -> list[tuple[str, dict]]:
    """Driver codes with their values for one contact, the strongest first.

    A simple, honest reading of what the purchase models react to: how often they bought, how
    long ago relative to their usual gap, how long they have been a customer, and for one-time
    buyers the first order value. Weights are rough log-ratios, only used to order the codes.
    """
    x, t_x, age = int(frequency), int(recency_days), int(age_days)
    since_last = max(age - t_x, 0)
    p = float(p_buy_again)
    if x == 0:
        return [
            ("never_returned", {"days": age, "p_buy_again": p}),
            ("first_order_value", {"amount": float(first_spend)}),
            ("customer_for_days", {"days": age}),
        ]
    gap = t_x / x  # their usual days between purchase days
    overdue = math.log((since_last + 1) / (gap + 1))
    drivers = [
        (math.log1p(x), ("bought_on_days", {"count": x + 1})),
        (abs(overdue), ("days_since_last", {"days": since_last, "usual_gap_days": round(gap),
                                            "overdue": overdue > 0})),
        (0.1, ("customer_for_days", {"days": age})),
    ]
    drivers.sort(key=lambda item: -item[0])
    return [driver for _, driver in drivers]


# Purchase-history columns of the covariate model -> the driver code they are worded as.
_HISTORY_DRIVERS = {
    "log_repeat_days": "bought_on_days",
    "one_time": "bought_on_days",
    "recency_share": "days_since_last",
    "log_days_since_last": "days_since_last",
    "log_age": "customer_for_days",
    "one_time_log_age": "customer_for_days",
    "log_first_spend": "first_order_value",
    "one_time_log_first_spend": "first_order_value",
    "log_mean_spend": "first_order_value",
    "log_first_items": "first_items",
    "one_time_log_first_items": "first_items",
    "log_mean_items": "first_items",
    "first_coupon": "first_coupon",
    "one_time_first_coupon": "first_coupon",
    "coupon_share": "first_coupon",
    "second_share": "days_to_second",
}


def covariate_drivers(fitted: FittedModels, rows: DayRows, *, as_of_day: int | None = None,
                      attributes: Attributes | None = None,
                      limit: int = 3) -> list[tuple[str, dict]]:
    """The main drivers of one contact's covariate-model number, strongest first, as
    (code, values) like explain(): each feature's contribution to the logit relative to an
    average contact (covariate.drivers), summed over the columns of one fact (a channel's
    one-hot and its one_time interaction are one fact). Codes: the purchase-history ones of
    explain(), "first_items", "first_coupon", "days_to_second", and ("attribute", {"name",
    "value"}) for an attribute (categorical values are level codes). [] when the covariate
    model is not the one in use or the contact has no purchase by then."""
    if not fitted.state.covariate.converged:
        return []
    as_of = fitted.as_of_day if as_of_day is None else int(as_of_day)
    table = _table(rows, as_of)
    snap = snapshot_at(table, as_of)
    if len(snap) != 1 or fitted.model_for(bool(snap.x[0] == 0)) != "covariate":
        return []
    known = None if attributes is None else attributes.take(table.contact_ids[snap.index])
    bg = btyd_predictions(fitted.state.bgnbd, fitted.horizon_days, snap)
    inputs = _covariate_inputs(snap, _clean(bg.p_buy), known)
    model = fitted.state.covariate
    contributions = covariate.drivers(model, inputs)[0]
    one_time = snap.x[0] == 0
    totals: dict[str, float] = {}
    for name, value in zip(model.features, contributions, strict=True):
        source = covariate.feature_source(name)
        if source == "bgnbd_logit":
            source = "customer_for_days" if one_time else "days_since_last"
        code = _HISTORY_DRIVERS.get(source, source)
        totals[code] = totals.get(code, 0.0) + float(value)
    ranked = sorted(totals.items(), key=lambda item: -abs(item[1]))
    x, t_x, age = int(snap.x[0]), int(snap.t_x[0]), int(snap.T[0])
    history: dict[str, dict] = {
        "bought_on_days": {"count": x + 1},
        "days_since_last": {"days": age - t_x, "usual_gap_days": round(t_x / x) if x else None,
                            "overdue": False},
        "customer_for_days": {"days": age},
        "first_order_value": {"amount": float(snap.first_spend[0])},
        "first_items": {"count": int(snap.first_items[0])},
        "first_coupon": {"used": bool(snap.first_coupon[0])},
        "days_to_second": {"days": int(snap.days_to_second[0])},
    }
    if one_time:
        history["bought_on_days"] = {"days": age}
        history.pop("days_to_second")
    drivers: list[tuple[str, dict]] = []
    for code, total in ranked:
        if len(drivers) >= limit or abs(total) < 1e-9:
            break
        if code in history:
            name = "never_returned" if code == "bought_on_days" and one_time else code
            drivers.append((name, {**history[code], "effect": total}))
        elif known is not None and code in known.categorical:
            drivers.append(("attribute", {"name": code, "value": int(known.categorical[code][0]),
                                          "effect": total}))
        elif known is not None and code in known.numeric:
            value = float(known.numeric[code][0])
            drivers.append(("attribute", {"name": code, "value": value if math.isfinite(value)
                                          else None, "effect": total}))
    return drivers
