"""Input checks, row grouping and the maximum-likelihood driver shared by the three models.

Everything here is numpy/scipy only. The fitting driver works on log-parameters, so every model
parameter stays positive without constraints, and gives L-BFGS-B box bounds on the log scale so a
likelihood that keeps improving towards 0 or infinity (e.g. no repeat purchases at all) stops at a
finite point that is reported as "on the boundary" instead of running away.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.optimize import minimize

# Box on every parameter: wide enough for any time unit from hours to years.
PARAM_MIN, PARAM_MAX = 1e-8, 1e8
_LOG_BOUNDS = (float(np.log(PARAM_MIN)), float(np.log(PARAM_MAX)))
# Two starts "agree" when their mean log-likelihoods per customer differ by less than this.
_AGREE = 1e-7
_MAX_ITER = 2000
# A run that stops (e.g. line search defeated by rounding) where the projected gradient of the mean
# log-likelihood per customer, in log-parameters, is below this has reached the optimum.
_GRADIENT_OK = 1e-6
# Objective returned where the likelihood is not finite: large, so the line search backs off.
_NON_FINITE_PENALTY = 1e10
# Above this many distinct histories, starting points are compared on a sample of customers.
SAMPLE_ABOVE_ROWS, SAMPLE_CUSTOMERS = 50_000, 50_000


def as_history(frequency, recency, T, weights=None) -> tuple[np.ndarray, ...]:
    """Check (x, t_x, T[, weights]) and return them as flat float arrays of one length.

    Raises ValueError for input that is not a purchase history: wrong lengths, NaN or inf,
    negative or fractional frequency, recency outside [0, T], recency > 0 with no repeat purchase,
    negative weights.
    """
    x, t_x, age = (np.asarray(v, dtype=float).ravel() for v in (frequency, recency, T))
    if not len(x) == len(t_x) == len(age):
        raise ValueError(
            f"frequency, recency and T differ in length: {len(x)}, {len(t_x)}, {len(age)}"
        )
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(age).all()):
        raise ValueError("frequency, recency and T must be finite numbers")
    if (x < 0).any() or (x != np.floor(x)).any():
        raise ValueError("frequency must be whole numbers >= 0 (repeat purchase days)")
    if (t_x < 0).any() or (t_x > age).any():
        raise ValueError("recency must lie between 0 and T")
    if (t_x[x == 0] != 0).any():
        raise ValueError("recency must be 0 where frequency is 0")
    if weights is None:
        return x, t_x, age, np.ones_like(x)
    w = np.asarray(weights, dtype=float).ravel()
    if len(w) != len(x):
        raise ValueError(f"weights has length {len(w)}, expected {len(x)}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and >= 0")
    return x, t_x, age, w


def as_horizon(t) -> np.ndarray:
    """A prediction horizon: finite and >= 0 (scalar or array)."""
    horizon = np.asarray(t, dtype=float)
    if not np.isfinite(horizon).all() or (horizon < 0).any():
        raise ValueError("the horizon t must be finite and >= 0")
    return horizon


def group_rows(*columns: np.ndarray, weights: np.ndarray | None = None):
    """Collapse identical rows: returns (unique columns..., summed weights, inverse index).

    `columns[i][inverse]` rebuilds the input. Much faster than np.unique(axis=0): each column is
    coded to integers once, the codes are packed into one int64 key and that key is uniqued.
    """
    n = len(columns[0])
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        levels, codes = np.unique(column, return_inverse=True)
        if len(levels) and int(key.max(initial=0)) >= np.iinfo(np.int64).max // len(levels):
            key = np.unique(key, return_inverse=True)[1].astype(
                np.int64
            )  # re-pack if it would overflow
        key = key * len(levels) + codes
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    summed = np.bincount(inverse, weights=w, minlength=len(first))
    return (*(np.asarray(c)[first] for c in columns), summed, inverse)


class FitOutcome(StrEnum):
    """Machine-readable outcome of a fit, for callers that show it to people: translate by code.
    The English `message` next to it is a diagnostic for developers and logs."""

    CONVERGED = "converged"
    AT_BOUND = "at_bound"  # a parameter ran to the edge of the allowed range
    NOT_CONVERGED = "not_converged"  # the optimiser stopped without reaching an optimum
    NOT_FINITE = "not_finite"  # the likelihood was not finite at any starting point
    NO_CUSTOMERS = "no_customers"
    NO_REPEAT_PURCHASES = "no_repeat_purchases"  # nothing to learn a rate or spend from
    NOT_FITTED = "not_fitted"  # parameters given by hand


@dataclass(frozen=True)
class Optimum:
    params: np.ndarray
    log_likelihood: float
    converged: bool
    iterations: int
    message: str
    reason: FitOutcome


def maximise(
    loglik_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    starts: Sequence[Sequence[float] | np.ndarray],
    names: Sequence[str],
    total_weight: float,
    tried: str | None = None,
) -> Optimum:
    """Maximise a log-likelihood over positive parameters from several starting points.

    `loglik_and_grad(params)` returns the summed log-likelihood and its gradient in the natural
    parameters. We minimise the mean negative log-likelihood per customer over log-parameters
    (L-BFGS-B, analytic gradient via the chain rule d/dlog(p) = p * d/dp). Starts are tried in
    order until two converged runs agree; the best run is returned. Never raises on awkward data:
    a run that fails or ends on the parameter box is reported with converged=False and why.
    """
    scale = 1.0 / max(total_weight, 1e-300)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            value, grad = loglik_and_grad(params)
        if not np.isfinite(value) or not np.isfinite(grad).all():
            return _NON_FINITE_PENALTY, np.zeros_like(theta)
        return -value * scale, -grad * params * scale

    runs = []
    for start in starts:
        theta0 = np.clip(np.log(np.asarray(start, dtype=float)), *_LOG_BOUNDS)
        res = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=[_LOG_BOUNDS] * len(theta0),
            options={"maxiter": _MAX_ITER, "ftol": 1e-13, "gtol": 1e-9},
        )
        runs.append(res)
        good = [r for r in runs if _reached(r)]
        if len(good) >= 2 and _agree(good, res):
            break
    return _best(runs, names, total_weight, tried or f"best of {len(runs)} starting point(s)")


def maximise_sampled(make_likelihood, columns, w, starts, names, seed: int = 0) -> Optimum:
    """maximise() for large data: starting points are compared on a random sample first.

    With more than SAMPLE_ABOVE_ROWS distinct histories, each customer is kept with probability
    SAMPLE_CUSTOMERS / total (Poisson thinning of the weights, fixed seed, so fits repeat
    exactly); all starts run on that sample, and only the best is polished on the full data. If
    the polish does not converge, every start is rerun on the full data.
    """
    total = float(w.sum())
    full = make_likelihood(*columns, w)
    if len(w) <= SAMPLE_ABOVE_ROWS:
        return maximise(full, starts, names, total)
    sample_w = np.random.default_rng(seed).poisson(w * (SAMPLE_CUSTOMERS / total)).astype(float)
    kept = sample_w > 0
    sampled = make_likelihood(*(c[kept] for c in columns), sample_w[kept])
    scout = maximise(sampled, starts, names, float(sample_w.sum()))
    polished = maximise(
        full,
        [scout.params],
        names,
        total,
        tried=f"starting points compared on {int(sample_w.sum()):,} sampled "
        f"customers, the best refined on all {total:,.0f}",
    )
    if polished.converged:
        return polished
    return maximise(full, [scout.params, *starts], names, total)


NO_REPEATS = (
    "no customer has a repeat purchase: the purchase rate and dropout cannot be "
    "estimated (the likelihood keeps rising as the rate goes to 0)"
)


def without_information(optimum: Optimum, message: str) -> Optimum:
    """The optimum, flagged as not converged because the data cannot identify the model."""
    return Optimum(
        optimum.params,
        optimum.log_likelihood,
        False,
        optimum.iterations,
        message,
        FitOutcome.NO_REPEAT_PURCHASES,
    )


def _reached(res) -> bool:
    """Converged by L-BFGS-B's own tests, or stopped where the projected gradient is ~0."""
    if res.fun >= _NON_FINITE_PENALTY:
        return False
    if res.success:
        return True
    low, high = _LOG_BOUNDS
    grad = np.where((res.x <= low + 1e-9) & (res.jac > 0), 0.0, res.jac)
    grad = np.where((res.x >= high - 1e-9) & (grad < 0), 0.0, grad)
    return bool(np.max(np.abs(grad)) < _GRADIENT_OK)


def _agree(good, latest) -> bool:
    if not any(r is latest for r in good):
        return False
    return any(r is not latest and abs(r.fun - latest.fun) < _AGREE for r in good)


def _best(runs, names: Sequence[str], total_weight: float, tried: str) -> Optimum:
    best = min(runs, key=lambda r: r.fun)
    params = np.exp(best.x)
    log_likelihood = -best.fun * total_weight if best.fun < _NON_FINITE_PENALTY else -np.inf
    at_bound = [
        name
        for name, theta in zip(names, best.x, strict=True)
        if theta <= _LOG_BOUNDS[0] + 1e-6 or theta >= _LOG_BOUNDS[1] - 1e-6
    ]
    if not np.isfinite(log_likelihood):
        return Optimum(
            params,
            log_likelihood,
            False,
            int(best.nit),
            f"likelihood not finite at any starting point ({tried})",
            FitOutcome.NOT_FINITE,
        )
    if not _reached(best):
        return Optimum(
            params,
            log_likelihood,
            False,
            int(best.nit),
            f"optimiser did not converge: {best.message} ({tried})",
            FitOutcome.NOT_CONVERGED,
        )
    if at_bound:
        return Optimum(
            params,
            log_likelihood,
            False,
            int(best.nit),
            f"{', '.join(at_bound)} ran to the edge of the allowed range "
            f"[{PARAM_MIN:g}, {PARAM_MAX:g}]: the data do not pin the model down "
            f"(e.g. too few customers or no repeat purchases) ({tried})",
            FitOutcome.AT_BOUND,
        )
    return Optimum(
        params, log_likelihood, True, int(best.nit), f"converged ({tried})", FitOutcome.CONVERGED
    )
