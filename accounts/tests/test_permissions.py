"""Who reaches what: anonymous users only the login pages, sales staff the dashboard, managers
the admin too; and forms refuse posts without a CSRF token."""
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RoutePattern

from accounts.tests.factories import SalesStaffFactory, UserFactory
from customers.models import Contact, CurrencyRate, Purchase
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

LOGIN_PAGES = {"/login/", "/admin/login/"}
# Pages for customers, opened from an email: a signed token is their only key.
PUBLIC_PAGES = {"/email/unsubscribe/1/", "/feedback/1/", "/cases/contact-us/",
                "/cases/contact-us/confirm/1/", "/email/c/1/", "/email/o/1/"}
# Machines' doors: an email service's webhooks, verified by their signature or password.
WEBHOOK_RECEIVERS = {f"/email/service/{service}/tracking/" for service in (
    "amazon_ses", "brevo", "mailgun", "postmark", "sendgrid")}
# A connected store's webhooks: the unguessable token in the path, then the signature.
SHOP_WEBHOOKS = {"/shops/webhooks/1/"}
# The load balancer's probe: "ok"/"unavailable" per dependency, nothing else (crm/views.py).
HEALTH_PROBES = {"/healthz"}


# --- Walking every URL ----------------------------------------------------------------------

def _example(pattern) -> str:
    """A concrete path piece for a pattern: 1 for each parameter."""
    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?\w+>", "1", text)

    def group(match: re.Match) -> str:
        # The admin's app_list regex lists the app labels: take the first one.
        alternatives = match.group(1).split("|")
        return alternatives[0] if len(alternatives) > 1 else "1"

    return re.sub(r"\(\?P<\w+>([^)]*)\)", group, text).lstrip("^").rstrip("$")


def example_urls(resolver: URLResolver | None = None, prefix: str = "/"):
    """(path, pattern) for every view reachable from the root URLconf."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        path = prefix + _example(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from example_urls(pattern, path)
        else:
            yield path, pattern


ALL_URLS = sorted(example_urls(), key=lambda item: item[0])


def test_the_walk_finds_the_apps_urls():
    paths = {path for path, _pattern in ALL_URLS}
    assert {"/", "/contacts/1/", "/contacts/1/purchases/new/", "/admin/customers/contact/",
            "/admin/auth/", "/admin/1", "/status/"} <= paths


@pytest.mark.parametrize(("path", "pattern"), ALL_URLS, ids=[path for path, _p in ALL_URLS])
def test_example_path_reaches_its_own_view(path, pattern: URLPattern):
    assert resolve(path).func == pattern.callback


API_PATHS = {path for path, _p in ALL_URLS
             if path.startswith("/api/") and path != "/api/docs/"}


@pytest.mark.parametrize("path", [path for path, _p in ALL_URLS
                                  if path not in LOGIN_PAGES | PUBLIC_PAGES | API_PATHS
                                  | HEALTH_PROBES | WEBHOOK_RECEIVERS | SHOP_WEBHOOKS])
def test_anonymous_users_are_sent_to_log_in(client, path):
    ContactFactory(id=1)  # so nothing answers 404 before the login check could
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path in LOGIN_PAGES
    assert "next=" in target.query


def test_the_only_public_pages_are_known_and_refuse_a_bad_token(client):
    public = ({path for path, _p in ALL_URLS} - LOGIN_PAGES - API_PATHS - HEALTH_PROBES
              - WEBHOOK_RECEIVERS - SHOP_WEBHOOKS)
    public = {path for path in public if client.get(path).status_code != 302}

    assert public == PUBLIC_PAGES
    assert client.get("/email/unsubscribe/1/").status_code == 400
    assert client.get("/email/c/1/").status_code == 400
    assert client.get("/feedback/1/").status_code == 400
    assert client.get("/cases/contact-us/confirm/1/").status_code == 400


@pytest.mark.parametrize("path", sorted(WEBHOOK_RECEIVERS))
def test_webhook_receivers_refuse_a_post_without_their_secret(client, path, settings):
    # Not the service the CRM sends through: 404; the one it does: refused without the secret.
    assert client.post(path, b"{}", content_type="application/json").status_code == 404
    settings.CRM_EMAIL_SERVICE = path.split("/")[3]
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hooks:s3cret", "MAILGUN_WEBHOOK_SIGNING_KEY": "k"}
    assert client.post(path, b"{}", content_type="application/json").status_code in (400, 401)


def test_a_shop_webhook_with_an_unknown_token_is_refused(client):
    assert client.post("/shops/webhooks/1/", b"{}",
                       content_type="application/json").status_code == 404
    assert client.get("/shops/webhooks/1/").status_code == 405


@pytest.mark.parametrize("path", sorted(API_PATHS))
def test_anonymous_api_requests_get_401(client, path):
    ContactFactory(id=1)
    assert client.get(path).status_code == 401


@pytest.mark.parametrize("path", sorted(LOGIN_PAGES))
def test_anonymous_users_see_the_login_pages(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b'name="password"' in response.content


# --- The admin is for managers --------------------------------------------------------------

ADMIN_ENTRY_POINTS = [
    "admin:index", "admin:customers_contact_changelist", "admin:customers_contact_add",
    "admin:customers_purchase_changelist", "admin:customers_currencyrate_changelist",
]


@pytest.fixture
def staff_sales_user():
    return SalesStaffFactory(username="staffsally", is_staff=True)


@pytest.mark.parametrize("name", ADMIN_ENTRY_POINTS)
def test_sales_staff_with_staff_flag_are_kept_out_of_the_admin(client, staff_sales_user, name):
    client.force_login(staff_sales_user)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("admin:login")


def test_sales_staff_see_no_admin_content(client, staff_sales_user):
    client.force_login(staff_sales_user)
    response = client.get(reverse("admin:index"), follow=True)
    content = response.content.decode()
    assert "not authorized to access this page" in content
    assert reverse("admin:customers_contact_changelist") not in content


def test_sales_staff_cannot_run_admin_actions(client, staff_sales_user):
    contact = ContactFactory()
    client.force_login(staff_sales_user)
    response = client.post(reverse("admin:customers_contact_changelist"), {
        "action": "export_csv", "index": "0", "_selected_action": [str(contact.pk)]})
    assert response.status_code == 302
    assert not response.streaming


def test_managers_group_without_staff_flag_is_kept_out(client):
    from accounts.tests.factories import ManagerFactory

    client.force_login(ManagerFactory(username="nostaff", is_staff=False))
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_superuser_is_let_in(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.fixture
def rows():
    contact = ContactFactory()
    purchase = record_purchase(contact)
    rate = CurrencyRate.objects.create(currency="EUR", rate="1.1")
    return {Contact: contact, Purchase: purchase, CurrencyRate: rate}


def manager_pages(rows) -> list[str]:
    pages = [reverse("admin:index"), reverse("admin:app_list", args=["customers"])]
    for model, obj in rows.items():
        prefix = f"admin:customers_{model._meta.model_name}"
        pages += [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
        pages += [reverse(f"{prefix}_{view}", args=[obj.pk])
                  for view in ("change", "history", "delete")]
    return pages


def test_managers_open_every_customers_admin_page(client, manager, rows):
    client.force_login(manager)
    statuses = {page: client.get(page).status_code for page in manager_pages(rows)}
    assert statuses == dict.fromkeys(manager_pages(rows), 200)


def test_admin_post_without_csrf_token_is_refused(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post(reverse("admin:customers_contact_add"), {"email": "x@example.com"})
    assert response.status_code == 403
    assert not Contact.objects.exists()


# --- The dashboard's views need their permissions -------------------------------------------

def dashboard_pages(contact: Contact) -> list[str]:
    return [
        reverse("dashboard:contact_list"),
        reverse("dashboard:contact_detail", args=[contact.pk]),
        reverse("dashboard:contact_create"),
        reverse("dashboard:purchase_create", args=[contact.pk]),
    ]


def test_logged_in_user_without_permission_is_refused(client):
    contact = ContactFactory()
    client.force_login(UserFactory(username="norole"))
    statuses = {page: client.get(page).status_code for page in dashboard_pages(contact)}
    assert statuses == dict.fromkeys(dashboard_pages(contact), 403)


def test_sales_staff_reach_the_dashboard(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)
    statuses = {page: client.get(page).status_code for page in dashboard_pages(contact)}
    assert statuses == dict.fromkeys(dashboard_pages(contact), 200)


def test_view_only_user_cannot_record_purchases(client):
    from django.contrib.auth.models import Permission

    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_contact"))
    contact = ContactFactory()
    client.force_login(user)
    assert client.get(reverse("dashboard:contact_detail", args=[contact.pk])).status_code == 200
    assert client.get(reverse("dashboard:purchase_create", args=[contact.pk])).status_code == 403


# --- CSRF -----------------------------------------------------------------------------------

PURCHASE_POST = {"amount": "10.00", "currency": "USD", "purchased_at": "2024-05-01T10:00",
                 "channel": "store", "quantity": "1", "code": ""}


@pytest.fixture
def csrf_client(sales_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    return client


def test_purchase_post_without_csrf_token_is_refused(csrf_client):
    contact = ContactFactory()
    response = csrf_client.post(reverse("dashboard:purchase_create", args=[contact.pk]),
                                PURCHASE_POST)
    assert response.status_code == 403
    assert not Purchase.objects.exists()


def test_purchase_post_with_csrf_token_is_accepted(csrf_client):
    # The control for the test above: the same post with the page's token goes through.
    contact = ContactFactory()
    url = reverse("dashboard:purchase_create", args=[contact.pk])
    csrf_client.get(url)
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(url, {**PURCHASE_POST, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Purchase.objects.get().contact == contact


def test_a_page_reads_the_users_permissions_in_one_query(sales_user, django_assert_num_queries):
    from django.contrib.auth.backends import ModelBackend

    from accounts.models import User

    fresh = User.objects.get(pk=sales_user.pk)
    with django_assert_num_queries(1):
        assert fresh.has_perm("customers.view_contact")
        assert fresh.has_perm("customers.add_purchase")
        assert not fresh.has_perm("customers.delete_contact")
    reference = ModelBackend().get_all_permissions(User.objects.get(pk=sales_user.pk))
    assert fresh.get_all_permissions() == reference  # Django's own backend agrees
