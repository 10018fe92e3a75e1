"""{{ usual_products }} and {{ also_bought }} in campaign templates: the contact's most
repeated products (refunds left out) and what others bought with them, escaped in HTML like any
value, in both languages, in a real send and in the preview."""
import pytest
from django.urls import reverse

from campaigns.models import EmailTemplate, EmailTemplateTranslation, Message
from campaigns.outbox import send_due_messages
from campaigns.preview import template_preview
from campaigns.rendering import message_contexts
from campaigns.services import campaign_run_start
from campaigns.tests.factories import CampaignFactory
from customers.bought.pairs import product_pairs_refresh
from customers.tests.bought import buy, line
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
LIST = "{% for p in usual_products %}[{{ p.name }}/{{ p.category }}]{% endfor %}"
ALSO = "{% for p in also_bought %}({{ p.name }}){% endfor %}"


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    settings.CRM_COOCCURRENCE_MIN_SUPPORT = 2


def _pairs_shop():
    """Two contacts bought TEA with HONEY, two TEA with POT and CUP: pairs of support 2."""
    for _ in range(2):
        buy(ContactFactory(), "TEA", "HONEY")
    for _ in range(2):
        buy(ContactFactory(), "TEA", "POT", "CUP")
    product_pairs_refresh()


def _template(**parts) -> EmailTemplate:
    return EmailTemplate.objects.create(name="Usual", subject="Your usual", **parts)


def test_a_hostile_product_name_stays_text_in_html():
    contact = ContactFactory(marketing_consent=True)
    buy(contact, lines=[line("X1", name=HOSTILE, category="<b>Cat</b>")])
    template = _template(body_text=LIST, body_html=f"<ul>{LIST}</ul>")

    rendered = template_preview(template, contact)

    assert rendered.html == f"<ul>[{ESCAPED}/&lt;b&gt;Cat&lt;/b&gt;]</ul>"
    assert rendered.text == f"[{HOSTILE}/<b>Cat</b>]"  # plain text is not HTML


def test_sent_emails_carry_them_in_the_contacts_language(smtp_sink_settings):
    _pairs_shop()
    english, turkish = (ContactFactory(marketing_consent=True, language=lang)
                        for lang in ("en", "tr"))
    for contact in (english, turkish):
        buy(contact, "TEA", days_ago=3)
    template = _template(body_text=f"Usual: {LIST} Also: {ALSO}", body_html="")
    EmailTemplateTranslation.objects.create(template=template, language="tr", subject="Her zamanki",
                                            body_text=f"Her zamanki: {LIST} Ayrıca: {ALSO}")
    campaign = CampaignFactory(template=template, holdout_percent=0, audience={})

    campaign_run_start(campaign=campaign)
    while send_due_messages().claimed:
        pass

    bodies = {m.to[0]: m.body for m in smtp_sink_settings}
    assert bodies[english.email].startswith("Usual: [Tea/Tea] Also: (")
    assert bodies[turkish.email].startswith("Her zamanki: [Tea/Tea] Ayrıca: (")
    assert "(Honey)" in bodies[english.email] and "(Cup)" in bodies[english.email]


@pytest.fixture
def smtp_sink_settings():
    from django.core import mail

    mail.outbox = []
    return mail.outbox


def test_batches_without_product_variables_read_no_lines(django_assert_num_queries):
    contact = ContactFactory(marketing_consent=True)
    buy(contact, "TEA")
    campaign = CampaignFactory(holdout_percent=0, audience={})
    run = campaign_run_start(campaign=campaign)
    messages = list(Message.objects.filter(run=run).select_related(
        "contact", "coupon", "campaign__template"))

    # Codes, last purchase (two), survey rows as before; one more: the templates' translations.
    with django_assert_num_queries(5):
        message_contexts(messages)


def test_the_preview_page_shows_them_escaped(client, manager):
    contact = ContactFactory(email="p@example.com")
    buy(contact, lines=[line("X1", name=HOSTILE)])
    template = _template(body_text=LIST)
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_template_preview", args=[template.pk]),
                      {"contact_email": contact.email}).content.decode()

    assert "<script>alert(1)" not in html
    assert ESCAPED in html


def test_the_template_editor_documents_the_product_variables(client, manager):
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_emailtemplate_add")).content.decode()

    help_text = html[html.index('data-testid="template-help"'):]
    for name in ("usual_products", "also_bought", "reorder_product.name"):
        assert f"<code>{name}</code>" in help_text
    assert "{% for product in usual_products %}{{ product.name }}{% endfor %}" in help_text
