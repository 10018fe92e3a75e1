"""What support adds to campaigns' audiences (registered in SupportConfig.ready()).

campaigns never imports support: it calls campaigns.hooks, and this function answers.
"""
from django.db.models import Q

from campaigns import hooks

from .selectors import open_case_q


def _audience_q(criteria) -> Q:
    """The open_case criterion of campaigns.audience.AudienceCriteria."""
    if criteria.open_case is None:
        return Q()
    return open_case_q() if criteria.open_case else ~open_case_q()


def register() -> None:
    hooks.audience_criteria.register(_audience_q)
