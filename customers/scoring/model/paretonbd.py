"""The Pareto/NBD purchase model: Schmittlein, Morrison & Colombo (1987), "Counting Your
Customers: Who Are They and What Will They Do Next?", Management Science 33(1), 1-24, in the
form of Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions"
("FH note" below; equation numbers are the note's).

While alive a customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha) and lives
an exponential lifetime with rate mu ~ Gamma(s, beta). A history is (x, t_x, T) as in bgnbd.

The likelihood's hypergeometric term is the integral over the unseen time of death,
    A(x, t_x, T) = integral_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy
(s * A is FH note eq. 19-22's (s/(r+s+x)) A_0), evaluated stably in _powerint.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln

from ._common import (
    NO_REPEATS,
    FitOutcome,
    as_history,
    as_horizon,
    group_rows,
    maximise,
    maximise_sampled,
    without_information,
)
from ._powerint import log_window

_NAMES = ("r", "alpha", "s", "beta")
# Step for the central difference in the exponents of A (see _loglik_terms).
_FD_STEP = 1e-5


@dataclass(frozen=True)
class ParetoNbdParams:
    """Fitted (or given) Pareto/NBD parameters and how the fit went."""

    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float = math.nan
    converged: bool = False
    iterations: int = 0
    message: str = "not fitted"
    reason: FitOutcome = FitOutcome.NOT_FITTED  # machine-readable outcome, to translate for people
    # fit_paretonbd_nightly() only: likelihood evaluations over all its fits (each one pass over
    # the distinct histories of that fit's sample) and the contacts of the sample it ended on.
    evaluations: int = 0
    sample: int = 0


def fit_paretonbd(frequency, recency, T, weights=None) -> ParetoNbdParams:
    """Maximum-likelihood fit of FH note eq. (22) summed over customers (weights as in bgnbd)."""
    x, t_x, age, w = as_history(frequency, recency, T, weights)
    x, t_x, age, w, _ = group_rows(x, t_x, age, weights=w)
    keep = w > 0
    x, t_x, age, w = x[keep], t_x[keep], age[keep], w[keep]
    if not len(x):
        return ParetoNbdParams(
            1.0, 1.0, 1.0, 1.0, message="no customers to fit", reason=FitOutcome.NO_CUSTOMERS
        )
    starts = _cold_starts(x, age, w)
    best = maximise_sampled(_weighted_likelihood, (x, t_x, age), w, starts, _NAMES)
    if not (x > 0).any():
        best = without_information(best, NO_REPEATS)
    r, alpha, s, beta = map(float, best.params)
    return ParetoNbdParams(
        r=r, alpha=alpha, s=s, beta=beta,
        log_likelihood=best.log_likelihood,
        converged=best.converged,
        iterations=best.iterations,
        message=best.message,
        reason=best.reason,
    )


def _cold_starts(x, age, w) -> list[tuple[float, float, float, float]]:
    """Three starting points scaled to the data's mean age per purchase (no other knowledge)."""
    scale = max(float(np.average(age, weights=w)), 1e-3) / max(
        float(np.average(x, weights=w)), 1e-2
    )
    return [
        (1.0, scale, 1.0, scale),
        (0.5, 0.5 * scale, 0.5, 2 * scale),
        (2.0, 2 * scale, 2.0, 0.5 * scale),
    ]


# The nightly fit (fit_paretonbd_nightly): first sample size, tolerance, seed.
NIGHTLY_FIRST_SAMPLE = 2_500
NIGHTLY_TOLERANCE = 0.05
NIGHTLY_SEED = 1
# A warm start that ends farther than this from where it began (|log| of a ratio: a factor e)
# was not near the answer: the three starting points are tried as well, the better fit kept.
_FAR = 1.0


def fit_paretonbd_nightly(
    frequency,
    recency,
    T,
    *,
    start: "ParetoNbdParams | None" = None,
    most: int | None = None,
    first: int = NIGHTLY_FIRST_SAMPLE,
    tolerance: float = NIGHTLY_TOLERANCE,
    seed: int = NIGHTLY_SEED,
) -> ParetoNbdParams:
    """fit_paretonbd for the nightly run: cheap, and the same result every time on the same data.

    The customers are put in one random order (fixed `seed`) and fitted on nested samples: the
    first `first` of them, then twice as many, and so on up to `most` (all when None). The first
    fit is one L-BFGS-B run from `start` (last night's parameters) when given, otherwise from
    fit_paretonbd's three starting points; every later fit is one run from the fit before it.

    Sample size rule: growing stops as soon as no parameter moved by more than `tolerance`
    (|log(new / old)|, i.e. ~5% for 0.05) between the last two sizes, or at `most`. For nested
    samples n and 2n the change between the estimates has about the variance of the 2n estimate
    itself (V/n - V/2n = V/2n), so a change below the tolerance says the estimate's standard
    error is of that order: the population parameters are pinned down and more customers would
    move them by about that much. Only a converged fit counts for the rule.

    Safety net: a warm-started run that does not converge, or ends more than a factor e away
    from its start (so the start was not near the answer, e.g. the data changed or a small
    sample wandered onto the s -> infinity ridge), is repeated from the three starting points on
    the same sample and the better of the two kept: a bad `start` costs time, not the result.

    `evaluations` in the result counts likelihood evaluations over all fits (one each is a pass
    over that sample's distinct histories); `sample` is the size the result was fitted on.
    """
    x, t_x, age, _ = as_history(frequency, recency, T)
    total = len(x)
    if not total:
        return fit_paretonbd(x, t_x, age)
    cap = total if most is None else max(1, min(int(most), total))
    order = np.random.default_rng(seed).permutation(total)
    warm = _usable_start(start)
    evaluations = 0

    def fit_on(size: int, starts: list | None):
        nonlocal evaluations
        rows = order[:size]
        gx, gt, gage, gw, _ = group_rows(x[rows], t_x[rows], age[rows])
        likelihood = _weighted_likelihood(gx, gt, gage, gw)

        def counted(params):
            nonlocal evaluations
            evaluations += 1
            return likelihood(params)

        cold = _cold_starts(gx, gage, gw)
        best = maximise(counted, starts or cold, _NAMES, float(gw.sum()))
        if starts and (not best.converged or _moved(best.params, starts[0]) > _FAR):
            searched = maximise(counted, cold, _NAMES, float(gw.sum()))
            best = max(best, searched, key=lambda o: (o.converged, o.log_likelihood))
        if not (gx > 0).any():
            best = without_information(best, NO_REPEATS)
        return best

    size = min(max(int(first), 1), cap)
    best = fit_on(size, None if warm is None else [warm])
    sizes, why = [size], "one sample"
    while size < cap:
        size = min(2 * size, cap)
        previous, best = best, fit_on(size, [best.params])
        sizes.append(size)
        moved = _moved(best.params, previous.params)
        if previous.converged and best.converged and moved < tolerance:
            why = f"estimates moved {moved:.1%} < {tolerance:.0%}"
            break
    else:
        if len(sizes) > 1:
            why = "the largest sample"
    r, alpha, s, beta = map(float, best.params)
    path = " -> ".join(f"{n:,}" for n in sizes)
    origin = "last run's parameters" if warm is not None else "three starting points"
    return ParetoNbdParams(
        r=r, alpha=alpha, s=s, beta=beta,
        log_likelihood=best.log_likelihood,
        converged=best.converged,
        iterations=best.iterations,
        message=f"{best.message}; nested samples {path} from {origin}, stopped: {why}",
        reason=best.reason,
        evaluations=evaluations,
        sample=size,
    )


def _moved(params, start) -> float:
    """The largest relative change of a parameter, as |log(new / old)|."""
    return float(np.max(np.abs(np.log(np.asarray(params) / np.asarray(start)))))


def _usable_start(params: "ParetoNbdParams | None") -> np.ndarray | None:
    """Last night's parameters as a starting point, if they are finite and positive."""
    if params is None:
        return None
    vector = _vector(params)
    if not (np.isfinite(vector).all() and (vector > 0).all()):
        return None
    return vector


def _weighted_likelihood(x, t_x, age, w):
    def loglik_and_grad(params):
        value, grad = _loglik_terms(params, x, t_x, age)
        # einsum, not @: BLAS threads stall on a busy machine (see _bgnbd_fit)
        return float(np.einsum("i,i->", w, value)), np.einsum("ij,j->i", grad, w)

    return loglik_and_grad


def log_likelihood(params: ParetoNbdParams, frequency, recency, T) -> np.ndarray:
    """log L_i of FH note eq. (22) for each customer, all constants included."""
    x, t_x, age, _ = as_history(frequency, recency, T)
    return _loglik_terms(_vector(params), x, t_x, age, gradient=False)[0]


def _loglik_terms(params, x, t_x, age, gradient=True):
    """Per-customer log L and its gradient in (r, alpha, s, beta), shape (4, n).

    L = C [F + s A] with C = Gamma(r+x) alpha^r beta^s / Gamma(r),
    F = (alpha+T)^-(r+x) (beta+T)^-s (alive at T) and A as in the module docstring (died in
    (t_x, T]). Derivatives: dA/dalpha = -(r+x) A(r+x+1, s+1), dA/dbeta = -(s+1) A(r+x, s+2) are
    exact; d log A / d(r+x) and d log A / d(s+1) need the derivative of 2F1 in its parameters,
    which has no usable closed form, so those two use a central difference of log A (step 1e-5,
    shrunk for tiny r or s so k - step stays valid; error ~1e-9). Everything else is analytic.
    """
    r, alpha, s, beta = params
    k, m = r + x, s + 1.0
    log_c = gammaln(k) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_f = -k * np.log(alpha + age) - s * np.log(beta + age)
    log_a = log_window(t_x, age, alpha, beta, k, m)
    log_death = np.log(s) + log_a
    value = log_c + np.logaddexp(log_f, log_death)
    if not gradient:
        return value, None
    died = t_x < age  # otherwise A = 0 and its terms vanish
    p_dead = np.where(died, expit(log_death - log_f), 0.0)
    p_alive = 1 - p_dead

    def d_log_a(**shift):
        return np.where(died, _difference(t_x, age, alpha, beta, k, m, log_a, **shift), 0.0)

    grad = np.empty((4, len(x)))
    grad[0] = (
        digamma(k)
        - digamma(r)
        + np.log(alpha)
        - p_alive * np.log(alpha + age)
        + p_dead * d_log_a(dk=_FD_STEP * np.minimum(1.0, k))
    )
    grad[1] = r / alpha - p_alive * k / (alpha + age) - p_dead * k * d_log_a(shift_k=1.0)
    grad[2] = (
        np.log(beta)
        - p_alive * np.log(beta + age)
        + p_dead * (1 / s + d_log_a(dm=_FD_STEP * min(1.0, s)))
    )
    grad[3] = s / beta - p_alive * s / (beta + age) - p_dead * m * d_log_a(shift_m=1.0)
    return value, grad


def _difference(t_x, age, alpha, beta, k, m, log_a, dk=0.0, dm=0.0, shift_k=0.0, shift_m=0.0):
    """Either the ratio A(k+1, m)/A or A(k, m+1)/A (shift_*), or d log A/dk or /dm (d*)."""
    with np.errstate(all="ignore"):
        if shift_k or shift_m:
            return np.exp(log_window(t_x, age, alpha, beta, k + shift_k, m + shift_m) - log_a)
        up = log_window(t_x, age, alpha, beta, k + dk, m + dm)
        down = log_window(t_x, age, alpha, beta, k - dk, m - dm)
        return (up - down) / (2 * (dk + dm))


def probability_alive(params: ParetoNbdParams, frequency, recency, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) = F / (F + s A), FH note eq. (24), as a logistic of a log."""
    x, t_x, age, _ = as_history(frequency, recency, T)
    r, alpha, s, beta = _vector(params)
    k = r + x
    log_f = -k * np.log(alpha + age) - s * np.log(beta + age)
    log_death = np.log(s) + log_window(t_x, age, alpha, beta, k, s + 1.0)
    return expit(log_f - log_death)


def conditional_expected_purchases(
    params: ParetoNbdParams, t, frequency, recency, T, *, alive=None
) -> np.ndarray:
    """E[Y(t) | x, t_x, T], FH note eq. (41). `alive`: probability_alive() of the same rows, when
    the caller has it already (it is most of the cost).

    = P(alive) * E[lambda] * E[(1 - exp(-mu t)) / mu] over lambda ~ Gamma(r+x, alpha+T),
    mu ~ Gamma(s, beta+T): (r+x)/(alpha+T) * (beta+T)/(s-1) * [1 - ((beta+T)/(beta+T+t))^(s-1)],
    with the s = 1 limit taken smoothly (_expm1_ratio).
    """
    x, t_x, age, _ = as_history(frequency, recency, T)
    horizon = as_horizon(t)
    r, alpha, s, beta = _vector(params)
    per_alive = (r + x) / (alpha + age) * _lifetime_integral(s, beta + age, horizon)
    if alive is None:
        alive = probability_alive(params, x, t_x, age)
    return alive * per_alive


def expected_purchases(params: ParetoNbdParams, t) -> np.ndarray:
    """E[X(t)] for a new customer, FH note eq. (27):
    r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]."""
    horizon = as_horizon(t)
    return params.r / params.alpha * _lifetime_integral(params.s, params.beta, horizon)


def probability_purchase(
    params: ParetoNbdParams, t, frequency, recency, T, *, alive=None
) -> np.ndarray:
    """P(at least one purchase in (T, T+t] | x, t_x, T) (`alive` as above).

    For a customer alive at T with rates (lambda, mu), purchase and death race as exponentials, so
    P(no purchase in t) = mu/(lambda+mu) + lambda/(lambda+mu) e^-(lambda+mu)t, i.e.
    P(buy) = integral_0^t lambda e^-lambda u e^-mu u du. Over the posterior of an alive customer,
    lambda ~ Gamma(k, a), mu ~ Gamma(s, b) with k = r+x, a = alpha+T, b = beta+T:
        P(buy | alive) = k a^k b^s integral_0^t (a+u)^-(k+1) (b+u)^-s du,
    the same kind of integral as the likelihood's, so it is exact (times P(alive)).
    """
    x, t_x, age, _ = as_history(frequency, recency, T)
    horizon = as_horizon(t)
    r, alpha, s, beta = _vector(params)
    k = r + x
    a, b = alpha + age, beta + age
    with np.errstate(divide="ignore"):
        log_window_ = log_window(0.0, horizon, a, b, k + 1.0, s)
        log_buy = np.log(k) + k * np.log(a) + s * np.log(b) + log_window_
    if alive is None:
        alive = probability_alive(params, x, t_x, age)
    return alive * np.minimum(np.exp(log_buy), 1.0)


def _lifetime_integral(s, b, t) -> np.ndarray:
    """E[(1 - e^-mu t)/mu] for mu ~ Gamma(s, b) = b/(s-1) [1 - (b/(b+t))^(s-1)], any s > 0.

    Written as b * L * (1 - e^-y)/y with L = log(1 + t/b), y = (s-1) L: no division by s-1.
    """
    span = np.log1p(t / b)
    y = (s - 1) * span
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.abs(y) < 1e-10, 1 - y / 2, -np.expm1(-y) / y)
    return b * span * ratio


def _vector(params: ParetoNbdParams) -> np.ndarray:
    return np.array([params.r, params.alpha, params.s, params.beta], dtype=float)
