"""What feedback adds to customers' pages and figures (registered in FeedbackConfig.ready()).

customers never imports feedback: its pages ask customers.hooks, and these functions answer.
"""
import datetime as dt

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from customers import hooks

from .models import SurveyResponse
from .selectors import (
    answered_q, contact_feedback, detractors_q, latest_comments, nps_by_month, nps_summary,
    promoters_q,
)

NPS_WINDOW_DAYS = 90  # the KPI page's NPS: the last three months, live (small tables)


def _contact_page(request, contact) -> dict:
    return {"contact_feedback": contact_feedback(contact)}


def _kpi_page(request) -> dict:
    today = timezone.localdate()
    return {"nps": nps_summary(start=today - dt.timedelta(days=NPS_WINDOW_DAYS), end=today),
            "comments": latest_comments(limit=5)}


def _kpi_monthly(start: dt.date) -> dict:
    """NPS by month since `start` (the KPI snapshot's chart)."""
    return {"nps": {f"{row.month:%Y-%m}": row.counts.nps
                    for row in nps_by_month(start=start, end=timezone.localdate())}}


def _contact_counts() -> dict:
    return {"answered": answered_q(), "promoters": promoters_q(),
            "detractors": detractors_q()}


def _score_row_annotations() -> dict:
    """The call list's latest survey score of each row's contact."""
    latest = SurveyResponse.objects.filter(contact=OuterRef("contact")).order_by(
        "-created_at", "-id").values("score")[:1]
    return {"latest_survey": Subquery(latest)}


def register() -> None:
    hooks.contact_page.register(_contact_page)
    hooks.kpi_page.register(_kpi_page)
    hooks.kpi_monthly.register(_kpi_monthly)
    hooks.contact_counts.register(_contact_counts)
    hooks.score_row_annotations.register(_score_row_annotations)
