"""Content-Security-Policy: every page sends it (dashboard, admin, API docs, public pages), and
no template needs what it forbids (inline script, event-handler attributes, style attributes)."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from feedback.tests.factories import SurveyInviteFactory
from feedback.tokens import survey_token

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {name: value for name, _space, value in
            (part.strip().partition(" ") for part in header.split(";"))}


def assert_strict(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("url", [
    "/login/", "/cases/contact-us/", "/email/unsubscribe/not-a-token/", "/feedback/not-a-token/",
    "/no-such-page/",
])
def test_public_pages_send_the_policy(client, url):
    assert_strict(client.get(url))


def test_the_survey_page_sends_the_policy(client):
    invite = SurveyInviteFactory()

    response = client.get(reverse("feedback:answer", args=[survey_token(invite.pk, 9)]))

    assert response.status_code == 200
    assert_strict(response)


@pytest.mark.parametrize("url", [
    "/contacts/", "/contacts/today/", "/contacts/kpis/", "/contacts/follow-ups/", "/cases/",
    "/api/docs/", "/api/docs/?script=",
])
def test_staff_pages_send_the_policy(sales_client, url):
    response = sales_client.get(url)

    assert response.status_code == 200
    assert_strict(response)


@pytest.mark.parametrize("url", [
    "/admin/", "/admin/customers/contact/", "/admin/customers/contact/add/",
    "/admin/campaigns/emailtemplate/", "/admin/jsi18n/",
])
def test_admin_pages_send_the_policy(client, manager, url):
    client.force_login(manager)

    response = client.get(url)

    assert response.status_code == 200
    assert_strict(response)


def test_the_api_docs_page_has_no_inline_script_or_style(sales_client):
    html = sales_client.get("/api/docs/").content.decode()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "<style" not in html
    assert '<script src="/api/docs/?script="></script>' in html


def _template_files():
    # Emails are read in mail clients, not served under this policy.
    return sorted(path for path in TEMPLATES.rglob("*.html") if "emails" not in path.parts)


@pytest.mark.parametrize("path", _template_files(),
                         ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_templates_need_nothing_the_policy_forbids(path):
    source = path.read_text()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", source) == [], "inline script"
    assert re.findall(r"\son[a-z]+\s*=", source) == [], "event-handler attribute"
    assert re.findall(r"\sstyle\s*=|<style", source) == [], "inline style"
