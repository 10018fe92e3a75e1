"""A template may only be sent by a campaign that creates what it shows: a coupon, referral
codes, survey links (campaigns.template_needs); the survey campaign can be switched on."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.models import Campaign, CampaignRun, EmailTemplate, EmailTemplateTranslation
from campaigns.preview import template_preview
from campaigns.services import campaign_event, campaign_run_plan, campaign_run_start
from campaigns.template_needs import source_needs, template_needs
from customers.tests.factories import ContactFactory, record_purchase
from feedback.defaults import SURVEY_CAMPAIGN_NAME, SURVEY_TEMPLATE_NAME
from feedback.defaults_tr import TRANSLATIONS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("source", "needs"), [
    ("Code {{ coupon.code }}", {"coupon"}),
    ("{% if coupon.kind == 'percent' %}%{% endif %}", {"coupon"}),
    ("{% for link in survey.links %}{{ link.url }}{% endfor %}", {"survey"}),
    ("Give them {{ referral_code }}", {"referral_code"}),
    ("{{ coupon.value|floatformat:0 }} {{ referral_code|default:'-' }}",
     {"coupon", "referral_code"}),
    # Words in the text, comments, string literals and other names are not uses.
    ("Your coupon and survey are coming", set()),
    ("{# coupon.code #}{% comment %}{{ survey }}{% endcomment %}", set()),
    ("{{ contact.first_name|default:'coupon' }}", set()),
    ("{{ contact.coupon_count }} {{ my_survey }}", set()),
])
def test_what_a_template_part_needs_is_read_from_its_variables_and_tags(source, needs):
    assert source_needs(source) == needs


def test_a_translation_adds_its_needs_to_the_template():
    template = EmailTemplate.objects.create(name="T", subject="Hi", body_text="Hi")
    EmailTemplateTranslation.objects.create(template=template, language="tr", subject="Merhaba",
                                            body_text="Kod {{ coupon.code }}")

    assert template_needs(template) == {"coupon"}


@pytest.fixture
def edit(client, manager):
    client.force_login(manager)

    def post(campaign: Campaign | None, **changes):
        data = {"name": "New", "kind": "custom", "trigger": "manual", "event": "",
                "delay_days": 0, "holdout_percent": 10, "uplift_window_days": 30,
                "coupon_kind": "", "coupon_valid_days": 30,
                "runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0, **changes}
        url = (reverse("admin:campaigns_campaign_change", args=[campaign.pk]) if campaign
               else reverse("admin:campaigns_campaign_add"))
        return client.post(url, data)
    return post


def _shipped(name: str) -> EmailTemplate:
    return EmailTemplate.objects.get(name=name)


def test_a_coupon_template_needs_a_campaign_that_gives_a_coupon(edit):
    template = _shipped("Second order coupon")

    refused = edit(None, template=template.pk)
    saved = edit(None, template=template.pk, coupon_kind="percent", coupon_value="10")

    assert refused.status_code == 200
    assert "This template shows a coupon" in refused.content.decode()
    assert saved.status_code == 302
    assert Campaign.objects.get(name="New").coupon_kind == "percent"


def test_the_survey_template_is_refused_in_an_ordinary_campaign(edit):
    refused = edit(None, template=_shipped(SURVEY_TEMPLATE_NAME).pk)

    assert refused.status_code == 200
    assert "contains survey links" in refused.content.decode()
    assert not Campaign.objects.filter(name="New").exists()


def test_a_referral_code_template_needs_a_referral_campaign(edit):
    template = _shipped("Tell a friend")

    refused = edit(None, template=template.pk, kind="convert")
    saved = edit(None, template=template.pk, kind="referral")

    assert "shows the contact&#x27;s referral code" in refused.content.decode()
    assert saved.status_code == 302


def test_the_survey_campaign_can_be_switched_on_and_keeps_its_trigger(client, edit):
    survey = Campaign.objects.get(name=SURVEY_CAMPAIGN_NAME)
    assert not survey.is_active
    page = client.get(reverse("admin:campaigns_campaign_change", args=[survey.pk]))
    assert page.status_code == 200
    assert "Survey emails go out a few days after a purchase" in page.content.decode()

    # Its trigger, event and name are fixed: values posted for them change nothing.
    response = edit(survey, name="Renamed", template=survey.template_id, is_active="on",
                    trigger="schedule", holdout_percent=0)

    assert response.status_code == 302, response.content.decode()
    survey.refresh_from_db()
    assert survey.is_active
    assert (survey.name, survey.trigger, survey.event) == (SURVEY_CAMPAIGN_NAME, "event", "")


def test_a_campaign_that_cannot_fill_its_template_does_not_run():
    buyer = ContactFactory(marketing_consent=True)
    record_purchase(buyer, days_ago=3)
    # Saved in code, around the form: the run itself refuses before writing anything.
    campaign = Campaign.objects.create(name="No coupon", template=_shipped("We miss you"),
                                       audience={})

    with pytest.raises(ValidationError, match="shows a coupon"):
        campaign_run_plan(campaign)
    with pytest.raises(ValidationError, match="shows a coupon"):
        campaign_run_start(campaign=campaign)
    survey = Campaign.objects.get(name=SURVEY_CAMPAIGN_NAME)
    with pytest.raises(ValidationError, match="not started by hand"):
        campaign_run_start(campaign=survey)
    assert not CampaignRun.objects.exists()


def test_the_run_page_explains_why_instead_of_offering_to_start(client, manager):
    campaign = Campaign.objects.create(name="No coupon", template=_shipped("We miss you"))
    client.force_login(manager)

    page = client.get(reverse("admin:campaigns_campaign_start", args=[campaign.pk]))

    assert "shows a coupon" in page.content.decode()
    assert 'data-testid="confirm-start"' not in page.content.decode()


def test_editing_a_template_cannot_add_a_coupon_its_campaign_does_not_give():
    template = _shipped("Tell a friend")
    template.body_text += "\nAnd {{ coupon.code }}"

    with pytest.raises(ValidationError, match="Ask promoters for a referral"):
        template.full_clean()
    translation = template.translations.get(language="tr")
    translation.body_text += "\n{{ coupon.code }}"
    with pytest.raises(ValidationError, match="shows a coupon"):
        translation.full_clean()


def test_a_coupon_template_no_campaign_sends_yet_previews_a_sample_coupon_in_turkish():
    # A manager's copy of a shipped coupon template, not used by any campaign yet: the
    # Turkish preview was a server error ({{ coupon.value|money:coupon.currency }} of None).
    shipped = _shipped("Thank you, loyal client")
    copy = EmailTemplate.objects.create(name="Copy", subject=shipped.subject,
                                        body_text=shipped.body_text)
    EmailTemplateTranslation.objects.create(template=copy, language="tr",
                                            **TRANSLATIONS["Thank you, loyal client"])
    contact = ContactFactory(first_name="Ayşe", language="tr")

    rendered = template_preview(copy, contact)

    assert rendered.language == "tr"
    assert "CP-" in rendered.text and " tarihine kadar" in rendered.text
    assert "  " not in rendered.text and "koduyla 10,00 indirim" in rendered.text


def test_an_event_campaign_that_cannot_fill_its_template_is_skipped(caplog):
    contact = ContactFactory(marketing_consent=True)
    record_purchase(contact, days_ago=0)
    Campaign.objects.create(name="First buy, no coupon", template=_shipped("We miss you"),
                            is_active=True, trigger="event", event="first_purchase",
                            audience={}, holdout_percent=0)

    written = campaign_event(contact_id=contact.pk, event="first_purchase")

    assert written == 0 and not CampaignRun.objects.exists()
    assert "shows a coupon" in caplog.text
