"""Choosing a subject or content test's winner. Pure: numpy/scipy only (through uplift.py).

Each variant is an arm: the contacts it was sent to and how many of them responded (bought
within the test's window, or clicked). The winner is the arm with the highest response rate
(ties: the one sent to more contacts, then the earlier one). The best is compared with the
runner-up by Newcombe's hybrid score interval (campaigns.uplift, the same interval as the
holdout uplift): the difference is *clear* when the 95% interval excludes zero; otherwise the
best estimate is still chosen, and the result says so. Against the held-out control group (for
purchases) each arm also gets its uplift with the same interval.

Results carry machine-readable reason codes; the Django side (campaigns.variant_decision)
turns them into plain words.
"""
import enum
from dataclasses import dataclass

from .uplift import CONFIDENCE, Difference, GroupStats, newcombe_difference


class ChoiceReason(enum.Enum):
    CLEAR = "clear"          # the best beat the runner-up: the interval excludes zero
    UNCLEAR = "unclear"      # no clear difference: the best estimate was chosen
    NO_DATA = "no_data"      # nothing was sent in the test: the first variant was chosen


@dataclass(frozen=True)
class Arm:
    """One variant's figures: `key` names it (the variant's id)."""

    key: int
    contacts: int
    responders: int

    @property
    def stats(self) -> GroupStats:
        return GroupStats(contacts=self.contacts, responders=self.responders)

    @property
    def rate(self) -> float | None:
        return self.stats.response_rate


@dataclass(frozen=True)
class Choice:
    winner: int                       # the winning arm's key
    runner_up: int                    # the second best arm's key
    comparison: Difference            # winner minus runner-up, response rate
    reason: ChoiceReason
    uplifts: dict[int, Difference]    # per arm key: rate minus the control's (empty: no control)


def ranked(arms: list[Arm]) -> list[Arm]:
    """Best first: highest rate, then most contacts, then the earliest key; arms sent to
    nobody last."""
    return sorted(arms, key=lambda arm: (arm.rate is None, -(arm.rate or 0.0), -arm.contacts,
                                         arm.key))


def choose(arms: list[Arm], *, control: GroupStats | None = None,
           confidence: float = CONFIDENCE) -> Choice:
    """The winner among two or more arms, its comparison with the runner-up, and each arm's
    uplift against `control` (the held-out group; None for clicks, which the held-out
    contacts cannot make)."""
    if len(arms) < 2:
        raise ValueError("a test needs two or more variants")
    best, runner_up = ranked(arms)[:2]
    comparison = newcombe_difference(best.stats, runner_up.stats, confidence=confidence)
    if not any(arm.contacts for arm in arms):
        reason = ChoiceReason.NO_DATA
    elif comparison.significant:
        reason = ChoiceReason.CLEAR
    else:
        reason = ChoiceReason.UNCLEAR
    uplifts = ({arm.key: newcombe_difference(arm.stats, control, confidence=confidence)
                for arm in arms} if control is not None else {})
    return Choice(winner=best.key, runner_up=runner_up.key, comparison=comparison,
                  reason=reason, uplifts=uplifts)
