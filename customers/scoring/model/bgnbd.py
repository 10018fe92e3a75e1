"""The BG/NBD purchase model: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way:
An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284 ("FHL" below).

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); after each
repeat purchase they drop out for good with probability p ~ Beta(a, b). A history is
(x, t_x, T): x repeat purchases (customer-days), the last at t_x, observed for T since the first
purchase, all in one time unit. Every function takes arrays and works in log space.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1, roots_legendre

from . import _tanhsinh
from ._bgnbd_fit import WeightedLikelihood
from ._common import (
    NO_REPEATS,
    FitOutcome,
    as_history,
    as_horizon,
    group_rows,
    maximise_sampled,
    without_information,
)

_NAMES = ("r", "alpha", "a", "b")
_QUAD_NODES = 48
# The closed form for E[Y(t)] divides by (a - 1) and by c = a + b + x - 1 (through 2F1); it stays
# accurate to ~1e-9 down to 1e-7 from those points, so nearer than this we integrate instead.
_NEAR_SINGULAR = 1e-6
# Where max(r+x, 1) t/(alpha+T) is below this, the short-horizon series is exact to rounding.
_SHORT_HORIZON = 1e-3


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted (or given) BG/NBD parameters and how the fit went."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = math.nan
    converged: bool = False
    iterations: int = 0
    message: str = "not fitted"
    reason: FitOutcome = FitOutcome.NOT_FITTED  # machine-readable outcome, to translate for people


def fit_bgnbd(frequency, recency, T, weights=None) -> BgNbdParams:
    """Maximum-likelihood fit of FHL eq. (6) summed over customers (weights = identical customers).

    Identical (x, t_x, T) rows are grouped first, so a million customers cost as much as their
    distinct histories, and the summed likelihood is organised for speed (_bgnbd_fit). Never
    raises on valid but awkward data; see BgNbdParams.converged and .message.
    """
    x, t_x, age, w = as_history(frequency, recency, T, weights)
    x, t_x, age, w, _ = group_rows(x, t_x, age, weights=w)
    keep = w > 0
    x, t_x, age, w = x[keep], t_x[keep], age[keep], w[keep]
    if not len(x):
        return BgNbdParams(
            1.0, 1.0, 1.0, 1.0, message="no customers to fit", reason=FitOutcome.NO_CUSTOMERS
        )
    scale = max(float(np.average(age, weights=w)), 1e-3) / max(
        float(np.average(x, weights=w)), 1e-2
    )
    starts = [(1.0, scale, 1.0, 1.0), (0.3, 0.3 * scale, 0.7, 2.5), (3.0, 3.0 * scale, 3.0, 8.0)]
    best = maximise_sampled(WeightedLikelihood, (x, t_x, age), w, starts, _NAMES)
    if not (x > 0).any():
        best = without_information(best, NO_REPEATS)
    r, alpha, a, b = map(float, best.params)
    return BgNbdParams(
        r=r, alpha=alpha, a=a, b=b,
        log_likelihood=best.log_likelihood,
        converged=best.converged,
        iterations=best.iterations,
        message=best.message,
        reason=best.reason,
    )


def log_likelihood(params: BgNbdParams, frequency, recency, T) -> np.ndarray:
    """log L_i of FHL eq. (6) for each customer (all constants included, as in the paper)."""
    x, t_x, age, _ = as_history(frequency, recency, T)
    levels, level_of = np.unique(x, return_inverse=True)
    return _loglik_terms(_vector(params), x, t_x, age, levels, level_of)[0]


def _loglik_terms(params, x, t_x, age, levels, level_of):
    """Per-customer log L (FHL eq. 6) and its gradient in (r, alpha, a, b), shape (4, n).

    log L = log A + logaddexp(T1, T2) with A = Gamma(r+x) alpha^r B(a, b+x) / (Gamma(r) B(a, b)),
    T1 = -(r+x) log(alpha+T), T2 = log(a/(b+x-1)) - (r+x) log(alpha+t_x) (only for x > 0).
    Functions of x alone are evaluated once per distinct x.
    """
    r, alpha, a, b = params
    k = r + x
    log_a_T, log_a_tx = np.log(alpha + age), np.log(alpha + t_x)
    repeat = x > 0
    t1 = -k * log_a_T
    t2 = np.where(repeat, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - k * log_a_tx, -np.inf)
    w2 = np.where(repeat, expit(t2 - t1), 0.0)  # share of the "dropped out at t_x" term
    head = (
        gammaln(r + levels) - gammaln(r) + r * np.log(alpha) + betaln(a, b + levels) - betaln(a, b)
    )[level_of]
    value = head + np.logaddexp(t1, t2)
    d_ab = (digamma(a + b) - digamma(a + b + levels))[level_of]
    grad = np.empty((4, len(x)))
    grad[0] = (
        (digamma(r + levels) - digamma(r))[level_of]
        + np.log(alpha)
        - (1 - w2) * log_a_T
        - w2 * log_a_tx
    )
    grad[1] = r / alpha - k * ((1 - w2) / (alpha + age) + w2 / (alpha + t_x))
    grad[2] = d_ab + w2 / a
    grad[3] = d_ab + (digamma(b + levels) - digamma(b))[level_of] - w2 / (b + np.maximum(x, 1) - 1)
    return value, grad


def probability_alive(params: BgNbdParams, frequency, recency, T) -> np.ndarray:
    """P(alive at T | x, t_x, T), from Fader, Hardie & Lee, "Computing P(alive) Using the BG/NBD
    Model" (2008 note); 1 for x = 0.

    1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)), computed as a logistic of a log.
    """
    x, t_x, age, _ = as_history(frequency, recency, T)
    r, alpha, a, b = _vector(params)
    log_odds_dead = (
        np.log(a)
        - np.log(b + np.maximum(x, 1) - 1)
        + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
    )
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def conditional_expected_purchases(params: BgNbdParams, t, frequency, recency, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected repeat purchases in (T, T+t], FHL eq. (10).

    = P(alive) * E[Y(t) | alive], and for a customer alive at T the posterior is
    lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x), independent, with E[Y | lambda, p] =
    (1 - exp(-lambda p t)) / p. Closed form: see _expected_if_alive.
    """
    x, t_x, age, _ = as_history(frequency, recency, T)
    horizon = as_horizon(t)
    return probability_alive(params, x, t_x, age) * _expected_if_alive(
        _vector(params), horizon, x, age
    )


def expected_purchases(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)]: expected repeat purchases in (0, t] for a new customer, FHL eq. (9).

    Eq. (9) is eq. (10) at x = t_x = T = 0, where P(alive) = 1.
    """
    horizon = as_horizon(t)
    zeros = np.zeros(horizon.shape)
    return _expected_if_alive(_vector(params), horizon, zeros, zeros)


def probability_purchase(params: BgNbdParams, t, frequency, recency, T) -> np.ndarray:
    """P(at least one repeat purchase in (T, T+t] | x, t_x, T).

    Only the first purchase matters and a BG/NBD customer can drop out only right after buying,
    so an alive customer with rate lambda buys in the window with probability 1 - exp(-lambda t).
    Over lambda ~ Gamma(r+x, alpha+T) that is 1 - ((alpha+T)/(alpha+T+t))^(r+x); times P(alive).
    """
    x, t_x, age, _ = as_history(frequency, recency, T)
    horizon = as_horizon(t)
    r, alpha, _, _ = _vector(params)
    buys_if_alive = -np.expm1(-(r + x) * np.log1p(horizon / (alpha + age)))
    return probability_alive(params, x, t_x, age) * buys_if_alive


def _expected_if_alive(params, t, x, age) -> np.ndarray:
    """E[Y(t) | alive at T, x, T] = E_p[(1 - (1 + p t/(alpha+T))^-(r+x)) / p], p ~ Beta(a, b+x).

    Closed form (FHL eq. 10 without its P(alive) denominator), after Euler's transformation
    2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z), which keeps every term bounded for large x:
        (c / (a-1)) * [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)],  c = a+b+x-1, z = t/(alpha+T+t).
    The expectation lies in [0, (r+x) t/(alpha+T)]. Where the closed form is singular (a = 1 or
    c = 0: both removable) or lands outside that range, _expected_if_alive_integral takes over;
    for very short horizons the subtraction loses relative precision and a series is used.
    """
    r, alpha, a, b = params
    x, age, t = np.broadcast_arrays(x, age, t)
    c = a + b + x - 1
    u = t / (alpha + age)
    ceiling = (r + x) * u
    with np.errstate(all="ignore"):
        euler = np.exp((a - 1) * -np.log1p(u)) * hyp2f1(a + b - 1 - r, a - 1, c, u / (1 + u))
        value = c / (a - 1) * (1 - euler)
    bad = (abs(a - 1) < _NEAR_SINGULAR) | (abs(c) < _NEAR_SINGULAR) | ~np.isfinite(value)
    bad |= (value < -1e-12 * ceiling) | (value > ceiling * (1 + 1e-9))
    if bad.any():
        value = np.array(value, dtype=float)
        with np.errstate(all="ignore"):
            value[bad] = _expected_if_alive_integral(r, a, b, u[bad], x[bad])
        bad &= ~((value >= 0) & (value <= ceiling * (1 + 1e-9)))
        value[bad] = _expected_if_alive_quantiles(r, a, b, u[bad], x[bad])
    short = np.maximum(r + x, 1.0) * u < _SHORT_HORIZON
    if short.any():
        value = np.array(value, dtype=float)
        value[short] = _expected_if_alive_series(r, a, b, u[short], x[short])
    return np.clip(value, 0.0, ceiling)


def _expected_if_alive_series(r, a, b, u, x) -> np.ndarray:
    """The same expectation for (r+x) u small: expand (1 + p u)^-k in powers of p u, so
        E = sum_j (-1)^(j+1) (k)_j / j! u^j E[p^(j-1)],   E[p^i] = (a)_i / (a+b+x)_i.
    Each term is at most ~max(k, 1) u < 1e-3 times the previous one: six terms reach double
    precision.
    """
    k = r + x
    term = k * u
    total = term.copy()
    for j in range(2, 7):
        term = term * -(k + j - 1) / j * u * (a + j - 2) / (a + b + x + j - 2)
        total += term
    return total


def _expected_if_alive_integral(r, a, b, u, x) -> np.ndarray:
    """The same expectation as an integral of the purchase rate over the horizon.

    (1 - (1 + p u)^-k) / p = integral_0^u k (1 + p v)^-(k+1) dv, and E_p[(1 + p v)^-(k+1)] =
    2F1(k+1, a; a+b+x; -v) = (1+v)^-a 2F1(a, a+b+x-k-1; a+b+x; v/(1+v)) (Pfaff), with k = r+x.
    Substituting v = e^y - 1 makes the integrand smooth in y on [0, log(1+u)]: Gauss-Legendre.
    The argument v/(1+v) stays below 1 - 1/(1+u); tests check this against the closed form.
    """
    nodes, weights = roots_legendre(_QUAD_NODES)
    span = np.log1p(u)[:, None]
    y = (nodes + 1) / 2 * span
    c = (a + b + x)[:, None]
    k = (r + x)[:, None]
    v = np.expm1(y)
    rate = k * np.exp((1 - a) * y) * hyp2f1(a, c - k - 1, c, v / (1 + v))
    return (rate * weights).sum(axis=1) * span[:, 0] / 2


def _expected_if_alive_quantiles(r, a, b, u, x) -> np.ndarray:
    """Last resort for parameters where scipy's 2F1 gives up (e.g. r ~ 1e6 with b ~ 1e5, a ~ 1e-4,
    which an ill-posed fit can reach): E_p[g(p)] = integral_0^1 g(F^-1(q)) dq over the Beta's
    quantiles. g is bounded and monotone in q, so tanh-sinh quadrature in q is robust (~1e-6);
    the lower half of q uses F^-1 directly, the upper half the mirrored Beta so that 1 - q keeps
    its precision.
    """
    k = (r + x)[:, None]
    b_post = (b + x)[:, None]
    u = u[:, None]
    q, q_complement = np.exp(_tanhsinh.LOG_NODES), np.exp(_tanhsinh.LOG_COMPLEMENTS)
    lower = q <= 0.5
    p = np.where(
        lower,
        betaincinv(a, b_post, np.where(lower, q, 0.5)),
        1 - betaincinv(b_post, a, np.where(lower, 0.5, q_complement)),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(p > 0, -np.expm1(-k * np.log1p(p * u)) / p, k * u)
    return (g * np.exp(_tanhsinh.LOG_WEIGHTS)).sum(axis=1)


def _vector(params: BgNbdParams) -> np.ndarray:
    return np.array([params.r, params.alpha, params.a, params.b], dtype=float)
