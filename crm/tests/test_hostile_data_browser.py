"""In real Chromium: hostile text in every free-text field a contact, purchase, case, note,
follow-up, survey comment, website event, import file and email template can carry, then every
staff and admin page that shows it, as a manager and as sales staff, every template preview in
every language. A run of script (a dialog), a live injected element, a Content-Security-Policy
violation or a page error fails the test; so does {{ 7*7 }} being evaluated.

Data comes in through the product's own doors: the public support form and the import upload in
the browser, the services the API, the dashboard and the survey page call for the rest.
"""
import csv
import datetime as dt
import io
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from activity.models import WebsiteEvent
from activity.services import event_record
from campaigns import defaults as campaign_defaults
from campaigns.models import Campaign, EmailTemplate, EmailTemplateTranslation, Message
from crm.tests.browser import log_in
from customers import followups
from customers.models import Contact, ImportJob, Purchase
from customers.services.contacts import contact_create, contacts_assign_owner
from customers.services.purchases import purchase_record_by_email
from feedback import defaults as feedback_defaults
from feedback import defaults_tr
from feedback.models import SurveyResponse
from feedback.services import survey_answer
from feedback.tokens import survey_token
from feedback.tests.factories import SurveyInviteFactory
from support import public
from support.models import Case
from support.services import case_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMG = "<img src=x onerror=alert(1)>"
SVG = '"><svg onload=alert(2)>'
SCRIPT = "</textarea><script>alert(3)</script>"
TEMPLATE = "{{ 7*7 }}"
ALL = f"{IMG} {SVG} {SCRIPT} {TEMPLATE}"  # 100 characters
EMAIL = '"<svg/onload=alert(4)>"@example.com'  # a valid address: quoted local part
PUBLIC_EMAIL = "{{7*7}}@example.com"
NAME = f"{IMG} {SVG} {SCRIPT} {TEMPLATE}"  # the hostile contact's first and last name

# What a page must not contain once rendered: markup the payloads would create if they ran.
LIVE_PAYLOAD_JS = """() => {
  const found = [];
  const count = (selector) => document.querySelectorAll(selector).length;
  if (count('img[src="x"]')) found.push('img[src=x]');
  if (count('svg[onload]')) found.push('svg[onload]');
  if (count('[onerror], [onload], [onclick], [onmouseover], [onfocus]')) {
    found.push('on* attribute');
  }
  const inline = [...document.scripts].filter((script) => !script.src);
  if (inline.length) found.push('inline script: ' + inline[0].textContent.slice(0, 60));
  return found;
}"""
# Everything a person sees or edits on the page: text, and the values of form fields.
SHOWN_TEXT_JS = """() => document.body.innerText + '\\n' +
  [...document.querySelectorAll('input, textarea')].map((field) => field.value).join('\\n')"""


class Watcher:
    """Collects what must never happen on a page: dialogs, CSP reports, uncaught errors."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _dialog(self, dialog):
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text[:300]}")


def visit(page, watcher: Watcher, url: str, *, shows: str | None = None) -> None:
    """Open the page and check it; `shows`: a payload the page must display as text."""
    response = page.goto(url)
    assert response is not None and response.status < 400, f"{url}: {response and response.status}"
    for frame in page.frames:
        live = frame.evaluate(LIVE_PAYLOAD_JS)
        assert live == [], f"{url} ({frame.url}): {live}"
    if shows is not None:
        text = "\n".join(frame.evaluate(SHOWN_TEXT_JS) for frame in page.frames)
        assert shows in text, f"{url} does not show {shows!r}: {text}"
    assert watcher.problems == [], f"{url}: {watcher.problems}"


# --- Data, through the product's doors -------------------------------------------------------

def shipped_templates() -> None:
    """What the data migrations install (a transactional test starts from an empty database)."""
    campaign_defaults.create_defaults(EmailTemplate, Campaign)
    feedback_defaults.create_defaults(EmailTemplate, Campaign)
    defaults_tr.create_translations(EmailTemplate, EmailTemplateTranslation)
    EmailTemplate.objects.create(
        # Template source: markup, but no {{ 7*7 }} (in a template that is a syntax error).
        name=f"Hostile {ALL}"[:100], subject=f"{IMG} {SVG} {{{{ contact.first_name }}}}",
        body_text=f"{SCRIPT} Dear {{{{ contact.first_name }}}} {{{{ contact.last_name }}}}",
        body_html="<p style=\"color:#333\">Dear {{ contact.first_name }}</p>"
                  "<p>{{ contact.email }}</p>")


def hostile_data(manager, sales_user) -> Contact:
    """The hostile contact with a purchase, case, note, follow-up, survey answer and events."""
    now = timezone.now()
    # A shop's checkout (what POST /api/purchases/ calls): names and order ids are the shop's.
    purchase = purchase_record_by_email(
        email=EMAIL, first_name=f"{IMG} {SVG}", last_name=f"{SCRIPT} {TEMPLATE}",
        purchased_at=now - dt.timedelta(days=3), amount=Decimal("12.50"), currency="USD",
        source=SVG, external_id=ALL, code=IMG).purchase
    contact = purchase.contact
    contacts_assign_owner(contacts=Contact.objects.filter(pk=contact.pk), owner=manager)
    followups.note_add(contact=contact, author=manager, body=f"{ALL}\n{SCRIPT}")
    for user in (manager, sales_user):
        followups.follow_up_add(contact=contact, assigned_to=user, created_by=manager,
                                title=ALL, due_on=timezone.localdate())
        case_open(contact=contact, subject=ALL, description=ALL, channel="email", owner=user)
    invite = SurveyInviteFactory(contact=contact)
    survey_answer(invite=invite, score=3, comment=ALL)  # a detractor: a call-back task too
    event_record(kind="custom", occurred_at=now - dt.timedelta(hours=1), contact=contact,
                 name=ALL, properties={IMG: ALL, "list": [SVG, SCRIPT], SVG: TEMPLATE},
                 source="web")
    # Phone numbers are checked for shape on the way in: no markup gets that far.
    contact_create(email="staff.typed@example.com", first_name=ALL, last_name=SCRIPT,
                   owner=manager)
    return contact


def csv_file(*rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


HEADER = ["email", "purchased_at", "amount", "currency", "external_id", "first_name",
          "last_name", "code"]
# A header naming an unknown column is refused, with the column named on the upload page.
HOSTILE_HEADER_FILE = csv_file([*HEADER, ALL], ["a@example.com", "2025-03-01", "1", "USD"])
IMPORT_FILE = csv_file(
    HEADER,
    ["imported@example.com", "2025-03-01", "10.00", "USD", f"I-{ALL}", ALL, SCRIPT, IMG],
    [IMG, "2025-03-01", "5", "USD", SVG, SVG, TEMPLATE, SVG],  # a bad email
    ["bad.amount@example.com", "2025-03-01", ALL, "USD", "x-2", "", "", ""],
)


def send_public_form(page, watcher: Watcher) -> None:
    visit(page, watcher, "/cases/contact-us/")
    page.get_by_label("Your email").fill(PUBLIC_EMAIL)
    page.get_by_label("Your name (optional)").fill(f"{IMG} {SVG}")
    page.get_by_label("Subject").fill(ALL)
    page.get_by_label("How can we help?").fill(f"{ALL}\n{SCRIPT}")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate(LIVE_PAYLOAD_JS) == []
    assert watcher.problems == []
    assert Case.objects.filter(contact__email=PUBLIC_EMAIL, subject=ALL).exists()


def upload(page, watcher: Watcher, data: bytes) -> None:
    visit(page, watcher, "/contacts/imports/")
    page.get_by_label("What the file contains").select_option("purchases")
    page.get_by_label("CSV file (UTF-8)").set_input_files(files=[{
        "name": f"{SVG}.csv", "mimeType": "text/csv", "buffer": data}])
    page.get_by_label("Source").fill(SVG)
    page.get_by_label("Import the valid rows even if some rows have errors").check()
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_load_state("networkidle")


def upload_import(page, watcher: Watcher) -> ImportJob:
    upload(page, watcher, HOSTILE_HEADER_FILE)
    assert f"unknown columns: {IMG} " in page.inner_text("body")
    assert page.evaluate(LIVE_PAYLOAD_JS) == []
    upload(page, watcher, IMPORT_FILE)
    page.wait_for_url("**/contacts/imports/*/")
    return ImportJob.objects.get()


# --- The test --------------------------------------------------------------------------------

@pytest.fixture
def hostile_world(monkeypatch, settings, tmp_path, manager, sales_user):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    monkeypatch.setattr(public, "MIN_SECONDS", 0)  # the form's anti-bot wait, not tested here
    shipped_templates()
    return hostile_data(manager, sales_user)


def staff_pages(contact: Contact) -> list[tuple[str, str | None]]:
    return [
        ("/", None),
        ("/contacts/today/", None),
        (f"/contacts/?{urlencode({'q': 'svg'})}", IMG),
        (f"/contacts/?{urlencode({'q': ALL})}", None),
        (f"/contacts/{contact.pk}/", ALL),
        ("/contacts/kpis/", None),
        ("/contacts/follow-ups/", ALL),
        ("/cases/", ALL),
    ]


def admin_pages(user, contact: Contact, job: ImportJob) -> list[tuple[str, str | None]]:
    pages = [("/admin/", None)]
    for model in admin.site._registry:
        meta = model._meta
        if user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
            pages.append((f"/admin/{meta.app_label}/{meta.model_name}/", None))
    pages.append((f"/admin/customers/contact/?{urlencode({'q': ALL})}", ALL))
    hostile = [  # (model, id, text its change page must show)
        (Contact, contact.pk, f"{IMG} {SVG}"), (Purchase, contact.purchases.get().pk, ALL),
        (Case, Case.objects.filter(contact=contact).first().pk, ALL),
        (SurveyResponse, SurveyResponse.objects.get(invite__contact=contact).pk, ALL),
        (WebsiteEvent, WebsiteEvent.objects.get(contact=contact).pk, ALL),
        (ImportJob, job.pk, "><svg onload=alert(2)>.csv"),
        (Message, Message.objects.filter(contact=contact).first().pk, None),
    ]
    for model, pk, shows in hostile:
        meta = model._meta
        pages.append((f"/admin/{meta.app_label}/{meta.model_name}/{pk}/change/", shows))
    for template in EmailTemplate.objects.all():
        pages.append((f"/admin/campaigns/emailtemplate/{template.pk}/change/", None))
        # The hostile template prints the whole name; the shipped ones the first name.
        shows = NAME if template.name.startswith("Hostile") else f"{IMG} {SVG}"
        for language, _name in settings.LANGUAGES:
            query = urlencode({"contact_email": contact.email, "language": language})
            pages.append((f"/admin/campaigns/emailtemplate/{template.pk}/preview/?{query}",
                          shows))
    return pages


def test_hostile_text_never_runs_on_any_staff_or_admin_page(browser, live_server,
                                                           hostile_world, manager):
    contact = hostile_world
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    watcher = Watcher(page)

    send_public_form(page, watcher)
    log_in(page, manager.username)
    job = upload_import(page, watcher)
    visit(page, watcher, f"/contacts/imports/{job.pk}/",
          shows=f"{IMG}\t{IMG} is not a valid email address.")
    page.get_by_test_id("import-start").click()
    page.wait_for_url(f"**/contacts/imports/{job.pk}/progress/")
    visit(page, watcher, f"/contacts/imports/{job.pk}/progress/")
    job.refresh_from_db()
    assert job.count_created == 1 and job.count_rejected == 2
    visit(page, watcher, "/contacts/imports/", shows="><svg onload=alert(2)>.csv")

    public_contact = Contact.objects.get(email=PUBLIC_EMAIL)
    for url, shows in [*staff_pages(contact), (f"/contacts/{public_contact.pk}/", IMG),
                       (f"/privacy/contacts/{contact.pk}/", f"{IMG} {SVG}")]:
        visit(page, watcher, url, shows=shows)
    for url, shows in admin_pages(manager, contact, job):
        visit(page, watcher, url, shows=shows)
    # The HTML part, in its sandboxed frame, shows the name as text too.
    hostile = EmailTemplate.objects.get(name__startswith="Hostile")
    visit(page, watcher, f"/admin/campaigns/emailtemplate/{hostile.pk}/preview/?"
          + urlencode({"contact_email": contact.email}))
    assert page.frame_locator("iframe[sandbox]").locator("p").first.inner_text() == \
        f"Dear {IMG} {SVG}"
    # The survey page puts the earlier comment back into its textarea.
    invite = SurveyResponse.objects.get(invite__contact=contact).invite
    visit(page, watcher, f"/feedback/{survey_token(invite.pk, 3)}/", shows=ALL)
    visit(page, watcher, "/api/docs/")
    page.wait_for_selector(".swagger-ui .info")
    assert watcher.problems == []
    context.close()


def test_sales_staff_see_hostile_text_as_text(browser, live_server, hostile_world, sales_user):
    contact = hostile_world
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    watcher = Watcher(page)

    log_in(page, sales_user.username)
    for url, shows in staff_pages(contact):
        visit(page, watcher, url, shows=shows)
    # Search as you type: the results arrive by fetch and are swapped in (contact-search.js).
    visit(page, watcher, "/contacts/")
    page.get_by_label("Search").first.fill("svg")
    page.wait_for_url("**/contacts/?*q=svg*")
    page.wait_for_load_state("networkidle")
    assert page.get_by_text(f"{IMG} {SVG}", exact=False).count() >= 1
    assert page.evaluate(LIVE_PAYLOAD_JS) == []
    assert watcher.problems == []
    context.close()
