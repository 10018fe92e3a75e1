"""Draw synthetic customers from a BG/NBD model with known parameters (vectorised).

Used by tests and the benchmark to check that fitting recovers the parameters, and handy for
demo data. FHL (2005) section 2: lambda ~ Gamma(r, alpha), p ~ Beta(a, b); purchases are
Poisson(lambda) and after each repeat purchase the customer drops out with probability p.
"""

import numpy as np

from .bgnbd import BgNbdParams


def bgnbd_histories(
    params: BgNbdParams, T, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(x, t_x) for customers observed for T each (continuous time).

    The number of repeat purchases before dropping out is D ~ Geometric(p) on {1, 2, ...} and the
    Poisson process gives N ~ Poisson(lambda T) by T, so x = min(N, D); given N, the x-th of N
    uniform arrival times on (0, T) is T * Beta(x, N - x + 1).
    """
    age = np.asarray(T, dtype=float)
    n, x = _counts(params, age, rng)
    t_x = np.where(x > 0, age * rng.beta(np.maximum(x, 1), n - x + 1), 0.0)
    return x.astype(float), t_x


def bgnbd_transactions(params: BgNbdParams, first_days, as_of, rng: np.random.Generator):
    """Purchase rows (customer index, day) up to as_of for customers whose first day is given.

    Time is in days; the first purchase is on first_day and repeat purchases fall on the day
    their continuous arrival time lands in (two on one day then count as one customer-day).
    """
    first = np.asarray(first_days, dtype="datetime64[D]")
    # np.subtract, not `-`: the stubs read datetime64[Any] - array as date - date -> timedelta.
    age = np.subtract(np.datetime64(as_of, "D"), first).astype(float)
    n, x = _counts(params, age, rng)
    owner = np.repeat(np.arange(len(first)), n)
    offset = rng.random(len(owner)) * age[owner]
    order = np.lexsort((offset, owner))  # arrivals in time order within each customer
    owner, offset = owner[order], offset[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(n) - n, n)
    kept = rank < x[owner]  # the first x arrivals happen; the customer is gone after the x-th
    customers = np.concatenate([np.arange(len(first)), owner[kept]])
    days = np.concatenate(
        [first, first[owner[kept]] + np.floor(offset[kept]).astype("timedelta64[D]")]
    )
    return customers, days


def _counts(params: BgNbdParams, age: np.ndarray, rng: np.random.Generator):
    rate = rng.gamma(params.r, 1 / params.alpha, size=age.shape)
    dropout = rng.beta(params.a, params.b, size=age.shape)
    n = rng.poisson(rate * age)
    before_dropout = rng.geometric(np.clip(dropout, 1e-300, 1.0))
    return n, np.minimum(n, before_dropout)
