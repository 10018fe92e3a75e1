"""Bad input in a journey: a step without its template is refused when saved, a template in
use cannot be deleted, a step that cannot render fails its email visibly and the journey
goes on, and a step saved around the checks fails visibly too."""
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.utils import timezone

from campaigns.journey_advance import NO_TEMPLATE, journeys_advance
from campaigns.models import EmailTemplate, JourneyEnrollment, JourneyStep, Message
from campaigns.outbox import send_due_messages
from campaigns.tests.factories import EmailTemplateFactory
from campaigns.tests.journeys import days, email, enrolled, journey, wait

pytestmark = pytest.mark.django_db


def test_an_email_step_without_a_template_is_refused_by_clean():
    campaign = journey()
    step = JourneyStep(campaign=campaign, position=1, kind=JourneyStep.Kind.EMAIL)

    with pytest.raises(ValidationError) as refused:
        step.full_clean()

    assert "template" in refused.value.message_dict


def test_a_template_used_by_a_step_cannot_be_deleted():
    template = EmailTemplateFactory()
    journey(email(template=template))

    with pytest.raises(ProtectedError):
        template.delete()


def test_a_step_that_cannot_render_fails_its_email_visibly_and_the_journey_goes_on(caplog):
    broken = EmailTemplateFactory(body_text="Hello")
    campaign = journey(email(template=broken), wait(1), email())
    start = timezone.now()
    enrollment = enrolled(campaign, started_at=start)
    # Broken after it was saved (around clean(), e.g. by a script): it no longer compiles.
    EmailTemplate.objects.filter(pk=broken.pk).update(body_text="{% if %}")
    journeys_advance(now=start)

    with caplog.at_level(logging.WARNING, logger="campaigns.outbox.batch"):
        send_due_messages()

    failed = Message.objects.get(enrollment=enrollment)
    assert failed.status == Message.Status.FAILED and failed.last_error
    assert "could not be rendered" in caplog.text
    journeys_advance(now=start + days(1))
    enrollment.refresh_from_db()
    assert enrollment.status == JourneyEnrollment.Status.COMPLETED
    assert Message.objects.filter(enrollment=enrollment).count() == 2


def test_an_email_step_saved_without_a_template_fails_visibly(caplog):
    campaign = journey(wait(1))
    JourneyStep.objects.create(campaign=campaign, position=2, kind=JourneyStep.Kind.EMAIL)
    enrollment = enrolled(campaign)

    with caplog.at_level(logging.ERROR, logger="campaigns.journey_advance"):
        journeys_advance(now=timezone.now() + days(1))

    row = Message.objects.get(enrollment=enrollment)
    assert (row.status, row.last_error) == (Message.Status.FAILED, NO_TEMPLATE)
    assert "has no template" in caplog.text
    enrollment.refresh_from_db()
    assert enrollment.status == JourneyEnrollment.Status.COMPLETED


@pytest.mark.parametrize("fields", [{"event": "reorder_due"}, {"name": "Satisfaction survey"}])
def test_campaigns_whose_rows_carry_their_subject_cannot_be_journeys(fields):
    from campaigns.models import Campaign

    Campaign.objects.filter(name="Satisfaction survey").delete()
    campaign = journey(**fields)
    step = JourneyStep(campaign=campaign, position=1, kind=JourneyStep.Kind.WAIT, wait_days=1)

    with pytest.raises(ValidationError) as refused:
        step.full_clean()

    assert "kind" in refused.value.message_dict
