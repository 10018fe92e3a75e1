"""What feedback adds to campaigns' audiences, send-time checks and emails (registered in
FeedbackConfig.ready()).

campaigns never imports feedback: it calls campaigns.hooks, and these functions answer.
"""
from django.db.models import Q

from campaigns import hooks

from .emails import sample_survey_context, survey_contexts
from .selectors import detractors_q, promoters_q, promotion_pause_q, promotions_paused


def _audience_q(criteria) -> Q:
    """The survey criteria of campaigns.audience.AudienceCriteria."""
    q = Q()
    if criteria.nps_promoter:
        q &= promoters_q()
    if criteria.nps_detractor is not None:
        q &= detractors_q() if criteria.nps_detractor else ~detractors_q()
    return q


def register() -> None:
    hooks.audience_allowed.register(promotion_pause_q)
    hooks.audience_criteria.register(_audience_q)
    hooks.send_blocks.register(promotions_paused)
    hooks.survey_contexts.register(survey_contexts)
    hooks.survey_sample.register(sample_survey_context)
