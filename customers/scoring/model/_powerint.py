"""Log of integrals of a product of two power laws, the building block of the Pareto/NBD model.

    J(tau) = integral from tau to infinity of (c1 + y)^-k (c2 + y)^-m dy,   k, m > 0, k + m > 1.

With M = max(c1, c2), m0 = min(c1, c2), e the exponent on the smaller constant and g = k + m,
the substitution u = (M + tau)/(M + y) gives Euler's integral for the Gauss hypergeometric
function (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model and Related Expressions",
eqs. 19-20 are this with k = r+x, m = s+1):

    J = (M+tau)^(1-g) / (g-1) * 2F1(g-1, e; g; z),   z = (M - m0)/(M + tau) in [0, 1),

and Euler's transformation turns it into (1-z)^(1-e) 2F1(1, g-e; g; z), whose series has
positive terms between 1 and 1/(1-z). scipy's hyp2f1 returns NaN for large g near z = 1 (huge
frequencies) and loses up to 20% when z > 0.9 and c - a - b = e - 1 is within 1e-3 of an integer
(e.g. s = 1 exactly); there, or wherever its value breaks those bounds, we integrate instead
(tanh-sinh quadrature in log space, accurate to ~1e-11, see _log_hyp_quadrature).
"""

import numpy as np
from scipy.special import hyp2f1, logsumexp, roots_legendre

from . import _tanhsinh

_NEAR_INTEGER, _Z_RISKY = 1e-3, 0.9
_GL_NODES, _GL_WEIGHTS = roots_legendre(16)
_LOG_GL_NODES, _LOG_GL_WEIGHTS = roots_legendre(64)
# A window holding less than this share of the tail beyond it is integrated directly.
_SMALL_SHARE = 1e-3


def log_tail(tau, c1, c2, k, m) -> np.ndarray:
    """log J(tau) as defined in the module docstring, elementwise with broadcasting."""
    tau, c1, c2, k, m = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (tau, c1, c2, k, m))
    )
    big, small = np.maximum(c1, c2), np.minimum(c1, c2)
    e = np.where(c1 >= c2, m, k)
    g = k + m
    log_one_minus_z = np.log(small + tau) - np.log(big + tau)
    z = -np.expm1(log_one_minus_z)
    with np.errstate(all="ignore"):
        series = hyp2f1(1.0, g - e, g, z)
        log_series = np.log(series)
    bad = ~np.isfinite(log_series) | (series < 1 - 1e-12) | (log_series > -log_one_minus_z + 1e-12)
    bad |= (z > _Z_RISKY) & (np.abs(e - 1 - np.round(e - 1)) < _NEAR_INTEGER)
    if bad.any():
        log_series = np.array(log_series, dtype=float)
        log_series[bad] = _log_hyp_quadrature(g[bad], e[bad], z[bad], log_one_minus_z[bad])
    return (1 - g) * np.log(big + tau) - np.log(g - 1) + (1 - e) * log_one_minus_z + log_series


def log_window(lo, hi, c1, c2, k, m) -> np.ndarray:
    """log of the integral from lo to hi (lo <= hi) of the same integrand; -inf where lo == hi.

    A window that is narrow against the integrand's scale (its half-width at most a quarter of
    the distance to the singularities and the integrand changing by at most a factor e) is
    integrated directly with 16-point Gauss-Legendre, exact to rounding there. Wider windows
    are J(lo) - J(hi), unless the window holds under 0.1% of the tail (heavy tails, r + s + x
    small): then the difference would amplify rounding a thousandfold or more, and we integrate
    in w = log(min(c1, c2) + y) instead, where the integrand is smooth (_log_gauss_legendre_log).
    """
    lo, hi, c1, c2, k, m = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lo, hi, c1, c2, k, m))
    )
    half = (hi - lo) / 2
    narrow = (half <= 0.25 * (np.minimum(c1, c2) + lo)) & (
        half * (k / (c1 + lo) + m / (c2 + lo)) <= 1
    )
    result = np.full(lo.shape, -np.inf)
    wide = ~narrow & (hi > lo)
    if wide.any():
        log_lo = log_tail(lo[wide], c1[wide], c2[wide], k[wide], m[wide])
        gap = np.minimum(log_tail(hi[wide], c1[wide], c2[wide], k[wide], m[wide]) - log_lo, 0.0)
        with np.errstate(divide="ignore"):
            result[wide] = log_lo + np.log(-np.expm1(gap))
        small = np.zeros_like(wide)
        small[wide] = gap > -_SMALL_SHARE
        if small.any():
            result[small] = _log_gauss_legendre_log(
                lo[small], hi[small], c1[small], c2[small], k[small], m[small]
            )
    narrow &= hi > lo
    if narrow.any():
        result[narrow] = _log_gauss_legendre(
            lo[narrow], hi[narrow], c1[narrow], c2[narrow], k[narrow], m[narrow]
        )
    return result


def _log_gauss_legendre(lo, hi, c1, c2, k, m) -> np.ndarray:
    half = ((hi - lo) / 2)[:, None]
    y = ((hi + lo) / 2)[:, None] + half * _GL_NODES
    log_f = -k[:, None] * np.log(c1[:, None] + y) - m[:, None] * np.log(c2[:, None] + y)
    return np.log(half[:, 0]) + logsumexp(log_f + np.log(_GL_WEIGHTS), axis=1)


def _log_gauss_legendre_log(lo, hi, c1, c2, k, m) -> np.ndarray:
    """The window integral in w = log(c_min + y): the log-integrand
    (1 - e_min) w - e_max log(c_max - c_min + e^w) is smooth, analytic within pi of the real
    axis, so 64-point Gauss-Legendre over [w(lo), w(hi)] converges fast even for long windows."""
    small_first = c1 <= c2
    c_min, c_max = np.minimum(c1, c2)[:, None], np.maximum(c1, c2)[:, None]
    e_min, e_max = np.where(small_first, k, m)[:, None], np.where(small_first, m, k)[:, None]
    w_lo, w_hi = np.log(c_min[:, 0] + lo)[:, None], np.log(c_min[:, 0] + hi)[:, None]
    half = (w_hi - w_lo) / 2
    w = (w_hi + w_lo) / 2 + half * _LOG_GL_NODES
    with np.errstate(divide="ignore"):
        log_gap = np.log(c_max - c_min)
    log_f = (1 - e_min) * w - e_max * np.logaddexp(log_gap, w)
    return np.log(half[:, 0]) + logsumexp(log_f + np.log(_LOG_GL_WEIGHTS), axis=1)


def _log_hyp_quadrature(g, e, z, log_one_minus_z) -> np.ndarray:
    """log 2F1(1, g-e; g; z) from 2F1(g-1, e; g; z) = integral_0^1 (1 - z v^(1/(g-1)))^-e dv.

    That integral (Euler's integral with v = u^(g-1) substituted) has a bounded integrand with a
    steep rise near v = 1 when z is near 1; tanh-sinh nodes crowd both ends, which handles it.
    Then Euler's factor (1-z)^(e-1) is divided back out to match the series it replaces.
    """
    log_v = _tanhsinh.LOG_NODES[None, :]
    # 1 - z v^b = (1 - z) + z (1 - v^b), both parts computed without cancellation.
    inner = np.exp(log_one_minus_z)[:, None] + z[:, None] * -np.expm1(log_v / (g - 1)[:, None])
    log_integral = logsumexp(_tanhsinh.LOG_WEIGHTS[None, :] - e[:, None] * np.log(inner), axis=1)
    return log_integral + (e - 1) * log_one_minus_z
