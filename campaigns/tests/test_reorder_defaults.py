"""The shipped "time to reorder" campaign: off, its template in English and Turkish using the
product variables, and sendable once a manager switches it on."""
import pytest
from django.utils import timezone

from campaigns.campaign_service import campaign_update
from campaigns.defaults import CAMPAIGNS, TEMPLATES
from campaigns.models import Campaign, Message
from campaigns.outbox import send_due_messages
from campaigns.reorder import reorder_check
from campaigns.template_needs import template_needs
from customers.bought.pairs import product_pairs_refresh
from customers.tests.bought import buy
from customers.tests.factories import ContactFactory
from feedback.defaults_tr import TRANSLATIONS

pytestmark = pytest.mark.django_db
NAME = "Remind clients to reorder"


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    settings.CRM_COOCCURRENCE_MIN_SUPPORT = 2


def test_it_is_shipped_switched_off_with_both_languages():
    campaign = Campaign.objects.get(name=NAME)

    assert not campaign.is_active
    assert (campaign.trigger, campaign.event) == ("event", "reorder_due")
    assert template_needs(campaign.template) >= {"reorder_product", "usual_products",
                                                 "also_bought"}
    assert campaign.template.translations.get(language="tr").subject == \
        TRANSLATIONS["Time to reorder"]["subject"]
    assert NAME in {c["name"] for c in CAMPAIGNS}
    assert "Time to reorder" in {t["name"] for t in TEMPLATES}
    campaign.template.full_clean()


def test_switched_on_it_reminds_in_the_contacts_language():
    for _ in range(2):
        buy(ContactFactory(), "TEA", "HONEY")
    english, turkish = (ContactFactory(marketing_consent=True, first_name="Ada", language=lang)
                        for lang in ("en", "tr"))
    for contact in (english, turkish):
        buy(contact, "TEA", days_ago=40)
        buy(contact, "TEA", days_ago=20)
    product_pairs_refresh()
    campaign = Campaign.objects.get(name=NAME)
    campaign_update(campaign, is_active=True, holdout_percent=0)

    assert reorder_check(now=timezone.now()) == 2
    while send_due_messages().claimed:
        pass

    from django.core import mail
    sent = {m.to[0]: m for m in mail.outbox}
    assert sent[english.email].subject == "Ada, time for more Tea?"
    assert "Your favourites: Tea." in sent[english.email].body
    assert "Others who buy the same also like: Honey." in sent[english.email].body
    assert sent[turkish.email].subject == "Ada, Tea yenileme zamanı mı?"
    assert "Aynı ürünleri alanlar bunları da seviyor: Honey." in sent[turkish.email].body
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 2
