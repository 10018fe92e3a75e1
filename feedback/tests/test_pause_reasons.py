"""Why promotions are paused, as the campaign page and the outbox tell it: an unhappy answer,
"not interested" on a call and a manager's pause each keep their own reason."""
import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override

from campaigns.models import Message
from campaigns.outbox import send_due_messages
from campaigns.outbox.outcomes import reason_label
from campaigns.tests.factories import MessageFactory
from customers.tests.factories import ContactFactory
from feedback.models import PromotionPause
from feedback.services import promotions_pause

pytestmark = pytest.mark.django_db

SOON = dt.timedelta(days=30)


@pytest.mark.parametrize(("reason", "code", "words"), [
    (PromotionPause.Reason.UNHAPPY_ANSWER, "paused:detractor", "unhappy survey answer"),
    (PromotionPause.Reason.NOT_INTERESTED, "paused:not_interested", "not interested"),
    (PromotionPause.Reason.MANAGER, "paused:manager", "A manager paused"),
])
def test_a_held_back_email_says_why_its_contact_is_paused(reason, code, words):
    contact = ContactFactory(marketing_consent=True)
    promotions_pause(contact=contact, until=timezone.now() + SOON, reason=reason)
    message = MessageFactory(contact=contact)

    send_due_messages()

    message.refresh_from_db()
    assert (message.status, message.last_error) == (Message.Status.SUPPRESSED, code)
    with override("en"):
        english = reason_label(code)
    assert words in english
    with override("tr"):
        assert reason_label(code) != english


def test_a_longer_pause_keeps_its_reason_and_a_shorter_one_takes_the_new_reason():
    contact = ContactFactory()
    now = timezone.now()
    promotions_pause(contact=contact, until=now + dt.timedelta(days=90))

    kept = promotions_pause(contact=contact, until=now + SOON,
                            reason=PromotionPause.Reason.NOT_INTERESTED)
    assert kept.reason == PromotionPause.Reason.UNHAPPY_ANSWER

    extended = promotions_pause(contact=contact, until=now + dt.timedelta(days=120),
                                reason=PromotionPause.Reason.NOT_INTERESTED)
    assert extended.reason == PromotionPause.Reason.NOT_INTERESTED
    assert PromotionPause.objects.get().reason == PromotionPause.Reason.NOT_INTERESTED
