"""The Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430, as set out in Fader &
Hardie (2013), "The Gamma-Gamma Model of Monetary Value" ("FH note"; equation numbers are the
note's).

Each transaction's value is Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers, so a
customer's mean transaction value is p/nu. We observe x repeat transactions (customer-days)
with average value m_x; customers with x = 0 carry no spend information and are left out of the
fit, but still get the population mean as their expected spend.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from ._common import FitOutcome, group_rows, maximise

_NAMES = ("p", "q", "gamma")


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted (or given) Gamma-Gamma parameters and how the fit went."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = math.nan
    converged: bool = False
    iterations: int = 0
    message: str = "not fitted"
    reason: FitOutcome = FitOutcome.NOT_FITTED  # machine-readable outcome, to translate for people


def fit_gammagamma(frequency, monetary_value, weights=None) -> GammaGammaParams:
    """Maximum-likelihood fit of FH note eq. (4) over customers with x > 0 and m_x > 0."""
    x, m, w = _spend_arrays(frequency, monetary_value, weights)
    use = (x > 0) & (m > 0) & (w > 0)
    x, m, w, _ = group_rows(x[use], m[use], weights=w[use])
    if not len(x):
        return GammaGammaParams(
            1.0,
            1.0,
            1.0,
            message="no repeat buyers with spend to fit",
            reason=FitOutcome.NO_REPEAT_PURCHASES,
        )
    total = float(w.sum())
    mean_spend = float(np.average(m, weights=w))

    def loglik_and_grad(params):
        value, grad = _loglik_terms(params, x, m)
        return float(np.einsum("i,i->", w, value)), np.einsum("ij,j->i", grad, w)

    starts = [(1.0, 2.0, mean_spend), (5.0, 3.0, 3.0 * mean_spend), (0.5, 1.5, 0.5 * mean_spend)]
    best = maximise(loglik_and_grad, starts, _NAMES, total)
    p, q, gamma = map(float, best.params)
    return GammaGammaParams(
        p=p, q=q, gamma=gamma,
        log_likelihood=best.log_likelihood,
        converged=best.converged,
        iterations=best.iterations,
        message=best.message,
        reason=best.reason,
    )


def log_likelihood(params: GammaGammaParams, frequency, monetary_value) -> np.ndarray:
    """log f(m_x | x) of FH note eq. (4) per customer (x > 0, m_x > 0 only)."""
    x, m, _ = _spend_arrays(frequency, monetary_value, None)
    return _loglik_terms(np.array([params.p, params.q, params.gamma]), x, m)[0]


def _loglik_terms(params, x, m):
    """log f(m_x | p, q, gamma, x) and its gradient, shape (3, n):
        lnG(px+q) - lnG(px) - lnG(q) + q ln(gamma) + (px-1) ln(m_x) + px ln(x)
        - (px+q) ln(gamma + x m_x)
    (x m_x given nu is Gamma(px, nu); nu ~ Gamma(q, gamma) integrated out)."""
    p, q, gamma = params
    px = p * x
    log_total = np.log(gamma + x * m)
    value = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_total
    )
    shared = digamma(px + q)
    grad = np.empty((3, len(x)))
    grad[0] = x * (shared - digamma(px) + np.log(m) + np.log(x) - log_total)
    grad[1] = shared - digamma(q) + np.log(gamma) - log_total
    grad[2] = q / gamma - (px + q) / (gamma + x * m)
    return value, grad


def conditional_expected_spend(params: GammaGammaParams, frequency, monetary_value) -> np.ndarray:
    """E[Z | x, m_x], FH note eq. (5): a weighted mean of the population mean p gamma/(q-1) and m_x,
        (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m_x  =  p (gamma + x m_x) / (px + q - 1).
    The right-hand form needs no q > 1 for x > 0. The expectation does not exist when
    px + q <= 1 (for x = 0 that is q <= 1: spend too heavy-tailed for a mean); we return inf there.
    """
    x, m, _ = _spend_arrays(frequency, monetary_value, None)
    m = np.where(x > 0, m, 0.0)  # a customer with no repeat purchase has no average yet
    p, q, gamma = params.p, params.q, params.gamma
    denominator = p * x + q - 1
    with np.errstate(divide="ignore"):
        return np.where(
            denominator > 0, p * (gamma + x * m) / np.maximum(denominator, 1e-300), np.inf
        )


def _spend_arrays(frequency, monetary_value, weights):
    x = np.asarray(frequency, dtype=float).ravel()
    m = np.asarray(monetary_value, dtype=float).ravel()
    if len(x) != len(m):
        raise ValueError(f"frequency and monetary_value differ in length: {len(x)}, {len(m)}")
    if not (np.isfinite(x).all() and np.isfinite(m).all()) or (x < 0).any() or (m < 0).any():
        raise ValueError("frequency and monetary_value must be finite and >= 0")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if len(w) != len(x) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must match frequency in length and be finite and >= 0")
    return x, m, w
