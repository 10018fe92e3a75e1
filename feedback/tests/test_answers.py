"""Recording and changing answers, comments, and what a detractor answer sets off."""
import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory
from customers.models import FollowUp
from customers.tests.factories import ContactFactory
from feedback.models import PromotionPause, SurveyResponse
from feedback.services import survey_answer
from feedback.tests.factories import SurveyInviteFactory

pytestmark = pytest.mark.django_db


def test_first_answer_creates_the_response():
    invite = SurveyInviteFactory()

    response = survey_answer(invite=invite, score=8, language="tr")

    assert (response.contact_id, response.score, response.language) == (invite.contact_id, 8, "tr")


def test_a_second_click_updates_the_same_response():
    invite = SurveyInviteFactory()
    survey_answer(invite=invite, score=8, comment="Fast delivery")

    survey_answer(invite=invite, score=10)

    response = SurveyResponse.objects.get()
    assert (response.score, response.comment) == (10, "Fast delivery")


def test_the_comment_is_stored_trimmed_and_can_be_changed():
    invite = SurveyInviteFactory()
    survey_answer(invite=invite, score=9, comment="  Great  ")
    assert SurveyResponse.objects.get().comment == "Great"

    survey_answer(invite=invite, score=9, comment="Great staff")

    assert SurveyResponse.objects.get().comment == "Great staff"


def test_a_score_outside_the_scale_writes_nothing():
    with pytest.raises(ValueError):
        survey_answer(invite=SurveyInviteFactory(), score=11)

    assert not SurveyResponse.objects.exists()


def test_a_detractor_gets_a_call_back_task_for_the_owner_due_tomorrow(settings):
    settings.LANGUAGE_CODE = "en"
    owner = SalesStaffFactory(language="en")
    invite = SurveyInviteFactory(contact=ContactFactory(owner=owner, marketing_consent=True))

    response = survey_answer(invite=invite, score=4, language="tr")

    task = FollowUp.objects.get()
    assert (task.contact_id, task.assigned_to, task.title) == (
        invite.contact_id, owner, "Call back: unhappy (score 4)")
    assert task.due_on == timezone.localdate() + dt.timedelta(days=1)
    assert response.follow_up == task


def test_the_call_back_task_is_written_in_the_owners_language():
    owner = SalesStaffFactory(language="tr")
    invite = SurveyInviteFactory(contact=ContactFactory(owner=owner, marketing_consent=True))

    survey_answer(invite=invite, score=2, language="en")

    assert FollowUp.objects.get().title == "Geri ara: memnun değil (puan 2)"


def test_changing_a_detractor_score_creates_no_second_task():
    owner = SalesStaffFactory()
    invite = SurveyInviteFactory(contact=ContactFactory(owner=owner, marketing_consent=True))
    survey_answer(invite=invite, score=3)

    survey_answer(invite=invite, score=5)

    assert FollowUp.objects.count() == 1


def test_a_detractor_without_an_owner_gets_no_task_but_is_paused():
    invite = SurveyInviteFactory()

    survey_answer(invite=invite, score=0)

    assert not FollowUp.objects.exists()
    assert PromotionPause.objects.filter(contact=invite.contact).exists()


def test_a_detractor_pauses_promotions_for_the_configured_days(settings):
    settings.CRM_DETRACTOR_PAUSE_DAYS = 30
    invite = SurveyInviteFactory()
    now = timezone.now()

    response = survey_answer(invite=invite, score=6, now=now)

    pause = PromotionPause.objects.get()
    assert (pause.contact_id, pause.paused_until, pause.response) == (
        invite.contact_id, now + dt.timedelta(days=30), response)


@pytest.mark.parametrize("score", [7, 8, 9, 10])
def test_passives_and_promoters_set_nothing_off(score):
    owner = SalesStaffFactory()
    survey_answer(invite=SurveyInviteFactory(
        contact=ContactFactory(owner=owner, marketing_consent=True)), score=score)

    assert not FollowUp.objects.exists()
    assert not PromotionPause.objects.exists()
