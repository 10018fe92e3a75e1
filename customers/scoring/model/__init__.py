"""Conversion-likelihood scoring: "buy till you die" models, numpy/scipy only.

No Django here (a test enforces it): the Django side loads purchase rows, calls
summary.histories(), fits once, scores every contact and stores the numbers.

    from customers.scoring.model import bgnbd, scores, summary
    h = summary.histories(contact_ids, purchase_days, as_of, unit="days", amounts=amounts)
    params = bgnbd.fit_bgnbd(h.frequency, h.recency, h.T)        # check params.converged/.reason
    s = scores.score(params, 90, h.frequency, h.recency, h.T)   # s.probability_purchase, ...

Modules: bgnbd (BG/NBD), paretonbd (Pareto/NBD), gammagamma (spend), clv (lifetime value),
summary (raw rows -> histories), scores (all scores at once), simulate (synthetic customers).
Each purchase model module has fit_*, log_likelihood, probability_alive,
conditional_expected_purchases, expected_purchases and probability_purchase. Fit results carry
`converged`, a machine-readable `reason` (FitOutcome, to translate for people) and an English
`message` for logs.
"""

from . import bgnbd, clv, gammagamma, paretonbd, scores, simulate, summary
from ._common import FitOutcome
from .bgnbd import BgNbdParams, fit_bgnbd
from .gammagamma import GammaGammaParams, fit_gammagamma
from .paretonbd import ParetoNbdParams, fit_paretonbd

__all__ = [
    "BgNbdParams",
    "FitOutcome",
    "GammaGammaParams",
    "ParetoNbdParams",
    "bgnbd",
    "clv",
    "fit_bgnbd",
    "fit_gammagamma",
    "fit_paretonbd",
    "gammagamma",
    "paretonbd",
    "scores",
    "simulate",
    "summary",
]
