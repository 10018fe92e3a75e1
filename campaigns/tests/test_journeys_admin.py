"""Managers' journey tools in the admin: steps on the campaign page (ordered, checked), the
funnel there, the enrollments list; journey emails on the contact's timeline."""
import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.journey_advance import journeys_advance
from campaigns.models import Campaign, JourneyEnrollment, JourneyStep, Message
from campaigns.tests.factories import EmailTemplateFactory
from campaigns.tests.journeys import condition, email, enrolled, journey, wait

pytestmark = pytest.mark.django_db


def _form_data(campaign: Campaign, steps: list[dict], **changes) -> dict:
    data = {"name": campaign.name, "kind": "custom", "template": campaign.template_id,
            "trigger": "event", "event": "first_purchase", "delay_days": 0,
            "holdout_percent": 10, "uplift_window_days": 30, "coupon_kind": "",
            "coupon_valid_days": 30, "is_active": "on",
            "runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0,
            "steps-TOTAL_FORMS": len(steps), "steps-INITIAL_FORMS": 0, **changes}
    for index, step in enumerate(steps):
        data.update({f"steps-{index}-{name}": value for name, value in step.items()})
    return data


@pytest.fixture
def page(client, manager):
    client.force_login(manager)
    return client


def test_steps_are_added_on_the_campaign_page_in_order(page):
    campaign = journey()
    offer = EmailTemplateFactory()
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    response = page.post(url, _form_data(campaign, [
        {"position": 2, "kind": "wait", "wait_days": 7},
        {"position": 1, "kind": "email", "template": offer.pk, "wait_days": 0},
        {"position": 3, "kind": "condition", "condition": "stage", "stages": ["one_time"],
         "wait_days": 0}]))

    assert response.status_code == 302, response.content.decode()[:3000]
    steps = list(campaign.steps.order_by("position").values_list("kind", "template", "stages"))
    assert steps == [("email", offer.pk, []), ("wait", None, []),
                     ("condition", None, ["one_time"])]


@pytest.mark.parametrize(("step", "field"), [
    ({"position": 1, "kind": "email", "wait_days": 0}, "template"),
    ({"position": 1, "kind": "wait", "wait_days": 0}, "wait_days"),
    ({"position": 1, "kind": "condition", "wait_days": 0}, "condition"),
    ({"position": 1, "kind": "condition", "condition": "stage", "wait_days": 0}, "stages"),
])
def test_a_step_that_cannot_work_is_refused(page, step, field):
    campaign = journey()
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    response = page.post(url, _form_data(campaign, [step]))

    assert response.status_code == 200
    assert field in response.context["inline_admin_formsets"][0].formset.errors[0]
    assert not campaign.steps.exists()


def test_two_steps_at_one_position_are_refused(page):
    campaign = journey()
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    response = page.post(url, _form_data(campaign, [
        {"position": 1, "kind": "wait", "wait_days": 1},
        {"position": 1, "kind": "wait", "wait_days": 2}]))

    assert response.status_code == 200 and not campaign.steps.exists()


def test_a_coupon_template_in_a_journey_without_a_coupon_is_refused(page):
    campaign = journey()
    shows_coupon = EmailTemplateFactory(body_text="{{ coupon.code }}")
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])

    response = page.post(url, _form_data(campaign, [
        {"position": 1, "kind": "email", "template": shows_coupon.pk, "wait_days": 0}]))

    assert response.status_code == 200 and not campaign.steps.exists()
    assert "coupon" in str(response.context["inline_admin_formsets"][0].formset.errors)


def test_the_campaign_page_shows_the_funnel(page):
    campaign = journey(email(), wait(3), condition("stage", stages=["repeat"]), email(),
                       name="Second purchase")
    start = timezone.now()
    enrolled(campaign, started_at=start)
    stopped = enrolled(campaign, started_at=start)
    enrolled(campaign, held_out=True, started_at=start)
    journeys_advance(now=start)
    JourneyEnrollment.objects.filter(pk=stopped.pk).update(status="converted")

    response = page.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    html = response.content.decode()
    assert "3 contacts entered, 1 of them held out" in html
    assert 'data-testid="journey-funnel"' in html
    assert "Left: bought: 1" in html
    steps = response.context["funnel"].steps
    assert [(s.passed, s.here, s.left) for s in steps] == [
        (3, 0, {}), (3, 0, {}), (0, 2, {"converted": 1}), (0, 0, {})]


def test_the_enrollments_list_filters_by_status(page):
    campaign = journey(email())
    active, ended = enrolled(campaign), enrolled(campaign)
    JourneyEnrollment.objects.filter(pk=ended.pk).update(status="converted")
    url = reverse("admin:campaigns_journeyenrollment_changelist")

    html = page.get(url, {"status__exact": "converted"}).content.decode()

    assert ended.contact.email in html and active.contact.email not in html
    assert page.get(reverse("admin:campaigns_journeyenrollment_add")).status_code == 403


def test_a_template_used_by_a_step_cannot_be_deleted(page):
    template = EmailTemplateFactory(name="Reminder")
    journey(email(template=template))
    url = reverse("admin:campaigns_emailtemplate_delete", args=[template.pk])

    shown = page.get(url).content.decode()
    page.post(url, {"post": "yes"})

    assert "protected" in shown.lower()
    assert JourneyStep.objects.filter(template=template).exists()


def test_the_contact_timeline_shows_journey_emails(page):
    campaign = journey(email(template=EmailTemplateFactory(subject="Thanks")),
                       name="Second purchase journey")
    enrollment = enrolled(campaign)
    journeys_advance()
    Message.objects.filter(enrollment=enrollment).update(status="sent", sent_at=timezone.now())

    html = page.get(reverse("dashboard:contact_detail",
                            args=[enrollment.contact_id])).content.decode()

    assert "Second purchase journey" in html


def test_starting_a_manual_journey_enrolls_its_audience(page):
    from campaigns.tests.journeys import consenting

    campaign = journey(email(), trigger=Campaign.Trigger.MANUAL, holdout_percent=0)
    first, second = consenting(), consenting()

    response = page.post(reverse("admin:campaigns_campaign_start", args=[campaign.pk]),
                         {"confirm": "yes"}, follow=True)

    assert "Started: 2 contacts entered the journey, 0 of them held out" in (
        response.content.decode())
    assert set(JourneyEnrollment.objects.values_list("contact_id", flat=True)) == {
        first.pk, second.pk}
    assert not Message.objects.exists()  # the steps send, every minute
