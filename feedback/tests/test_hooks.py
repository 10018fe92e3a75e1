"""The hooks campaigns should call (see feedback/README.md), exercised as they would be wired:
the survey context in rendering, the pause in sending's send-time checks, audience filters."""
import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone

from campaigns import rendering
from campaigns.models import Message
from campaigns.outbox import send_due_messages
from campaigns.tests.factories import MessageFactory
from customers.models import Contact
from customers.tests.factories import ContactFactory, record_purchase
from feedback.emails import survey_contexts
from feedback.models import PromotionPause, SurveyResponse
from feedback.selectors import PAUSED_REASON, promoters_q, promotion_pause_q, promotions_paused
from feedback.services import survey_answer, surveys_queue
from feedback.tests.factories import SurveyInviteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey_links_in_emails(monkeypatch):
    """The rendering hook as the lead would add it to campaigns.rendering.message_contexts."""
    original = rendering.message_contexts

    def with_survey(messages):
        contexts, surveys = original(messages), survey_contexts(messages)
        for message in messages:
            contexts[message.pk]["survey"] = surveys.get(message.pk)
        return contexts

    monkeypatch.setattr("campaigns.outbox.batch.message_contexts", with_survey)


def test_a_queued_survey_is_sent_once_with_eleven_working_links(
        survey_campaign, survey_links_in_emails, client, settings):
    settings.CRM_PUBLIC_URL = "https://crm.example.com"
    contact = ContactFactory(marketing_consent=True)
    record_purchase(contact, days_ago=7)
    surveys_queue()

    send_due_messages()
    send_due_messages()

    assert len(mail.outbox) == 1
    links = re.findall(r"^(\d+): https://crm\.example\.com(/feedback/\S+/)$", mail.outbox[0].body,
                       re.MULTILINE)
    assert [int(score) for score, _url in links] == list(range(11))
    client.post(dict(links)["6"], {"comment": ""})
    response = SurveyResponse.objects.get()
    assert (response.contact, response.score) == (contact, 6)


def test_promotions_are_held_back_for_a_paused_contact_but_surveys_are_not():
    paused = ContactFactory(marketing_consent=True)
    PromotionPause.objects.create(contact=paused,
                                  paused_until=timezone.now() + dt.timedelta(days=1))
    promo, other = MessageFactory(contact=paused), MessageFactory()
    survey = SurveyInviteFactory(contact=paused).message
    messages = list(Message.objects.select_related("campaign").filter(
        pk__in=[promo.pk, other.pk, survey.pk]))

    blocked = promotions_paused(messages, now=timezone.now())

    assert blocked == {promo.pk: (Message.Status.SUPPRESSED, PAUSED_REASON)}


def test_a_pause_that_ended_holds_nothing_back():
    contact = ContactFactory(marketing_consent=True)
    PromotionPause.objects.create(contact=contact,
                                  paused_until=timezone.now() - dt.timedelta(seconds=1))
    message = MessageFactory(contact=contact)

    assert promotions_paused([message], now=timezone.now()) == {}


def test_audience_filters_for_pauses_and_promoters():
    promoter, detractor, changed_mind = (ContactFactory() for _ in range(3))
    survey_answer(invite=SurveyInviteFactory(contact=promoter), score=10)
    survey_answer(invite=SurveyInviteFactory(contact=detractor), score=2)
    survey_answer(invite=SurveyInviteFactory(contact=changed_mind), score=9,
                  now=timezone.now() - dt.timedelta(days=30))
    survey_answer(invite=SurveyInviteFactory(contact=changed_mind), score=5)
    ids = [promoter.pk, detractor.pk, changed_mind.pk]

    not_paused = Contact.objects.filter(pk__in=ids).filter(promotion_pause_q(timezone.now()))
    promoters = Contact.objects.filter(pk__in=ids).filter(promoters_q())

    assert set(not_paused) == {promoter}
    assert set(promoters) == {promoter}
