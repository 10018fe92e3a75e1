"""Managers' campaign tools in the admin: dry run, start, progress, uplift, template preview."""
import pytest
from django.core import mail
from django.urls import reverse

from campaigns.models import Campaign, CampaignRun, EmailTemplate, Message
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyers(db):
    contacts = []
    for index in range(12):
        contact = ContactFactory(first_name=f"Buyer{index}")
        record_purchase(contact, days_ago=40)
        contact_set_consent(contact=contact, consent=True, source="test")
        contacts.append(contact)
    return contacts


@pytest.fixture
def campaign(db) -> Campaign:
    template = EmailTemplate.objects.create(
        name="Hello", subject="Hello {{ contact.first_name }}",
        # No {{ coupon }}: the campaign gives none (campaigns.template_needs would refuse it).
        body_text="Hi {{ contact.first_name }}, see you soon.",
        body_html="<p>Hi {{ contact.first_name }}</p>")
    return Campaign.objects.create(name="Convert test", template=template, holdout_percent=25,
                                   audience={"stages": ["one_time"]})


def test_the_campaign_page_shows_the_audience_before_sending(client, manager, buyers, campaign):
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    assert "12 contacts match today." in html
    assert "25% of them will be held out" in html
    assert buyers[0].email in html or buyers[-1].email in html
    assert "one-time buyer" in html.lower()


def test_starting_a_run_from_the_admin_queues_and_holds_out(client, manager, buyers, campaign):
    client.force_login(manager)

    response = client.post(reverse("admin:campaigns_campaign_start", args=[campaign.pk]),
                           {"confirm": "yes"}, follow=True)

    run = CampaignRun.objects.get(campaign=campaign)
    assert run.messages.filter(status=Message.Status.HELD_OUT).count() == 3
    assert "Started: 9 emails queued, 3 contacts held out" in response.content.decode()


def test_saving_the_form_stores_the_audience_and_refuses_a_bad_band(client, manager, campaign):
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    data = {"name": campaign.name, "kind": "convert", "template": campaign.template_id,
            "trigger": "manual", "event": "", "delay_days": 0, "holdout_percent": 10,
            "uplift_window_days": 30, "coupon_kind": "", "coupon_valid_days": 30,
            "stages": ["one_time"], "p_buy_again_min": "60", "p_buy_again_max": "20",
            "runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0}

    refused = client.post(url, data)
    data["p_buy_again_min"] = "20"
    data["p_buy_again_max"] = "60"
    saved = client.post(url, data)

    assert refused.status_code == 200 and "errornote" in refused.content.decode()
    campaign.refresh_from_db()
    assert saved.status_code == 302
    assert campaign.audience["p_buy_again_min"] == pytest.approx(0.2)
    assert campaign.audience["p_buy_again_max"] == pytest.approx(0.6)


def test_a_template_preview_renders_for_a_real_contact_and_sends_a_test(client, manager, buyers,
                                                                        campaign):
    manager.email = "marta@example.com"
    manager.save()
    client.force_login(manager)
    preview = reverse("admin:campaigns_template_preview", args=[campaign.template_id])

    html = client.get(preview, {"contact_email": buyers[0].email}).content.decode()
    client.post(reverse("admin:campaigns_template_send_test", args=[campaign.template_id]),
                {"contact": buyers[0].pk})

    assert f"Hello {buyers[0].first_name}" in html
    assert '<iframe sandbox class="crm-preview-frame"' in html
    assert mail.outbox[-1].to == ["marta@example.com"]
    assert mail.outbox[-1].subject == f"[Test] Hello {buyers[0].first_name}"


def test_a_broken_template_shows_the_error_instead_of_crashing(client, manager, buyers):
    template = EmailTemplate.objects.create(name="Broken", subject="Hi",
                                            body_text="{% if %}oops")
    client.force_login(manager)

    response = client.get(reverse("admin:campaigns_template_preview", args=[template.pk]))

    assert response.status_code == 200 and "errornote" in response.content.decode()


def test_sales_staff_cannot_reach_campaign_tools(client, sales_user, campaign):
    client.force_login(sales_user)

    response = client.post(reverse("admin:campaigns_campaign_start", args=[campaign.pk]))

    assert response.status_code == 302 and not CampaignRun.objects.exists()


def test_the_campaign_page_shows_uplift_of_emailed_against_held_out(client, manager, buyers,
                                                                     campaign):
    from django.utils import timezone

    from campaigns.services import campaign_run_start

    run = campaign_run_start(campaign=campaign)
    sent_at = timezone.now() - timezone.timedelta(days=40)
    run.messages.filter(status=Message.Status.QUEUED).update(status=Message.Status.SENT,
                                                              sent_at=sent_at)
    run.messages.filter(status=Message.Status.HELD_OUT).update(not_before=sent_at)
    for message in run.messages.filter(status=Message.Status.SENT)[:3]:
        record_purchase(message.contact, days_ago=35, amount="30.00")
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()

    table = html[html.index('data-testid="uplift"'):]
    assert "Bought within 30 days" in table
    assert "<td>9</td><td>3</td>" in table
    assert "<td>3 (33%)</td>" in table and "<td>0 (0%)</td>" in table


def test_managers_send_unknown_messages_again_with_the_same_message_id(client, manager, campaign,
                                                                       buyers):
    from campaigns.services import campaign_run_start

    run = campaign_run_start(campaign=campaign)
    unknown = run.messages.filter(status=Message.Status.QUEUED).first()
    Message.objects.filter(pk=unknown.pk).update(status=Message.Status.UNKNOWN,
                                                 last_error="connection lost after DATA")
    client.force_login(manager)

    listing = client.get(reverse("admin:campaigns_message_changelist")).content.decode()
    client.post(reverse("admin:campaigns_message_changelist"),
                {"action": "requeue_unknown", "_selected_action": [unknown.pk]})

    unknown_after = Message.objects.get(pk=unknown.pk)
    assert "connection lost after DATA" in listing
    assert unknown_after.status == Message.Status.QUEUED
    assert unknown_after.message_id == unknown.message_id
