"""Campaign uplift: emailed group against the random held-out group. Pure: numpy/scipy only.

Two measures, each a difference (emailed minus held out) with a 95% confidence interval:

* Response rate, the share of contacts who bought within the window. The interval is
  Newcombe's hybrid score interval (Newcombe 1998, method 10): a Wilson score interval for each
  rate, combined. Unlike the plain normal (Wald) interval it stays inside [-1, 1], is sensible
  at zero counts (0 responders of 10 gives a real interval, not a width of zero) and keeps close
  to its nominal coverage with small groups or rare responses, which is exactly the held-out
  group of a small campaign. It needs no continuity correction.
* Revenue per contact (zeros included), with a Welch interval: unequal variances, because the
  groups' sizes differ by design (the holdout is small) and revenue is heavy-tailed. It is
  computed from each group's count, sum and sum of squares, so the database never sends rows.

Results carry machine-readable status codes; the Django side (campaigns.measurement)
translates them for people.
"""
import enum
import math
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95


class UpliftStatus(enum.Enum):
    OK = "ok"
    NO_EMAILED = "no_emailed"          # nobody was sent the email (yet)
    NO_HOLDOUT = "no_holdout"          # nobody was held out: nothing to compare with
    TOO_FEW_FOR_REVENUE = "too_few"    # fewer than 2 in a group: no revenue variance


@dataclass(frozen=True)
class GroupStats:
    """One group's figures: contacts, responders, and revenue per contact summed and squared."""

    contacts: int
    responders: int
    revenue_sum: float = 0.0
    revenue_sum_squares: float = 0.0

    def __post_init__(self) -> None:
        if self.contacts < 0 or not 0 <= self.responders <= self.contacts:
            raise ValueError(f"need 0 <= responders <= contacts, got {self}")

    @property
    def response_rate(self) -> float | None:
        return self.responders / self.contacts if self.contacts else None

    @property
    def revenue_per_contact(self) -> float | None:
        return self.revenue_sum / self.contacts if self.contacts else None

    @property
    def revenue_variance(self) -> float | None:
        """Sample variance of revenue per contact (n - 1), never negative from rounding."""
        if self.contacts < 2:
            return None
        centred = self.revenue_sum_squares - self.revenue_sum ** 2 / self.contacts
        return max(centred, 0.0) / (self.contacts - 1)


@dataclass(frozen=True)
class Difference:
    """Emailed minus held out, with its confidence interval (None when it cannot be computed)."""

    estimate: float | None
    low: float | None
    high: float | None

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.low is not None and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class UpliftResult:
    status: UpliftStatus
    emailed: GroupStats
    held_out: GroupStats
    response_rate: Difference
    revenue_per_contact: Difference


_NONE = Difference(None, None, None)


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, *,
                    confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) when there is no one to count."""
    if n == 0:
        return 0.0, 1.0
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # At 0 and n the bound is exactly 0 or 1; float rounding must not move it.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def newcombe_difference(a: GroupStats, b: GroupStats, *,
                        confidence: float = CONFIDENCE) -> Difference:
    """Rate of a minus rate of b with Newcombe's hybrid score interval."""
    if not a.contacts or not b.contacts:
        return _NONE
    p1, p2 = a.responders / a.contacts, b.responders / b.contacts
    l1, u1 = wilson_interval(a.responders, a.contacts, confidence=confidence)
    l2, u2 = wilson_interval(b.responders, b.contacts, confidence=confidence)
    estimate = p1 - p2
    low = estimate - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = estimate + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(estimate, low, high)


def welch_difference(a: GroupStats, b: GroupStats, *,
                     confidence: float = CONFIDENCE) -> Difference:
    """Mean revenue per contact of a minus b with a Welch t interval (needs 2+ per group)."""
    if a.contacts < 2 or b.contacts < 2:
        estimate = (a.revenue_per_contact - b.revenue_per_contact
                    if a.contacts and b.contacts else None)
        return Difference(estimate, None, None)
    estimate = a.revenue_per_contact - b.revenue_per_contact
    va, vb = a.revenue_variance / a.contacts, b.revenue_variance / b.contacts
    se = math.sqrt(va + vb)
    if se == 0:  # every contact in both groups spent the same: no uncertainty left to show
        return Difference(estimate, estimate, estimate)
    df = (va + vb) ** 2 / (va ** 2 / (a.contacts - 1) + vb ** 2 / (b.contacts - 1))
    t = float(stats.t.ppf(0.5 + confidence / 2, df))
    return Difference(estimate, estimate - t * se, estimate + t * se)


def uplift(emailed: GroupStats, held_out: GroupStats, *,
           confidence: float = CONFIDENCE) -> UpliftResult:
    """Both differences, emailed minus held out, and whether they could be computed."""
    if not emailed.contacts:
        status = UpliftStatus.NO_EMAILED
    elif not held_out.contacts:
        status = UpliftStatus.NO_HOLDOUT
    elif emailed.contacts < 2 or held_out.contacts < 2:
        status = UpliftStatus.TOO_FEW_FOR_REVENUE
    else:
        status = UpliftStatus.OK
    return UpliftResult(
        status=status, emailed=emailed, held_out=held_out,
        response_rate=newcombe_difference(emailed, held_out, confidence=confidence),
        revenue_per_contact=welch_difference(emailed, held_out, confidence=confidence),
    )
