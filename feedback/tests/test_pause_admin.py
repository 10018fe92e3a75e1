"""Promotion pauses in the admin go through feedback.services, like the survey's own: adding
is promotions_pause, moving the end is promotions_pause_change, deleting is promotions_resume;
the contact, the answer that caused the pause and its creation time are not the admin's."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact
from customers.tests.factories import ContactFactory
from feedback import services
from feedback.models import PromotionPause
from feedback.selectors import promotion_pause_q
from feedback.services import survey_answer
from feedback.tests.factories import SurveyInviteFactory

pytestmark = pytest.mark.django_db
ADD_URL = reverse("admin:feedback_promotionpause_add")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _when(moment: dt.datetime) -> dict:
    """The admin's split date/time widget, in the shop's time zone."""
    local = timezone.localtime(moment)
    return {"paused_until_0": local.strftime("%Y-%m-%d"),
            "paused_until_1": local.strftime("%H:%M:%S")}


def _paused(contact: Contact) -> bool:
    """What campaigns read (audience filter): is this contact's promotion email paused now?"""
    return not Contact.objects.filter(promotion_pause_q(timezone.now()), pk=contact.pk).exists()


def _spy(monkeypatch, name: str) -> list[dict]:
    """Record the calls to a service and still run it."""
    calls: list[dict] = []
    real = getattr(services, name)

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(services, name, spy)
    return calls


def test_adding_a_pause_in_the_admin_goes_through_the_service(manager_client, monkeypatch):
    contact = ContactFactory()
    until = (timezone.now() + dt.timedelta(days=10)).replace(microsecond=0)
    calls = _spy(monkeypatch, "promotions_pause")

    response = manager_client.post(ADD_URL, {"contact": contact.pk, **_when(until)})

    assert response.status_code == 302
    assert calls == [{"contact": contact, "until": until,
                      "reason": PromotionPause.Reason.MANAGER}]
    pause = PromotionPause.objects.get()
    assert (pause.contact, pause.paused_until, pause.response, pause.reason) == (
        contact, until, None, PromotionPause.Reason.MANAGER)
    assert _paused(contact)


def test_changing_a_pause_moves_its_end_and_keeps_its_cause(manager_client, monkeypatch):
    invite = SurveyInviteFactory()
    answer = survey_answer(invite=invite, score=2)  # the survey door: a 30-day-ish pause
    pause = PromotionPause.objects.get()
    created = pause.created_at
    sooner = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    other = ContactFactory()
    calls = _spy(monkeypatch, "promotions_pause_change")

    response = manager_client.post(
        reverse("admin:feedback_promotionpause_change", args=[pause.pk]),
        {**_when(sooner), "contact": other.pk, "response": "", "created_at_0": "2020-01-01",
         "created_at_1": "00:00:00"})

    assert response.status_code == 302
    assert len(calls) == 1 and calls[0]["until"] == sooner
    pause.refresh_from_db()
    assert (pause.contact_id, pause.response, pause.created_at) == (
        invite.contact_id, answer, created)
    assert pause.paused_until == sooner  # shorter than the survey's: a manager's decision


def test_a_pause_moved_into_the_past_no_longer_holds_promotions_back(manager_client):
    invite = SurveyInviteFactory()
    survey_answer(invite=invite, score=0)
    pause = PromotionPause.objects.get()
    assert _paused(invite.contact)

    manager_client.post(reverse("admin:feedback_promotionpause_change", args=[pause.pk]),
                        _when(timezone.now() - dt.timedelta(minutes=1)))

    assert not _paused(invite.contact)


def test_deleting_pauses_in_the_admin_lifts_them_through_the_service(manager_client,
                                                                     monkeypatch):
    contacts = [ContactFactory(), ContactFactory()]
    for contact in contacts:
        services.promotions_pause(contact=contact,
                                  until=timezone.now() + dt.timedelta(days=5))
    calls = _spy(monkeypatch, "promotions_resume")
    changelist = reverse("admin:feedback_promotionpause_changelist")

    response = manager_client.post(changelist, {
        "action": "delete_selected", "post": "yes",
        "_selected_action": [str(pk) for pk in PromotionPause.objects.values_list("pk",
                                                                                  flat=True)]})

    assert response.status_code == 302
    assert len(calls) == 1
    assert not PromotionPause.objects.exists()
    assert not any(_paused(contact) for contact in contacts)


def test_the_admin_pause_is_the_survey_pause_for_the_same_end(manager_client, settings):
    """Parity: the survey door and the admin door store the same pause for the same end (the
    cause differs by construction: the admin has no answer to point to)."""
    settings.CRM_DETRACTOR_PAUSE_DAYS = 7
    now = timezone.now().replace(microsecond=0)
    invite = SurveyInviteFactory()
    survey_answer(invite=invite, score=3, now=now)
    by_hand = ContactFactory()

    manager_client.post(ADD_URL, {"contact": by_hand.pk, **_when(now + dt.timedelta(days=7))})

    survey, admin = (PromotionPause.objects.get(contact=invite.contact),
                     PromotionPause.objects.get(contact=by_hand))
    assert survey.paused_until == admin.paused_until == now + dt.timedelta(days=7)
    assert _paused(invite.contact) and _paused(by_hand)
