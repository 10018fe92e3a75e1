"""Subject tests in the admin: managers set up variants and the test on the campaign page,
see the figures and the decision in plain words, and can decide now."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ContentVariant, Message, VariantTest
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.variant_decision import variant_test_decide

from .variant_helpers import buyers, campaign, template, variants

pytestmark = pytest.mark.django_db


def _form(offer, **extra) -> dict:
    return {"name": offer.name, "kind": "convert", "template": offer.template_id,
            "trigger": "manual", "event": "", "delay_days": 0, "holdout_percent": 10,
            "uplift_window_days": 30, "coupon_kind": "", "coupon_valid_days": 30,
            "stages": ["one_time"], "runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0,
            "variants-TOTAL_FORMS": 0, "variants-INITIAL_FORMS": 0,
            "variant_tests-TOTAL_FORMS": 0, "variant_tests-INITIAL_FORMS": 0, **extra}


def test_a_manager_sets_up_variants_and_the_test_on_the_campaign_page(client, manager):
    offer = campaign()
    a, b = template("Subject A"), template("Subject B")
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[offer.pk])
    assert 'name="variants-TOTAL_FORMS"' in client.get(url).content.decode()

    response = client.post(url, _form(
        offer, **{"variants-TOTAL_FORMS": 2, "variants-0-label": "A", "variants-0-template": a.pk,
                  "variants-1-label": "B", "variants-1-template": b.pk,
                  "variant_tests-TOTAL_FORMS": 1, "variant_tests-0-test_percent": 30,
                  "variant_tests-0-metric": "clicks",
                  "variant_tests-0-decide_after_hours": 48}))

    assert response.status_code == 302
    assert set(ContentVariant.objects.values_list("label", "template")) == {("A", a.pk),
                                                                           ("B", b.pk)}
    test = VariantTest.objects.get(campaign=offer)
    assert (test.step, test.test_percent, test.metric, test.decide_after_hours) == (
        None, 30, "clicks", 48)


def test_a_variant_whose_template_shows_a_coupon_the_campaign_lacks_is_refused(client, manager):
    offer = campaign()
    coupon = template("Subject C", coupon=True)
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[offer.pk])

    response = client.post(url, _form(offer, **{
        "variants-TOTAL_FORMS": 1, "variants-0-label": "C", "variants-0-template": coupon.pk}))

    assert response.status_code == 200
    assert "This template shows a coupon" in response.content.decode()
    assert not ContentVariant.objects.exists()


def test_the_campaign_page_shows_the_decision_in_plain_words(client, manager):
    offer = campaign()
    test, (a, b) = variants(offer)
    run = CampaignRunFactory(campaign=offer)
    now = timezone.now()
    for variant in (a, a, b):
        MessageFactory(run=run, status=Message.Status.SENT, variant=variant,
                       sent_at=now - dt.timedelta(hours=1))
    variant_test_decide(test.pk, by_manager=True, now=now)
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_campaign_change", args=[offer.pk])).content.decode()

    figures = html[html.index('data-testid="variant-test-figures"'):]
    assert "A <strong>winner</strong></th><td>2</td><td>0</td>" in figures
    assert "“A” won and was sent to the rest" in html
    assert "No clear difference between “A” and “B”" in html
    assert "A manager decided the test." in html
    assert 'data-testid="decide-now"' not in html


def test_decide_now_from_the_campaign_page(client, manager):
    offer = campaign()
    test, (a, b) = variants(offer)
    run = CampaignRunFactory(campaign=offer)
    MessageFactory(run=run, status=Message.Status.SENT, variant=b, sent_at=timezone.now())
    waiting = MessageFactory(run=run, status=Message.Status.WAITING)
    client.force_login(manager)
    page = client.get(reverse("admin:campaigns_campaign_change", args=[offer.pk])).content.decode()
    assert 'data-testid="decide-now"' in page

    response = client.post(reverse("admin:campaigns_varianttest_decide", args=[test.pk]),
                           follow=True)

    test.refresh_from_db()
    waiting.refresh_from_db()
    assert test.winner == b and test.result["decided_by"] == "manager"
    assert (waiting.status, waiting.variant) == (Message.Status.QUEUED, b)
    assert "decided: “B” won." in response.content.decode()


def test_decide_now_as_an_action_in_the_list_of_tests(client, manager):
    offer = campaign()
    test, (a, b) = variants(offer)
    client.force_login(manager)

    client.post(reverse("admin:campaigns_varianttest_changelist"),
                {"action": "decide_now", "_selected_action": [test.pk]})

    test.refresh_from_db()
    assert test.winner == a and test.result["reason"] == "no_data"


def test_the_run_confirmation_says_who_gets_the_test_and_who_waits(client, manager):
    buyers(10)
    offer = campaign()
    variants(offer, test_percent=30)
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_campaign_start", args=[offer.pk])).content.decode()

    assert "Of them, 3 get the test variants at random; 7 wait for the test's winner." in html


def test_a_variant_of_a_running_test_cannot_be_removed(client, manager):
    offer = campaign()
    test, (a, b) = variants(offer)
    VariantTest.objects.filter(pk=test.pk).update(started_at=timezone.now())
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[offer.pk])

    response = client.post(url, _form(offer, **{
        "variants-TOTAL_FORMS": 2, "variants-INITIAL_FORMS": 2,
        "variants-0-id": a.pk, "variants-0-label": "A", "variants-0-template": a.template_id,
        "variants-0-DELETE": "on",
        "variants-1-id": b.pk, "variants-1-label": "B", "variants-1-template": b.template_id}))

    assert response.status_code == 200
    assert "“A” is in a running test: decide the test before removing it." in \
        response.content.decode()
    assert ContentVariant.objects.count() == 2


def test_a_page_without_the_test_inlines_saves_the_campaign_and_keeps_the_variants(client,
                                                                                   manager):
    offer = campaign()
    variants(offer)
    client.force_login(manager)
    data = {key: value for key, value in _form(offer, holdout_percent=20).items()
            if not key.startswith("variant")}

    response = client.post(reverse("admin:campaigns_campaign_change", args=[offer.pk]), data)

    offer.refresh_from_db()
    assert response.status_code == 302 and offer.holdout_percent == 20
    assert ContentVariant.objects.count() == 2


def test_two_tests_of_the_same_email_are_refused_not_a_server_error(client, manager):
    offer = campaign()
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[offer.pk])
    test = {"test_percent": 30, "metric": "clicks", "decide_after_hours": 48}

    response = client.post(url, _form(offer, **{
        "variant_tests-TOTAL_FORMS": 2,
        **{f"variant_tests-{index}-{key}": value for index in (0, 1)
           for key, value in test.items()}}))

    assert response.status_code == 200
    assert "An email has one test" in response.content.decode()
    assert not VariantTest.objects.exists()


def test_a_test_added_with_its_defaults_is_saved(client, manager):
    offer = campaign()
    client.force_login(manager)

    client.post(reverse("admin:campaigns_campaign_change", args=[offer.pk]), _form(offer, **{
        "variant_tests-TOTAL_FORMS": 1, "variant_tests-0-test_percent": 20,
        "variant_tests-0-metric": "purchases", "variant_tests-0-decide_after_hours": 72}))

    assert VariantTest.objects.filter(campaign=offer, step=None, test_percent=20).exists()
