"""The template preview shows what the email contains as text: a contact's name is never markup
in the admin page, and the HTML body is its own sandboxed document."""
import pytest
from django.urls import reverse
from django.utils.safestring import SafeData

from campaigns.models import EmailTemplate
from campaigns.rendering import render_email
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NAME = '<img src=x onerror=alert(1)>"><svg onload=alert(2)>'
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;&quot;&gt;&lt;svg onload=alert(2)&gt;"


@pytest.fixture
def template(db) -> EmailTemplate:
    return EmailTemplate.objects.create(
        name="Hello", subject="Hi {{ contact.first_name }}",
        body_text="Dear {{ contact.first_name }}</pre><script>alert(3)</script>",
        body_html="<p style=\"color:red\">Dear {{ contact.first_name }}</p>")


@pytest.fixture
def hostile(db):
    return ContactFactory(first_name=NAME, email="hostile@example.com")


def test_every_rendered_part_is_plain_text_not_safe_markup():
    rendered = render_email(
        EmailTemplate(subject="{{ n }}", body_text="{{ n }}", body_html="<p>{{ n }}</p>"),
        {"n": NAME})

    assert [isinstance(part, SafeData) for part in
            (rendered.subject, rendered.text, rendered.html)] == [False, False, False]
    assert rendered.text == NAME  # the email itself is unchanged: plain text is not escaped


def test_the_preview_page_escapes_the_name_in_subject_and_text(client, manager, template,
                                                               hostile):
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_template_preview", args=[template.pk]),
                      {"contact_email": hostile.email}).content.decode()

    assert "<img src=x" not in html and "<svg onload" not in html
    assert "<script>alert(3)" not in html
    assert f'data-testid="preview-subject">Hi {ESCAPED}</span>' in html
    assert (f'data-testid="preview-text" class="crm-preview-text">Dear {ESCAPED}'
            "&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;</pre>") in html


def test_the_html_body_is_a_separate_sandboxed_document(client, manager, template, hostile):
    client.force_login(manager)
    page = client.get(reverse("admin:campaigns_template_preview", args=[template.pk]),
                      {"contact_email": hostile.email}).content.decode()

    frame = client.get(reverse("admin:campaigns_template_preview_html", args=[template.pk]),
                       {"contact": hostile.pk, "language": ""})

    assert "color:red" not in page  # the HTML body is not in the admin page at all
    assert (f'src="/admin/campaigns/emailtemplate/{template.pk}/preview/html/'
            f'?contact={hostile.pk}&amp;language="') in page
    assert frame.content.decode() == f'<p style="color:red">Dear {ESCAPED}</p>'
    policy = frame["Content-Security-Policy"]
    assert "sandbox" in policy.split("; ")
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'self'" in policy
    assert frame["X-Frame-Options"] == "SAMEORIGIN"


def test_the_html_frame_needs_view_permission(client, sales_user, template, hostile):
    client.force_login(sales_user)

    response = client.get(reverse("admin:campaigns_template_preview_html", args=[template.pk]),
                          {"contact": hostile.pk})

    assert response.status_code in (302, 403)
    assert b"Dear" not in response.content
