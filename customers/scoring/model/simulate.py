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


# --- A shop where what the first order says decides whether a one-time buyer returns ---------

SHOP_CHANNEL_SHARES = (0.40, 0.25, 0.15, 0.12, 0.078, 0.002)  # the last one is rare: pooled
SHOP_CHANNEL_EFFECTS = (0.0, 1.2, -1.0, 0.6, -0.4, 1.0)  # on the logit of ever returning


def attribute_shop(
    n: int,
    *,
    as_of_day: int,
    history_days: int,
    horizon_days: int,
    rng: np.random.Generator,
    signal: bool = True,
    params: BgNbdParams | None = None,
):
    """A synthetic shop (issue #18's acceptance test): customers whose first purchase falls in
    the `history_days` before as_of_day, observed until as_of_day + horizon_days.

    Each customer's first order has a reporting channel (categorical, one level rare), a value
    and a coupon flag. With `signal`, whether they ever come back is Bernoulli with
    logit = -0.3 + channel effect + 1.0 * standardised log value - 1.0 * coupon (coupon
    hunters rarely return); without it, a constant 40%. Those who come back buy as BG/NBD
    customers (params) from their first day.

    Returns (contact_ids, days, spend, items, coupon) purchase rows (days since 1970, every row
    up to as_of_day + horizon_days), and per customer (contact id i + 1 for index i) the dict
    `truth`: channel, log_value_z, coupon, returner.
    """
    params = params or BgNbdParams(r=0.6, alpha=30.0, a=0.8, b=2.5)
    end = as_of_day + horizon_days
    first = as_of_day - rng.integers(0, history_days, size=n)
    channel = rng.choice(len(SHOP_CHANNEL_SHARES), size=n, p=SHOP_CHANNEL_SHARES)
    log_value = rng.normal(4.0, 0.6, size=n)
    value_z = (log_value - 4.0) / 0.6
    coupon = rng.random(n) < 0.3
    items = 1 + rng.poisson(1.0, size=n)
    if signal:
        logit = -0.3 + np.asarray(SHOP_CHANNEL_EFFECTS)[channel] + 1.0 * value_z - 1.0 * coupon
    else:
        logit = np.full(n, np.log(0.4 / 0.6))
    returner = rng.random(n) < 1 / (1 + np.exp(-logit))
    back = np.flatnonzero(returner)
    owner, repeat_days = bgnbd_transactions(
        params, first[back].astype("datetime64[D]"), np.datetime64(end, "D"), rng)
    repeat_owner = back[owner[len(back):]]
    repeat_days = repeat_days[len(back):].astype(np.int64)
    repeats = len(repeat_owner)
    contact = np.concatenate([np.arange(n), repeat_owner]) + 1
    days = np.concatenate([first, repeat_days]).astype(np.int64)
    spend = np.concatenate([np.exp(log_value), np.exp(rng.normal(4.0, 0.6, size=repeats))])
    all_items = np.concatenate([items, 1 + rng.poisson(1.0, size=repeats)])
    all_coupon = np.concatenate([coupon, rng.random(repeats) < 0.2])
    truth = {"channel": channel, "log_value_z": value_z, "coupon": coupon,
             "returner": returner, "first_day": first}
    return (contact.astype(np.int64), days, spend, all_items.astype(np.int64), all_coupon), truth
