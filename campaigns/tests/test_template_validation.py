"""A template that would fail every message of a run is refused when saved, through every door
(the admin's form, full_clean in code), with the field and line named; shipped ones all pass."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.models import EmailTemplate, EmailTemplateTranslation

from .factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db
ADD = reverse("admin:campaigns_emailtemplate_add")


def _post(client, **fields):
    data = {"name": "Spring", "subject": "Hello {{ contact.first_name }}",
            "body_text": "Hi there", "body_html": "",
            "translations-TOTAL_FORMS": "0", "translations-INITIAL_FORMS": "0",
            "translations-MIN_NUM_FORMS": "0", "translations-MAX_NUM_FORMS": "1000", **fields}
    return client.post(ADD, data)


def _errors(response) -> dict:
    return response.context["adminform"].form.errors


def test_the_admin_refuses_a_template_with_a_syntax_error_naming_field_and_line(
        client, manager):
    client.force_login(manager)

    response = _post(client, body_text="Hello,\n\n{% if coupon %}Your code: {{ coupon.code }}\n")

    assert response.status_code == 200 and not EmailTemplate.objects.filter(name="Spring").exists()
    [message] = _errors(response)["body_text"]
    assert message.startswith("Line 3: ") and "endif" in message


def test_the_admin_refuses_an_unknown_filter_in_the_subject(client, manager):
    client.force_login(manager)

    response = _post(client, subject="{{ contact.first_name|shout }}, hello")

    assert not EmailTemplate.objects.filter(name="Spring").exists()
    assert "Invalid filter: 'shout'" in _errors(response)["subject"][0]


@pytest.mark.parametrize("source", [
    '{% url "no-such-page" %}',  # compiles, fails when rendered
    '{% include "emails/footer.html" %}',  # no loaders: nothing can be included
])
def test_a_part_that_compiles_but_cannot_render_is_refused(client, manager, source):
    client.force_login(manager)

    response = _post(client, body_html=f"<p>Hello</p>\n{source}")

    assert not EmailTemplate.objects.filter(name="Spring").exists()
    assert _errors(response)["body_html"][0].startswith("Line 2: ")


def test_a_valid_template_is_saved(client, manager):
    client.force_login(manager)

    response = _post(client, body_text="{% if coupon %}{{ coupon.code }}{% endif %}")

    assert response.status_code == 302 and EmailTemplate.objects.filter(name="Spring").exists()


def test_full_clean_refuses_a_broken_template_and_a_broken_translation():
    with pytest.raises(ValidationError) as error:
        EmailTemplate(name="X", subject="Hi", body_text="{% for %}").full_clean()
    assert list(error.value.message_dict) == ["body_text"]

    template = EmailTemplateFactory()
    with pytest.raises(ValidationError) as error:
        EmailTemplateTranslation(template=template, language="tr", subject="{{ a|nope }}",
                                 body_text="Selam").full_clean()
    assert list(error.value.message_dict) == ["subject"]


def test_every_shipped_template_and_translation_passes_the_check():
    shipped = [*EmailTemplate.objects.all(), *EmailTemplateTranslation.objects.all()]

    assert len(shipped) >= 10  # the data migrations' templates and their Turkish translations
    for template in shipped:
        template.full_clean()  # raises for any broken one
