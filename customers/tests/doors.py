"""The doors of the one write path, and what a write leaves behind, for the parity tests.

Every write (a purchase, a refund, a consent decision, a suppression) can reach the service
through several doors: the Django admin, the sales dashboard, the REST API, a command or CSV
import, a task or a public link. The door tests (test_doors_*.py) perform the same logical
write through each door and compare `contact_snapshot` against the service called directly.

A snapshot holds no ids and no times of "now": only what must be equal whichever door wrote.
Where a door legitimately differs (who recorded a consent, its method and source) the
snapshot leaves the value out and the test asserts it names the door instead.
"""
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import Message, Suppression
from customers.consent.models import ConsentMethod, ConsentRecord
from customers.models import Contact, ContactScore, ImportJob, Purchase
from customers.scoring.runs import current_run
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory
from webhooks.models import WebhookDelivery

# The contact's derived figures: what customers.stats keeps in step with its purchases.
FIGURES = ("purchase_count", "first_purchase_at", "last_purchase_at", "total_spent", "stage")


def browser(user) -> Client:
    """A signed-in browser that, like a real one, must send the CSRF token with each POST."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def browser_post(client: Client, page: str, url: str, data: dict):
    """Open `page` (as the user would, which sets the CSRF cookie), then post its form."""
    opened = client.get(page)
    assert opened.status_code == 200, (page, opened.status_code)
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def admin_post(client: Client, url: str, data: dict):
    """Post a Django admin form (add or change page) as the browser does, with the inlines'
    management fields the page holds (for pages whose inlines show no rows: their rows' own
    fields are not copied). The admin answers a saved form with a redirect and a form with
    errors with 200, which we refuse here, showing the errors."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    management = dict(re.findall(
        r'<input type="hidden" name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"'
        r'[^>]*?value="(\d+)"', page.content.decode()))
    response = client.post(url, {**management, **data,
                                 "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302, _form_errors(response)
    return response


def api_client(user) -> APIClient:
    """A token client for `user`; the same token on every call (one per user)."""
    token, _created = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _form_errors(response) -> str:
    text = response.content.decode()
    errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', text, re.S)
    return " | ".join(errors) or text[:500]


def admin_url(model, action: str, *args) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=args)


def purchase_rows(contact: Contact, codes: dict[str, str] | None = None) -> list[tuple]:
    """The contact's purchases as stored: money, day, channel, items, code, refund. `codes`
    names each lane's own code text (a coupon is one contact's), so lanes compare equal."""
    codes = codes or {}
    return sorted(
        (str(p.amount), p.currency, str(p.amount_base), p.purchased_at, p.purchased_on,
         p.channel, p.quantity, codes.get(p.code, p.code), str(p.refunded_amount),
         str(p.refunded_amount_base), p.refunded_at is not None)
        for p in Purchase.objects.filter(contact=contact))


def current_score(contact: Contact):
    """The contact's score in the current run (None: not re-scored since the write)."""
    row = ContactScore.objects.filter(run=current_run(), contact=contact).first()
    return row and (round(row.p_buy_again, 9), round(row.p_alive, 9), row.frequency)


def consent_ledger(contact: Contact) -> list[tuple]:
    """The contact's consent records in order, without who/how (see consent_doors)."""
    return [(r.given, r.purpose, r.wording and (r.wording.version, r.wording.language),
             r.language, r.evidence)
            for r in ConsentRecord.objects.filter(contact=contact).select_related("wording")
            .order_by("occurred_at", "pk")]


def consent_doors(contact: Contact) -> list[tuple]:
    """How each consent record came in: (method, source, recorder's username or "")."""
    return [(r.method, r.source, r.recorded_by.username if r.recorded_by else "")
            for r in ConsentRecord.objects.filter(contact=contact).select_related("recorded_by")
            .order_by("occurred_at", "pk")]


def contact_snapshot(contact: Contact, codes: dict[str, str] | None = None) -> dict:
    """What a write leaves on and around one contact, comparable between two contacts."""
    contact = Contact.objects.get(pk=contact.pk)
    return {
        "figures": {field: getattr(contact, field) for field in FIGURES},
        "purchases": purchase_rows(contact, codes),
        "score": current_score(contact),
        "marketing_consent": contact.marketing_consent,
        "consent_ledger": consent_ledger(contact),
        "suppression": suppression_of(contact.email),
        "messages": sorted(Message.objects.filter(contact=contact)
                           .values_list("campaign__name", "status")),
        "webhooks": sorted(WebhookDelivery.objects.filter(contact_id=contact.pk)
                           .values_list("event_type", flat=True)),
    }


def suppression_of(email: str):
    row = Suppression.objects.filter(email=email.strip().lower()).first()
    return row and (row.reason, row.detail)


def differences(got, expected, path: str = "") -> list[str]:
    """Where two snapshots differ, one line per leaf: a readable failure for nested dicts."""
    if isinstance(got, dict) and isinstance(expected, dict):
        return [line for key in sorted(set(got) | set(expected), key=str)
                for line in differences(got.get(key), expected.get(key), f"{path}.{key}")]
    return [] if got == expected else [f"{path}: door {got!r} != service {expected!r}"]


def assert_same(got: dict, expected: dict) -> None:
    found = differences(got, expected)
    assert not found, "\n".join(found)


def consenting_contact(email: str, **fields) -> Contact:
    """A contact that gave marketing consent through the website's form (one ledger record)."""
    contact = ContactFactory(email=email, **fields)
    contact_set_consent(contact=contact, consent=True, source="signup",
                        method=ConsentMethod.PUBLIC_FORM)
    return Contact.objects.get(pk=contact.pk)


def upload_csv(user, *, kind: str, text: str, source: str = "csv", **fields) -> None:
    """The dashboard's import page as `user` uses it: upload, open the preview, start. The
    job runs after commit: the caller runs the captured on_commit callbacks."""
    client = browser(user)
    upload = reverse("customers:import_list")
    response = browser_post(client, upload, upload, {
        "kind": kind, "source": source, **fields,
        "file": SimpleUploadedFile(f"{kind}.csv", text.encode(), content_type="text/csv")})
    assert response.status_code == 302, response.content[:800]
    job = ImportJob.objects.latest("pk")
    response = browser_post(client, reverse("customers:import_preview", args=[job.pk]),
                            reverse("customers:import_start", args=[job.pk]), {})
    assert response.status_code == 302, response.content[:800]
