"""Net Promoter Score arithmetic. Standard library only: the Django side translates the codes.

A score is 0..10. Promoters answer 9-10, passives 7-8, detractors 0-6, and
NPS = % promoters - % detractors, a number from -100 to +100 (passives count in the total only).
"""
from dataclasses import dataclass
from enum import StrEnum

MIN_SCORE, MAX_SCORE = 0, 10
SCORES = tuple(range(MIN_SCORE, MAX_SCORE + 1))


class Category(StrEnum):
    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"


def category(score: int) -> Category:
    """The NPS group of one answer; ValueError outside 0..10 (a bug upstream, never data)."""
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise ValueError(f"score out of range: {score}")
    if score >= 9:
        return Category.PROMOTER
    if score >= 7:
        return Category.PASSIVE
    return Category.DETRACTOR


@dataclass(frozen=True)
class NpsCounts:
    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        """-100..100 rounded to one decimal; None with no answers (0 would be a claim)."""
        if not self.total:
            return None
        return round(100 * (self.promoters - self.detractors) / self.total, 1)


def counts_from_scores(scores: list[int]) -> NpsCounts:
    groups = [category(score) for score in scores]
    return NpsCounts(promoters=groups.count(Category.PROMOTER),
                     passives=groups.count(Category.PASSIVE),
                     detractors=groups.count(Category.DETRACTOR))


def response_rate(responses: int, sent: int) -> float | None:
    """Share of sent surveys that were answered, 0..1; None when nothing was sent."""
    return responses / sent if sent else None
