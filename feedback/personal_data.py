"""What feedback/ holds about a person, for export and erasure (see crm/personal_data.py).

Scores stay (the NPS figures count them); what the person wrote goes.
"""
from crm.personal_data import Keep, Replace, Section

from .models import PromotionPause, SurveyInvite, SurveyResponse

SECTIONS = (
    Section(
        name="survey_invites", model=SurveyInvite, by="contact", order_by=("created_at", "id"),
        columns=(("id", "id"), ("created_at", "created_at"), ("purchase", "purchase_id"),
                 ("message", "message_id")),
        erase=Keep(),  # ids and a date: the response rate counts them
    ),
    Section(
        name="survey_responses", model=SurveyResponse, by="contact",
        order_by=("created_at", "id"),
        columns=(("id", "id"), ("score", "score"), ("comment", "comment"),
                 ("language", "language"), ("created_at", "created_at"),
                 ("updated_at", "updated_at")),
        erase=Replace({"comment": ""}), kept=("language",),  # a language code
        count_key="survey_comments_blanked",
    ),
    Section(
        name="promotion_pause", model=PromotionPause, by="contact",
        columns=(("paused_until", "paused_until"), ("created_at", "created_at")),
        erase=Keep(),  # a date; it keeps promotions paused as the person asked
    ),
)
