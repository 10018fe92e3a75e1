"""The arithmetic of "also bought" and reorder intervals: standard library only, no Django.

Pairs are counted at contact level: a contact who bought A (in any purchase) and B (in the
same or another) counts once for the pair. With N contacts who bought anything, n_a who
bought A, n_b who bought B and n_ab who bought both:

    support    = n_ab                      (a pair needs a minimum, e.g. 3 contacts)
    confidence = n_ab / n_a                (of A's buyers, the share who bought B too)
    lift       = n_ab * N / (n_a * n_b)    (how much likelier B is among A's buyers)

Pairs are ranked by lift, then support, then the other product's id (a stable order).
`pairs_from_baskets` is the reference the SQL of customers.bought.pairs is tested against.
"""
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class PairScore:
    product: int
    other: int
    contacts: int
    confidence: float
    lift: float


def confidence(n_ab: int, n_a: int) -> float:
    return n_ab / n_a


def lift(n_ab: int, n_a: int, n_b: int, n: int) -> float:
    return n_ab * n / (n_a * n_b)


def rank_key(score: PairScore) -> tuple:
    return (-score.lift, -score.contacts, score.other)


def pairs_from_baskets(baskets: Mapping[int, Iterable[int]], *, min_support: int,
                       per_product: int) -> list[PairScore]:
    """Every product's best `per_product` pairs with at least `min_support` contacts, from
    {contact: products bought}; both directions, ordered by product then rank."""
    bought = {contact: set(products) for contact, products in baskets.items() if products}
    singles: Counter[int] = Counter(p for products in bought.values() for p in products)
    both: Counter[tuple[int, int]] = Counter(
        pair for products in bought.values() for pair in combinations(sorted(products), 2))
    n = len(bought)
    scores: dict[int, list[PairScore]] = {}
    for (a, b), n_ab in both.items():
        if n_ab < min_support:
            continue
        for x, y in ((a, b), (b, a)):
            scores.setdefault(x, []).append(PairScore(
                x, y, n_ab, confidence(n_ab, singles[x]), lift(n_ab, singles[x], singles[y], n)))
    return [score for product in sorted(scores)
            for score in sorted(scores[product], key=rank_key)[:per_product]]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


def gaps(days: Iterable[dt.date]) -> list[int]:
    """Days between consecutive distinct purchase days."""
    ordered = sorted(set(days))
    return [(later - earlier).days for earlier, later in zip(ordered, ordered[1:], strict=False)]


def contact_interval(days: Iterable[dt.date]) -> float | None:
    """A contact's own typical interval for a product: the median gap between the days they
    bought it; None with fewer than two days."""
    between = gaps(days)
    return median(between) if between else None


def product_interval(contacts_days: Iterable[Iterable[dt.date]], *,
                     min_contacts: int) -> float | None:
    """A product's typical interval: the median of its reordering contacts' own intervals
    (each contact counts once, however often they bought), None with fewer than
    `min_contacts` of them."""
    own = [v for days in contacts_days if (v := contact_interval(days)) is not None]
    return median(own) if len(own) >= min_contacts else None


def reorder_interval(days: Iterable[dt.date], product_days: float | None) -> float | None:
    """The interval a reminder waits: the contact's own where they bought on two days or
    more, else the product's (None: not enough data, no reminder)."""
    own = contact_interval(days)
    return own if own is not None else product_days
