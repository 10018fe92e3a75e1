"""What the shop knows about a contact beyond purchase timing, as of one day (numpy only).

The covariate model (covariate.py) reads these next to the purchase history: the first
purchase's reporting channel and acquisition source, survey scores, support cases, website
events, email engagement, and whatever else an app provides. The Django side
(customers.scoring.features) gathers them through the customers.hooks.scoring_features hook; here
they are plain arrays.

Time: an Attributes value describes contacts as of the end of one day and must hold nothing that
happened after it. The pipeline asks an AttributeSource for each cutoff it trains or scores at
(as_of - 2h, as_of - h, as_of ...), so a feature that is only known later can never leak into a
model trained before it.

Numeric attributes: float, NaN where unknown (the model adds an "unknown" indicator).
Categorical attributes: int64 level codes (any stable integer per level), UNKNOWN where unknown;
the model pools rare levels into "other" when it trains (covariate.py).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

UNKNOWN = -1  # categorical level code for "not known"


@dataclass(frozen=True)
class Attributes:
    """Per-contact attributes; every array is aligned with contact_ids."""

    contact_ids: np.ndarray  # int64, unique (ascending unless made by take())
    numeric: Mapping[str, np.ndarray] = field(default_factory=dict)  # float, NaN: unknown
    categorical: Mapping[str, np.ndarray] = field(default_factory=dict)  # int64, UNKNOWN

    def __post_init__(self):
        n = len(self.contact_ids)
        for name, values in {**self.numeric, **self.categorical}.items():
            if len(values) != n:
                raise ValueError(f"attribute {name!r} has {len(values)} values for {n} contacts")

    def take(self, contact_ids) -> "Attributes":
        """The attributes of these contacts, in their order; contacts not held are unknown.
        (self's contact_ids must be ascending and unique, as every constructor here makes them.)"""
        ids = np.asarray(contact_ids, dtype=np.int64)
        if not len(self.contact_ids):
            return Attributes(
                ids, {name: np.full(len(ids), np.nan) for name in self.numeric},
                {name: np.full(len(ids), UNKNOWN, dtype=np.int64) for name in self.categorical})
        position = np.minimum(np.searchsorted(self.contact_ids, ids), len(self.contact_ids) - 1)
        found = self.contact_ids[position] == ids
        numeric = {name: np.where(found, np.asarray(values, dtype=float)[position], np.nan)
                   for name, values in self.numeric.items()}
        categorical = {
            name: np.where(found, np.asarray(values, dtype=np.int64)[position], UNKNOWN)
            for name, values in self.categorical.items()}
        return Attributes(ids, numeric, categorical)


# day -> Attributes as of the end of that day (days since 1970-01-01).
AttributeSource = Callable[[int], Attributes]


def empty() -> Attributes:
    return Attributes(np.array([], dtype=np.int64))


def combine(parts: list[Attributes]) -> Attributes:
    """One Attributes from several (e.g. one per app), over the union of their contacts; a name
    given twice keeps the later part's values where that part knows the contact."""
    if not parts:
        return empty()
    ids = np.unique(np.concatenate([np.asarray(p.contact_ids, dtype=np.int64) for p in parts]))
    numeric: dict[str, np.ndarray] = {}
    categorical: dict[str, np.ndarray] = {}
    for part in parts:
        aligned = part.take(ids)
        known = np.isin(ids, part.contact_ids)
        for name, values in aligned.numeric.items():
            numeric[name] = np.where(known, values, numeric.get(name, np.nan))
        for name, values in aligned.categorical.items():
            categorical[name] = np.where(known, values, categorical.get(name, UNKNOWN))
    return Attributes(ids, numeric, categorical)


def from_pairs(contact_ids, values, *, categorical: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(ids, values) sorted by id, the last value of a repeated id kept (helper for providers)."""
    ids = np.asarray(contact_ids, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64 if categorical else float)
    order = np.argsort(ids, kind="stable")
    ids, values = ids[order], values[order]
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.array([], dtype=bool)
    return ids[last], values[last]
