"""Customer lifetime value over a finite horizon: expected purchases times expected spend.

Following Fader, Hardie & Lee (2005, JMR "RFM and CLV") we multiply a purchase model's
conditional expectation by the Gamma-Gamma expected spend (the two are assumed independent).
The horizon is cut into periods (e.g. 12 months); purchases expected in period i are valued at
1/(1+d)^i for a per-period discount rate d, as lifetimes' customer_lifetime_value does.
"""

import numpy as np

from . import bgnbd, paretonbd
from ._common import as_history
from .bgnbd import BgNbdParams
from .paretonbd import ParetoNbdParams


def conditional_expected_purchases(params: BgNbdParams | ParetoNbdParams, t, frequency, recency, T):
    """E[Y(t) | x, t_x, T] under whichever purchase model `params` belongs to."""
    model = bgnbd if isinstance(params, BgNbdParams) else paretonbd
    return model.conditional_expected_purchases(params, t, frequency, recency, T)


def customer_lifetime_value(
    params: BgNbdParams | ParetoNbdParams,
    frequency,
    recency,
    T,
    expected_spend,
    *,
    period_length: float,
    periods: int = 12,
    discount_rate: float = 0.0,
) -> np.ndarray:
    """Expected discounted value of each customer's purchases over `periods` periods.

    `period_length` is one period in the model's time unit (a month is 30 in days, 30/7 in
    weeks); `expected_spend` is per purchase, e.g. gammagamma.conditional_expected_spend.
    """
    if periods < 1 or period_length <= 0 or discount_rate <= -1:
        raise ValueError("need periods >= 1, period_length > 0 and discount_rate > -1")
    x, t_x, age, _ = as_history(frequency, recency, T)
    spend = np.asarray(expected_spend, dtype=float).ravel()
    total = np.zeros(len(x))
    previous = np.zeros(len(x))
    for i in range(1, periods + 1):  # a loop over periods, not customers
        cumulative = conditional_expected_purchases(params, i * period_length, x, t_x, age)
        total += (cumulative - previous) / (1 + discount_rate) ** i
        previous = cumulative
    return total * spend
