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

Beyond purchases (issue #18): Inputs.attributes carries what else the shop knows as of the same
cutoff (attributes.py: first-purchase channel and source, survey score, support cases, website
events, email engagement, ...). Numeric attributes enter as sign-preserving log(1 + |v|) with an
"unknown" indicator; categorical ones one-hot, levels seen in fewer than MIN_LEVEL_ROWS training
rows (or MIN_LEVEL_SHARE of them) pooled into "other"; every attribute column also enters
interacted with one_time (what the first order says matters most when it is all we know). The
column names carry the encoding ("num:survey_score", "cat:channel=2", "cat:channel=other",
"one_time*..."), so a stored model rebuilds its design from its own feature list.

Regularisation: L2 on standardised columns, its strength C picked from REGULARISATION_GRID by
choose_regularisation(): trained on an earlier window, judged by log loss on the next one (the
pipeline never judges on the window it reports).

Training uses scikit-learn (imported lazily); prediction is numpy only, from coefficients that
round-trip through JSON.
"""

from dataclasses import asdict, dataclass

import numpy as np

from .attributes import UNKNOWN, Attributes

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
    # days from the first to the second purchase day / T (0 for x = 0): relative, like
    # recency_share, so it means the same at every cutoff (log days to second lost 0.002 Brier
    # on CDNOW's 39-week backtest, whose training window is younger)
    "second_share",
    "one_time_first_coupon",
    "one_time_log_first_items",
)
REGULARISATION_C = 1.0  # inverse L2 strength on standardised features (sklearn's default)
# Candidates for choose_regularisation(). Not weaker than 0.03: on CDNOW's 2,357 contacts the
# earlier window preferred 0.003, which shrank the model to its training window's base rate and
# lost to BG/NBD on the next window (0.0846 against 0.0826 Brier at 0.03).
REGULARISATION_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
SELECTION_ROWS = 50_000  # choose_regularisation trains and judges on at most this many rows
MIN_LEVEL_ROWS = 20  # a categorical level seen less often in training is pooled into "other"
MIN_LEVEL_SHARE = 0.002  # ... or in less than this share of the training rows
OTHER = "other"
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
    days_to_second: np.ndarray | None = None  # first to second purchase day (0 if none yet)
    attributes: Attributes | None = None  # aligned with the rows above, same cutoff


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
    regularisation: float = REGULARISATION_C  # the C it was trained with

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


def design(inputs: Inputs, features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """The feature matrix (rows = contacts, columns = features), always finite.

    `features`: a model's own list (its attribute columns included); the default is the
    purchase-history columns only.
    """
    columns = list(_columns(inputs, features))
    if not columns:
        return np.zeros((len(np.asarray(inputs.frequency)), 0))
    return np.column_stack(columns)


def _columns(inputs: Inputs, features: tuple[str, ...]):
    """design()'s columns one at a time, each finite (predict() never holds them all)."""
    base = _base_columns(inputs)
    one_time = base["one_time"]
    attributes = inputs.attributes
    kept = _kept_levels(features)
    for name in features:
        inner = name.removeprefix("one_time*")
        if inner in base:
            column = base[inner]
        elif attributes is None:
            column = np.zeros(len(one_time))
        else:
            column = _attribute_column(attributes, inner, kept)
        column = column * one_time if inner != name else column
        yield np.nan_to_num(column, nan=0.0, posinf=0.0, neginf=0.0)


def _base_columns(inputs: Inputs) -> dict[str, np.ndarray]:
    x = np.asarray(inputs.frequency, dtype=float)
    t_x = np.asarray(inputs.recency, dtype=float)
    age = np.asarray(inputs.age, dtype=float)
    one_time = (x == 0).astype(float)
    p = np.nan_to_num(np.asarray(inputs.bgnbd_p, dtype=float), nan=0.5)
    p = np.clip(p, _P_CLIP, 1 - _P_CLIP)
    log_first_spend = _log1p_pos(inputs.first_spend)
    log_first_items = np.log(np.maximum(np.asarray(inputs.first_items, dtype=float), 1.0))
    log_age = np.log1p(np.maximum(age, 0))
    first_coupon = np.asarray(inputs.first_coupon, dtype=float)
    second = (np.zeros(len(x)) if inputs.days_to_second is None else np.where(
        (x > 0) & (age > 0), np.asarray(inputs.days_to_second, dtype=float)
        / np.maximum(age, 1e-12), 0.0))
    return {
        "bgnbd_logit": np.log(p) - np.log1p(-p),
        "log_repeat_days": np.log1p(x),
        "recency_share": np.where(age > 0, t_x / np.maximum(age, 1e-12), 0.0),
        "log_days_since_last": np.log1p(np.maximum(age - t_x, 0)),
        "log_age": log_age,
        "log_first_spend": log_first_spend,
        "log_first_items": log_first_items,
        "log_mean_spend": _log1p_pos(inputs.mean_spend),
        "log_mean_items": np.log(np.maximum(np.asarray(inputs.mean_items, dtype=float), 1.0)),
        "coupon_share": np.clip(np.asarray(inputs.coupon_share, dtype=float), 0, 1),
        "first_coupon": first_coupon,
        "one_time": one_time,
        "one_time_log_first_spend": one_time * log_first_spend,
        "one_time_log_age": one_time * log_age,
        "second_share": np.clip(second, 0, 1),
        "one_time_first_coupon": one_time * first_coupon,
        "one_time_log_first_items": one_time * log_first_items,
    }


def attribute_features(attributes: Attributes | None) -> tuple[str, ...]:
    """The columns a model trained on these rows' attributes gets (rare levels pooled):
    for each, the column itself and its interaction with one_time."""
    if attributes is None:
        return ()
    n = len(attributes.contact_ids)
    names: list[str] = []
    for name in sorted(attributes.numeric):
        values = np.asarray(attributes.numeric[name], dtype=float)
        known = np.isfinite(values)
        if known.any() and np.ptp(values[known]) > 0:
            names.append(f"num:{name}")
        if known.any() and not known.all():
            names.append(f"num:{name}?")
    threshold = max(MIN_LEVEL_ROWS, MIN_LEVEL_SHARE * n)
    for name in sorted(attributes.categorical):
        levels, counts = np.unique(np.asarray(attributes.categorical[name], dtype=np.int64),
                                   return_counts=True)
        if len(levels) < 2:
            continue  # one level: no information
        frequent = levels[counts >= threshold]
        names.extend(f"cat:{name}={int(level)}" for level in frequent)
        if len(frequent) < len(levels):
            names.append(f"cat:{name}={OTHER}")
    return tuple(names) + tuple(f"one_time*{name}" for name in names)


def feature_source(name: str) -> str:
    """The attribute or purchase-history column a feature comes from ("cat:channel=3" and
    "one_time*cat:channel=other" -> "channel"; "num:survey_score?" -> "survey_score")."""
    inner = name.removeprefix("one_time*")
    if inner.startswith("num:"):
        return inner[4:].removesuffix("?")
    if inner.startswith("cat:"):
        return inner[4:].rsplit("=", 1)[0]
    return inner


def _kept_levels(features: tuple[str, ...]) -> dict[str, set[int]]:
    kept: dict[str, set[int]] = {}
    for name in features:
        inner = name.removeprefix("one_time*")
        if inner.startswith("cat:"):
            attribute, level = inner[4:].rsplit("=", 1)
            levels = kept.setdefault(attribute, set())
            if level != OTHER:
                levels.add(int(level))
    return kept


def _attribute_column(attributes: Attributes, name: str, kept: dict[str, set[int]]) -> np.ndarray:
    n = len(attributes.contact_ids)
    if name.startswith("num:"):
        values = attributes.numeric.get(name[4:].removesuffix("?"))
        if values is None:
            return np.zeros(n) if not name.endswith("?") else np.ones(n)
        values = np.asarray(values, dtype=float)
        if name.endswith("?"):
            return (~np.isfinite(values)).astype(float)
        return np.sign(values) * np.log1p(np.abs(np.nan_to_num(values, nan=0.0)))
    if name.startswith("cat:"):
        attribute, level = name[4:].rsplit("=", 1)
        values = attributes.categorical.get(attribute)
        if values is None:
            values = np.full(n, UNKNOWN, dtype=np.int64)
        values = np.asarray(values, dtype=np.int64)
        if level == OTHER:
            return (~np.isin(values, list(kept.get(attribute, ())))).astype(float)
        return (values == int(level)).astype(float)
    return np.zeros(n)  # a column this model does not know how to build: no weight


def train(inputs: Inputs, bought, *, window_days: int,
          regularisation: float = REGULARISATION_C) -> CovariateModel:
    """Fit the L2-regularised logistic regression of `bought` (0/1) on design(inputs) and the
    attribute columns of inputs.attributes (rare levels pooled); `regularisation` is C.

    Too few rows or too few buyers/non-buyers gives an unusable model (converged False, reason
    "too_little_training_data") instead of an error.
    """
    features = FEATURES + attribute_features(inputs.attributes)
    y = np.asarray(bought, dtype=bool).ravel()
    n1 = int(y.sum())
    if len(y) < MIN_TRAINING_ROWS or min(n1, len(y) - n1) < MIN_CLASS_ROWS:
        return _unusable(window_days, len(y), n1)
    X = design(inputs, features)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)  # constant columns carry no weight
    coef, intercept, converged = _logistic((X - mean) / scale, y, regularisation)
    usable = converged and np.isfinite(coef).all() and np.isfinite(intercept)
    return CovariateModel(
        features=features,
        mean=tuple(map(float, mean)),
        scale=tuple(map(float, scale)),
        coef=tuple(map(float, np.nan_to_num(coef))),
        intercept=float(np.nan_to_num(intercept)),
        window_days=int(window_days),
        training_rows=len(y),
        training_buyers=n1,
        converged=bool(usable),
        reason="converged" if usable else "not_converged",
        regularisation=float(regularisation),
    )


def choose_regularisation(train_inputs: Inputs, train_bought, valid_inputs: Inputs,
                          valid_bought) -> float:
    """The C of REGULARISATION_GRID whose model, trained on one window, has the lowest log loss
    on a later one (time-honest: the later window is never the one being reported on).
    REGULARISATION_C when either window is too small to tell."""
    y = np.asarray(valid_bought, dtype=bool).ravel()
    n1 = int(y.sum())
    if len(y) < MIN_TRAINING_ROWS or min(n1, len(y) - n1) < MIN_CLASS_ROWS:
        return REGULARISATION_C
    train_inputs, train_bought = _at_most(train_inputs, train_bought, SELECTION_ROWS)
    valid_inputs, y = _at_most(valid_inputs, y, SELECTION_ROWS)
    train_y = np.asarray(train_bought, dtype=bool).ravel()
    t1 = int(train_y.sum())
    if len(train_y) < MIN_TRAINING_ROWS or min(t1, len(train_y) - t1) < MIN_CLASS_ROWS:
        return REGULARISATION_C
    # what train() would do for each C, as one warm-started path from strong to weak
    features = FEATURES + attribute_features(train_inputs.attributes)
    X = design(train_inputs, features)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    V = (design(valid_inputs, features) - mean) / scale
    best, best_loss = REGULARISATION_C, np.inf
    for c, coef, intercept in _logistic_path((X - mean) / scale, train_y, REGULARISATION_GRID):
        p = np.clip(_expit(V @ coef + intercept), _P_CLIP, 1 - _P_CLIP)
        loss = -float(np.mean(np.where(y, np.log(p), np.log1p(-p))))
        if loss < best_loss - 1e-9:
            best, best_loss = c, loss
    return float(best)


def predict(model: CovariateModel, inputs: Inputs) -> np.ndarray:
    """P(buy within the model's window) per contact, in [0, 1] (numpy only)."""
    z = np.full(len(np.asarray(inputs.frequency)), float(model.intercept))
    # column by column, not a matrix product: a contact's number then does not depend on how
    # many others are scored with it (BLAS rounds differently by batch size), and no copy of X
    columns = _columns(inputs, model.features)
    for column, mean, scale, coef in zip(columns, model.mean, model.scale, model.coef,
                                         strict=True):
        z += (column - mean) / scale * coef
    return _expit(z)


def drivers(model: CovariateModel, inputs: Inputs) -> np.ndarray:
    """Each feature's contribution to the logit, relative to an average contact: (n, features)."""
    X = design(inputs, model.features)
    return (X - np.asarray(model.mean)) / np.asarray(model.scale) * np.asarray(model.coef)


def _logistic(X: np.ndarray, y: np.ndarray,
              regularisation: float = REGULARISATION_C) -> tuple[np.ndarray, float, bool]:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=regularisation, max_iter=1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fitted.fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return fitted.coef_[0].astype(float), float(fitted.intercept_[0]), converged


def _at_most(inputs: Inputs, bought, rows: int) -> tuple[Inputs, np.ndarray]:
    """A fixed random sample of at most `rows` rows (all of them when fewer)."""
    bought = np.asarray(bought, dtype=bool).ravel()
    if len(bought) <= rows:
        return inputs, bought
    keep = np.sort(np.random.default_rng(0).choice(len(bought), size=rows, replace=False))
    fields = {}
    for name in Inputs.__dataclass_fields__:
        value = getattr(inputs, name)
        if isinstance(value, Attributes):
            value = Attributes(value.contact_ids[keep],
                               {k: v[keep] for k, v in value.numeric.items()},
                               {k: v[keep] for k, v in value.categorical.items()})
        elif value is not None:
            value = np.asarray(value)[keep]
        fields[name] = value
    return Inputs(**fields), bought[keep]


def _logistic_path(X: np.ndarray, y: np.ndarray, grid):
    """(C, coef, intercept) for each C of the grid, strongest first, each fit warm-started from
    the previous one; the ones that did not converge are left out."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(max_iter=1000, warm_start=True)
    for c in sorted(grid):
        fitted.set_params(C=c)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            fitted.fit(X, y)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            continue
        coef, intercept = fitted.coef_[0].astype(float), float(fitted.intercept_[0])
        if np.isfinite(coef).all() and np.isfinite(intercept):
            yield c, coef, intercept


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
