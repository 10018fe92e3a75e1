"""Leaving a journey: the moment a contact buys (by any door), their journeys end and their
queued journey emails are cancelled; unsubscribing ends it at the next step; consent,
suppression and the frequency cap are checked again when the outbox sends."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory
from api.tests.helpers import token_client
from campaigns.journey_advance import journeys_advance
from campaigns.journeys import purchases_exit
from campaigns.models import CampaignRun, JourneyEnrollment, Message, Suppression
from campaigns.outbox import send_due_messages
from campaigns.suppression import contact_unsubscribe
from campaigns.tests.factories import MessageFactory
from campaigns.tests.journeys import consenting, days, email, enrolled, journey, wait
from customers.services.contacts import contact_set_consent
from customers.services.purchases import purchase_record

pytestmark = pytest.mark.django_db

Status = JourneyEnrollment.Status


def _journey_with_a_queued_email():
    campaign = journey(email(), wait(3), email())
    enrollment = enrolled(campaign, started_at=timezone.now() - dt.timedelta(minutes=5))
    journeys_advance()
    queued = Message.objects.get(enrollment=enrollment)
    assert queued.status == Message.Status.QUEUED
    return campaign, enrollment, queued


def test_a_purchase_through_the_api_ends_the_journey_and_cancels_its_queued_email():
    campaign, enrollment, queued = _journey_with_a_queued_email()
    other = enrolled(campaign)  # someone else stays in
    client = token_client(SalesStaffFactory())

    response = client.post("/api/purchases/", {
        "email": enrollment.contact.email, "purchased_at": timezone.now().isoformat(),
        "amount": "30.00", "currency": "USD", "source": "shop", "external_id": "J-1"},
        format="json")

    assert response.status_code == 201, response.content
    enrollment.refresh_from_db(), queued.refresh_from_db(), other.refresh_from_db()
    assert enrollment.status == Status.CONVERTED and enrollment.ended_at is not None
    assert queued.status == Message.Status.CANCELLED
    assert other.status == Status.ACTIVE
    assert CampaignRun.objects.get(pk=queued.run_id).status == CampaignRun.Status.DONE

    journeys_advance(now=timezone.now() + days(3))
    assert Message.objects.filter(enrollment=enrollment).count() == 1  # nothing more


def test_an_order_older_than_the_journey_does_not_end_it():
    _campaign, enrollment, queued = _journey_with_a_queued_email()

    purchase_record(contact=enrollment.contact, purchased_at=timezone.now() - days(30),
                    amount=Decimal("10"), currency="USD")

    enrollment.refresh_from_db(), queued.refresh_from_db()
    assert enrollment.status == Status.ACTIVE and queued.status == Message.Status.QUEUED


def test_an_imported_purchase_ends_the_journey_after_commit():
    """Imports bypass purchase_created; their worker hook (purchases_committed) ends it, and
    every step checks again anyway."""
    _campaign, enrollment, queued = _journey_with_a_queued_email()
    purchase_record(contact=enrollment.contact, purchased_at=timezone.now(),
                    amount=Decimal("10"), currency="USD")
    JourneyEnrollment.objects.filter(pk=enrollment.pk).update(status=Status.ACTIVE,
                                                              ended_at=None)
    Message.objects.filter(pk=queued.pk).update(status=Message.Status.QUEUED)

    purchases_exit({enrollment.contact_id: 1})

    enrollment.refresh_from_db(), queued.refresh_from_db()
    assert enrollment.status == Status.CONVERTED and queued.status == Message.Status.CANCELLED


def test_a_purchase_missed_by_the_hooks_ends_the_journey_at_the_next_step(monkeypatch):
    monkeypatch.setattr("campaigns.journeys.journeys_exit_bought", lambda *a, **k: 0)
    campaign = journey(wait(1), email())
    start = timezone.now() - dt.timedelta(minutes=5)
    enrollment = enrolled(campaign, started_at=start)
    purchase_record(contact=enrollment.contact, purchased_at=timezone.now(),
                    amount=Decimal("10"), currency="USD")

    journeys_advance(now=start + days(1))

    enrollment.refresh_from_db()
    assert enrollment.status == Status.CONVERTED
    assert not Message.objects.exists()


def test_an_unsubscribe_ends_the_journey_at_its_next_step():
    campaign, enrollment, queued = _journey_with_a_queued_email()

    contact_unsubscribe(contact=enrollment.contact, source="unsubscribe-link")
    journeys_advance(now=timezone.now() + days(3))

    enrollment.refresh_from_db(), queued.refresh_from_db()
    assert enrollment.status == Status.UNSUBSCRIBED
    assert queued.status == Message.Status.CANCELLED
    assert Message.objects.filter(enrollment=enrollment).count() == 1


def test_a_suppressed_address_ends_the_journey_at_its_next_step():
    campaign = journey(email())
    enrollment = enrolled(campaign)
    Suppression.objects.create(email=enrollment.contact.email,
                               reason=Suppression.Reason.BOUNCED)

    journeys_advance()

    enrollment.refresh_from_db()
    assert enrollment.status == Status.UNSUBSCRIBED and not Message.objects.exists()


def test_consent_withdrawn_after_queueing_is_enforced_when_sending():
    _campaign, enrollment, queued = _journey_with_a_queued_email()
    contact_set_consent(contact=enrollment.contact, consent=False, source="test")

    send_due_messages()

    queued.refresh_from_db()
    assert queued.status == Message.Status.SUPPRESSED and mail.outbox == []


def test_the_frequency_cap_holds_for_journey_emails():
    contact = consenting()
    MessageFactory(contact=contact, status=Message.Status.SENT, sent_at=timezone.now())
    campaign = journey(email())
    enrollment = enrolled(campaign, contact=contact)
    journeys_advance()

    send_due_messages()

    row = Message.objects.get(enrollment=enrollment)
    assert row.status == Message.Status.CAPPED and mail.outbox == []


def test_a_journey_email_goes_out_through_the_outbox():
    _campaign, enrollment, queued = _journey_with_a_queued_email()

    send_due_messages()

    queued.refresh_from_db()
    assert queued.status == Message.Status.SENT
    assert [m.to for m in mail.outbox] == [[enrollment.contact.email]]
