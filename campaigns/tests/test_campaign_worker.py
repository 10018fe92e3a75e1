"""End to end through the real broker: start a campaign, a Celery worker sends it to the sink."""
from collections import Counter

import pytest

from campaigns.models import Campaign, CampaignRun, EmailTemplate, Message
from campaigns.services import campaign_run_start
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - the fixture
from crm.tests.workers import wait_until
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_started_campaign_is_sent_once_by_a_worker(real_worker, smtp_sink, settings):
    settings.CRM_EMAIL_BATCH_SIZE = 7  # several batches, each its own connection
    for _ in range(30):
        contact = ContactFactory()
        record_purchase(contact, days_ago=20)
        contact_set_consent(contact=contact, consent=True, source="test")
    template = EmailTemplate.objects.create(name="T", subject="Hi {{ contact.first_name }}",
                                            body_text="Thanks! {{ unsubscribe_url }}")
    campaign = Campaign.objects.create(name="C", template=template, holdout_percent=10,
                                       audience={"stages": ["one_time"]})

    run = campaign_run_start(campaign=campaign)  # sending is queued when the run commits

    assert wait_until(lambda: CampaignRun.objects.get(pk=run.pk).status
                      == CampaignRun.Status.DONE, timeout=60)
    sent = Message.objects.filter(run=run, status=Message.Status.SENT)
    assert sent.count() == 27
    # Exactly once each: the sink's count per Message-ID is 1 for every sent row, 0 otherwise.
    assert smtp_sink.message_ids() == Counter(sent.values_list("message_id", flat=True))
    assert Message.objects.filter(run=run, status=Message.Status.HELD_OUT).count() == 3
