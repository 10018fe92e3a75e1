"""NPS figures from the database, the contact include, and the admin list."""
import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.tests.factories import ManagerFactory
from campaigns.models import Message
from feedback.models import SurveyResponse
from feedback.nps import NpsCounts
from feedback.selectors import contact_feedback, latest_comments, nps_by_month, nps_summary
from feedback.services import survey_answer
from feedback.tests.factories import SurveyInviteFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 15)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), timezone.get_current_timezone())


def answered(score: int, day: dt.date = DAY, comment: str = "") -> SurveyResponse:
    invite = SurveyInviteFactory()
    Message.objects.filter(pk=invite.message_id).update(status=Message.Status.SENT,
                                                        sent_at=at(day))
    return survey_answer(invite=invite, score=score, comment=comment, now=at(day))


def sent_unanswered(day: dt.date = DAY) -> None:
    invite = SurveyInviteFactory()
    Message.objects.filter(pk=invite.message_id).update(status=Message.Status.SENT,
                                                        sent_at=at(day))


def test_summary_matches_a_hand_computed_example():
    # 5 promoters, 2 passives, 3 detractors -> NPS 50 - 30 = 20; 10 answered of 16 sent.
    for score in (9, 9, 10, 10, 10, 7, 8, 0, 3, 6):
        answered(score)
    for _ in range(6):
        sent_unanswered()
    answered(0, day=DAY + dt.timedelta(days=40))  # outside the range

    summary = nps_summary(start=DAY - dt.timedelta(days=1), end=DAY)

    assert summary.counts == NpsCounts(promoters=5, passives=2, detractors=3)
    assert summary.nps == 20.0
    assert (summary.answered, summary.sent) == (10, 16)
    assert summary.response_rate == 0.625


def test_nps_by_month():
    answered(10, day=dt.date(2026, 1, 5))
    answered(2, day=dt.date(2026, 1, 20))
    answered(9, day=dt.date(2026, 2, 1))

    rows = nps_by_month(start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 28))

    assert [(row.month, row.counts, row.nps) for row in rows] == [
        (dt.date(2026, 1, 1), NpsCounts(promoters=1, passives=0, detractors=1), 0.0),
        (dt.date(2026, 2, 1), NpsCounts(promoters=1, passives=0, detractors=0), 100.0),
    ]


def test_latest_comments_leave_out_empty_ones():
    answered(9, comment="Great")
    answered(3)

    assert [r.comment for r in latest_comments()] == ["Great"]


def test_contact_include_shows_answers_and_the_pause():
    response = answered(4, day=timezone.localdate(), comment="Late parcel")

    with translation.override("en"):
        html = render_to_string("feedback/_contact_feedback.html",
                                {"contact_feedback": contact_feedback(response.contact)})

    assert "Late parcel" in html
    assert "Promotional emails paused until" in html


def test_admin_list_shows_the_nps_block(client):
    answered(10, day=timezone.localdate())
    client.force_login(ManagerFactory(is_staff=True, is_superuser=True))

    page = client.get("/admin/feedback/surveyresponse/", HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert "NPS 100.0" in page.content.decode()
