"""Covariate model for P(buy again within h days): logistic regression on what we know at scoring
time, trained on the contacts' own history with a time-based split.

Why: BG/NBD sees only (x, t_x, T), so among one-time buyers (x = 0, t_x = 0) it ranks by age
alone. This model adds first and average order value, items, coupon use and the BG/NBD
prediction itself, and learns their weights from what contacts really did.

Time split (never any information from after a cutoff):
  * training rows are contacts as of a training cutoff c (features from purchases <= c), the
    label is "bought on some day in (c, c + L]" and the BG/NBD feature comes from a BG/NBD fit on
    purchases <= c with horizon L;
  * for the backtest (pipeline.py) c = as_of - 2h, L = h (labels end at the backtest cutoff);
    for production c = as_of - h, L = h (the newest complete window), applied at as_of.
The time-split trap: rows at an earlier cutoff are younger customers, so features are chosen to
mean the same at every cutoff (the BG/NBD probability for the same horizon, recency relative to
age, order values) and the model is log-linear (age enters as log(1 + age)), so it extrapolates
smoothly instead of a tree's flat steps. Whether this beats BG/NBD is left to the backtest.

Calibration: maximum-likelihood logistic regression is calibrated on its training window (its
mean prediction equals the observed rate); out-of-time calibration is measured by the backtest's
deciles, and the pipeline only uses this model when it wins on Brier score there.

Training uses scikit-learn (imported lazily); prediction is numpy only, from coefficients that
round-trip through JSON.
"""

from dataclasses import asdict, dataclass

import numpy as np

FEATURES = (
    "bgnbd_logit",  # logit of BG/NBD P(buy in L days) fitted at the same cutoff
    "log_repeat_days",  # log(1 + x)
    "recency_share",  # t_x / T: how late in their life they last bought (0 for x = 0)
    "log_days_since_last",  # log(1 + T - t_x)
    "log_age",  # log(1 + T)
    "log_first_spend",
    "log_first_items",
    "log_mean_spend",  # mean spend per purchase day, all days
    "log_mean_items",
    "coupon_share",  # share of purchase days with a coupon
    "first_coupon",
    "one_time",
    "one_time_log_first_spend",  # first order value matters most when it is all we know
    "one_time_log_age",
)
REGULARISATION_C = 1.0  # inverse L2 strength on standardised features (sklearn's default)
MIN_TRAINING_ROWS = 50
MIN_CLASS_ROWS = 5  # buyers and non-buyers each
_P_CLIP = 1e-6


@dataclass(frozen=True)
class Inputs:
    """Per-contact facts as of one cutoff (all arrays aligned, days as the time unit)."""

    frequency: np.ndarray  # x: repeat purchase days
    recency: np.ndarray  # t_x in days
    age: np.ndarray  # T in days
    first_spend: np.ndarray
    first_items: np.ndarray
    mean_spend: np.ndarray  # per purchase day, all days
    mean_items: np.ndarray
    coupon_share: np.ndarray
    first_coupon: np.ndarray
    bgnbd_p: np.ndarray  # BG/NBD P(buy in the horizon), same cutoff


@dataclass(frozen=True)
class CovariateModel:
    """A trained model: standardisation, coefficients, and how training went."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    window_days: int
    training_rows: int
    training_buyers: int
    converged: bool
    reason: str  # "converged", "not_converged", "too_little_training_data"

    def to_json(self) -> dict:
        data = asdict(self)
        data["features"] = list(self.features)
        for key in ("mean", "scale", "coef"):
            data[key] = [float(v) for v in data[key]]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "CovariateModel":
        fields = dict(data)
        for key in ("features", "mean", "scale", "coef"):
            fields[key] = tuple(fields[key])
        return cls(**fields)


def design(inputs: Inputs) -> np.ndarray:
    """The feature matrix (rows = contacts, columns = FEATURES), always finite."""
    x = np.asarray(inputs.frequency, dtype=float)
    t_x = np.asarray(inputs.recency, dtype=float)
    age = np.asarray(inputs.age, dtype=float)
    one_time = (x == 0).astype(float)
    p = np.nan_to_num(np.asarray(inputs.bgnbd_p, dtype=float), nan=0.5)
    p = np.clip(p, _P_CLIP, 1 - _P_CLIP)
    log_first_spend = _log1p_pos(inputs.first_spend)
    log_age = np.log1p(np.maximum(age, 0))
    columns = [
        np.log(p) - np.log1p(-p),
        np.log1p(x),
        np.where(age > 0, t_x / np.maximum(age, 1e-12), 0.0),
        np.log1p(np.maximum(age - t_x, 0)),
        log_age,
        log_first_spend,
        np.log(np.maximum(np.asarray(inputs.first_items, dtype=float), 1.0)),
        _log1p_pos(inputs.mean_spend),
        np.log(np.maximum(np.asarray(inputs.mean_items, dtype=float), 1.0)),
        np.clip(np.asarray(inputs.coupon_share, dtype=float), 0, 1),
        np.asarray(inputs.first_coupon, dtype=float),
        one_time,
        one_time * log_first_spend,
        one_time * log_age,
    ]
    return np.nan_to_num(np.column_stack(columns), nan=0.0, posinf=0.0, neginf=0.0)


def train(inputs: Inputs, bought, *, window_days: int) -> CovariateModel:
    """Fit the L2-regularised logistic regression of `bought` (0/1) on design(inputs).

    Too few rows or too few buyers/non-buyers gives an unusable model (converged False, reason
    "too_little_training_data") instead of an error.
    """
    X = design(inputs)
    y = np.asarray(bought, dtype=bool).ravel()
    n1 = int(y.sum())
    if len(y) < MIN_TRAINING_ROWS or min(n1, len(y) - n1) < MIN_CLASS_ROWS:
        return _unusable(window_days, len(y), n1)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)  # constant columns carry no weight
    coef, intercept, converged = _logistic((X - mean) / scale, y)
    usable = converged and np.isfinite(coef).all() and np.isfinite(intercept)
    return CovariateModel(
        features=FEATURES,
        mean=tuple(map(float, mean)),
        scale=tuple(map(float, scale)),
        coef=tuple(map(float, np.nan_to_num(coef))),
        intercept=float(np.nan_to_num(intercept)),
        window_days=int(window_days),
        training_rows=len(y),
        training_buyers=n1,
        converged=bool(usable),
        reason="converged" if usable else "not_converged",
    )


def predict(model: CovariateModel, inputs: Inputs) -> np.ndarray:
    """P(buy within the model's window) per contact, in [0, 1] (numpy only)."""
    X = design(inputs)
    z = np.full(len(X), model.intercept)
    # column by column, not a matrix product: a contact's number then does not depend on how
    # many others are scored with it (BLAS rounds differently by batch size), and no copy of X
    for j, (mean, scale, coef) in enumerate(zip(model.mean, model.scale, model.coef, strict=True)):
        z += (X[:, j] - mean) / scale * coef
    return _expit(z)


def drivers(model: CovariateModel, inputs: Inputs) -> np.ndarray:
    """Each feature's contribution to the logit, relative to an average contact: (n, features)."""
    X = design(inputs)
    return (X - np.asarray(model.mean)) / np.asarray(model.scale) * np.asarray(model.coef)


def _logistic(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, bool]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=REGULARISATION_C, max_iter=1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fitted.fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return fitted.coef_[0].astype(float), float(fitted.intercept_[0]), converged


def _unusable(window_days: int, rows: int, buyers: int) -> CovariateModel:
    n = len(FEATURES)
    return CovariateModel(
        features=FEATURES,
        mean=(0.0,) * n,
        scale=(1.0,) * n,
        coef=(0.0,) * n,
        intercept=0.0,
        window_days=int(window_days),
        training_rows=rows,
        training_buyers=buyers,
        converged=False,
        reason="too_little_training_data",
    )


def _log1p_pos(values) -> np.ndarray:
    return np.log1p(np.maximum(np.nan_to_num(np.asarray(values, dtype=float)), 0.0))


def _expit(z: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return np.clip(expit(z), 0.0, 1.0)
