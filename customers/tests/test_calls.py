"""Logged calls (customers.services.calls) and phone numbers stored the same at every door."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import hooks
from customers.models import CallLog, CallOutcome, FollowUp
from customers.services.calls import call_log
from customers.services.contacts import contact_create, contact_update
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def turkish_shop(settings):
    settings.CRM_PHONE_REGION = "TR"


def test_a_call_is_logged_with_its_outcome_and_note(sales_user):
    contact = ContactFactory()

    call = call_log(contact=contact, user=sales_user, outcome=CallOutcome.REACHED,
                    note="  Wants the blue one  ")

    assert CallLog.objects.get() == call
    assert (call.contact, call.user, call.outcome, call.note) == (
        contact, sales_user, "reached", "Wants the blue one")
    assert not FollowUp.objects.exists()


def test_a_next_date_schedules_a_follow_up_for_the_caller(sales_user):
    contact = ContactFactory()
    day = timezone.localdate() + dt.timedelta(days=3)

    call_log(contact=contact, user=sales_user, outcome=CallOutcome.CALL_BACK,
             note="After payday", follow_up_on=day)

    follow_up = FollowUp.objects.get()
    assert (follow_up.contact, follow_up.assigned_to, follow_up.due_on) == (
        contact, sales_user, day)
    assert follow_up.title == "Call again: After payday"


def test_an_unknown_outcome_is_refused_and_nothing_is_written(sales_user):
    with pytest.raises(ValidationError) as error:
        call_log(contact=ContactFactory(), user=sales_user, outcome="maybe")

    assert "outcome" in error.value.message_dict
    assert not CallLog.objects.exists()


def test_not_interested_calls_the_hook_and_others_do_not(sales_user):
    seen = []

    def listener(contact, *, at):
        seen.append((contact.pk, at))

    hooks.contact_not_interested.register(listener)
    try:
        contact = ContactFactory()
        call_log(contact=contact, user=sales_user, outcome=CallOutcome.NO_ANSWER)
        assert seen == []
        call = call_log(contact=contact, user=sales_user, outcome=CallOutcome.NOT_INTERESTED)
    finally:
        hooks.contact_not_interested.unregister(listener)

    assert seen == [(contact.pk, call.called_at)]


# --- Phones: normalised by the service, whichever door calls it ------------------------------

def test_contact_create_stores_the_phone_in_e164():
    contact = contact_create(email="a@example.com", phone="0532 123 45 67")

    assert contact.phone == "+905321234567"


def test_contact_create_refuses_a_phone_that_is_not_one():
    with pytest.raises(ValidationError) as error:
        contact_create(email="a@example.com", phone="12")

    assert "phone" in error.value.message_dict
    assert "is not valid" in error.value.message_dict["phone"][0]


def test_contact_update_normalises_a_new_phone_and_keeps_an_old_unchanged_one():
    contact = ContactFactory(phone="555 1234")  # stored before E.164

    contact_update(contact=contact, phone="555 1234", first_name="Ayla")
    assert contact.phone == "555 1234"

    contact_update(contact=contact, phone="+90 (532) 123-45-67")
    contact.refresh_from_db()
    assert contact.phone == "+905321234567"

    with pytest.raises(ValidationError):
        contact_update(contact=contact, phone="not a phone")
