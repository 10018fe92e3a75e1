"""What staff read as "still an active customer", and the 12-month value if the customer stays.

The rule (issue #18, point 4):

* P(alive) shown and stored is always Pareto/NBD's (FH note eq. 24), whichever model gives the
  buy-again number, expected purchases and the 12-month value. BG/NBD cannot be used here:
  its customers drop out only right after a repeat purchase, so every one-time buyer is 100%
  "still active" however long they have been silent, and a second purchase today makes the
  figure fall (to 81% on CDNOW). Under Pareto/NBD a customer can leave at any moment: a
  one-time buyer silent for 464 days is 30% likely still active on CDNOW, and anyone who bought
  on the scoring day is 100%.
* So along one contact's history the two numbers move together: silence lowers both, a
  purchase lifts both and sets "still active" to 100% that day. (Between different contacts it
  can differ: of two customers silent since the same day, the one who used to buy more often is
  less likely still active, since their silence says more, yet may be likelier to buy.)
* Only an active customer buys, so "still active" is never shown below the buy-again number:
  P(alive) = max(Pareto/NBD P(alive), p_buy_again). (The two agree already when Pareto/NBD
  gives the buy-again number too; the floor matters when another model was chosen for it.)
* When the Pareto/NBD fit did not converge, or its number is not finite for a history, P(alive)
  is unknown (NaN here, NULL in the database, "unknown" on screen with the reason), never
  another model's number.

value_if_active_year is Pareto/NBD's expected purchase days in the next 365 days for a customer
who is still active (eq. 41 without its P(alive) factor) times the expected spend per purchase
day: what the customer is worth in a year if they stay. The call list's "slipping" ranking
multiplies it by the drop in P(alive) since the last purchase (Pareto/NBD's P(alive) is 1 on
the day of a purchase, so the drop is 1 - P(alive)); see dashboard.selectors.call_list.
"""

from dataclasses import dataclass

import numpy as np

from . import paretonbd
from ._common import group_rows
from .paretonbd import ParetoNbdParams

YEAR_DAYS = 365


@dataclass(frozen=True, slots=True)
class Alive:
    """Per contact: P(alive) as shown, and the 12-month value if still active (NaN: unknown)."""

    p_alive: np.ndarray
    value_if_active_year: np.ndarray


def shown(params: ParetoNbdParams, x, t_x, T, p_buy, spend, *, p_alive=None) -> Alive:
    """P(alive) as staff see it and the value if active, per contact (see the module docstring).

    p_alive: Pareto/NBD's P(alive) for these rows when the caller has it already (it is most of
    the cost); p_buy: the buy-again numbers shown; spend: expected spend per purchase day.
    """
    x, t_x, T = (np.asarray(v, dtype=float).ravel() for v in (x, t_x, T))
    unknown = np.full(len(x), np.nan)
    if not params.converged:
        return Alive(unknown, unknown.copy())
    with np.errstate(all="ignore"):
        if p_alive is None:
            ux, ut, uage, _, inverse = group_rows(x, t_x, T)
            p_alive = paretonbd.probability_alive(params, ux, ut, uage)[inverse]
        per_active = paretonbd.conditional_expected_purchases(
            params, YEAR_DAYS, x, t_x, T, alive=1.0)
        value = per_active * np.asarray(spend, dtype=float).ravel()
        shown_p = np.maximum(np.asarray(p_alive, dtype=float), np.asarray(p_buy, dtype=float))
    bad = ~(np.isfinite(shown_p) & np.isfinite(value) & (value >= 0))
    shown_p = np.clip(shown_p, 0.0, 1.0)
    shown_p[bad] = np.nan
    value = np.where(bad, np.nan, value)
    return Alive(shown_p, value)
