"""The same order with lines through every door (service, REST API, CSV import, the
record-purchase page) leaves the same purchase, lines, catalogue and contact figures."""
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from api.tests.helpers import token_client
from customers.imports.purchases import purchases_import_csv
from customers.models import Contact, Product, Purchase
from customers.services.purchases import purchase_record
from customers.tests.doors import FIGURES, browser, browser_post
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

AT = timezone.now().replace(second=0, microsecond=0) - timezone.timedelta(hours=2)
LINES = [
    {"sku": "TEA-1", "name": "Green tea", "quantity": "2", "unit_price": "12.50"},
    {"sku": "CHEESE", "name": "Aged cheese", "quantity": "1.250", "unit_price": "20.00"},
]


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"


def through_service(contact, sales_user):
    purchase_record(contact=contact, purchased_at=AT, amount=None, currency="USD",
                    lines=LINES, source="shop", external_id=f"{contact.pk}")


def through_api(contact, sales_user):
    response = token_client(sales_user).post(reverse("api:purchases"), {
        "contact": contact.pk, "purchased_at": AT.isoformat(), "currency": "usd",
        "source": "shop", "external_id": f"{contact.pk}", "lines": LINES}, format="json")
    assert response.status_code == 201, response.content


def through_import(contact, sales_user):
    text = "email,purchased_at,currency,external_id,sku,product,quantity,unit_price\n" + "".join(
        f"{contact.email},{AT.isoformat()},usd,{contact.pk},{line['sku']},{line['name']},"
        f"{line['quantity']},{line['unit_price']}\n" for line in LINES)
    result = purchases_import_csv(file=io.BytesIO(text.encode()), source="shop")
    assert result.imported, result.errors


def through_dashboard(contact, sales_user):
    data = {"currency": "usd", "channel": "online", "quantity": "1", "code": "",
            "purchased_at": timezone.localtime(AT).strftime("%Y-%m-%dT%H:%M"),
            "lines-TOTAL_FORMS": "3", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "50"}
    for number, line in enumerate(LINES):
        data.update({f"lines-{number}-product": line["name"], f"lines-{number}-sku": line["sku"],
                     f"lines-{number}-quantity": line["quantity"],
                     f"lines-{number}-unit_price": line["unit_price"]})
    response = browser_post(browser(sales_user),
                            reverse("dashboard:purchase_create", args=[contact.pk]),
                            reverse("dashboard:purchase_create", args=[contact.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]


DOORS = {"service": through_service, "api": through_api, "import": through_import,
         "dashboard": through_dashboard}


def _state(contact: Contact) -> dict:
    contact.refresh_from_db()
    purchase = Purchase.objects.get(contact=contact)
    return {
        "figures": {name: getattr(contact, name) for name in FIGURES},
        "purchase": (purchase.purchased_at, purchase.amount, purchase.currency,
                     purchase.amount_base, purchase.quantity),
        "lines": [(line.product.sku, line.product.name, line.quantity, line.unit_price,
                   line.discount, line.total, line.total_base)
                  for line in purchase.lines.select_related("product").order_by("id")],
    }


def test_an_order_with_lines_through_each_door_leaves_what_the_service_leaves(sales_user):
    states = {}
    for name, door in DOORS.items():
        contact = ContactFactory(email=f"{name}@example.com")
        door(contact, sales_user)
        states[name] = _state(contact)

    assert states["service"]["purchase"][1] == Decimal("50.00")
    for name in ("api", "import", "dashboard"):
        assert states[name] == states["service"], name
    assert Product.objects.count() == 2  # one catalogue, whichever door


def test_the_contact_page_shows_what_was_bought(sales_client):
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=AT, amount=None, currency="USD",
                    lines=[{**LINES[0], "category": "Tea"}])

    page = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    assert "2 × Green tea" in page.content.decode()
    assert "(Tea)" in page.content.decode()


def test_the_record_purchase_page_refuses_a_bad_line_and_keeps_the_rows(sales_user):
    contact = ContactFactory()
    client = browser(sales_user)
    url = reverse("dashboard:purchase_create", args=[contact.pk])
    response = browser_post(client, url, url, {
        "currency": "usd", "channel": "online", "quantity": "1",
        "purchased_at": timezone.localtime(AT).strftime("%Y-%m-%dT%H:%M"),
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-product": "Tea",
        "lines-0-quantity": "0", "lines-0-unit_price": "3"})

    assert response.status_code == 200
    assert "the quantity must be above zero" in response.content.decode()
    assert 'value="Tea"' in response.content.decode()
    assert not Purchase.objects.exists()


HOSTILE_NAME = '<script>alert(1)</script>=HYPERLINK("http://evil.example","x")'


def test_a_hostile_product_name_is_kept_as_typed_and_never_runs(sales_user, manager, client):
    """Script and a spreadsheet formula in a product's name and category, sent through the API:
    stored as typed, shown escaped on the contact page and in the admin, exported as text."""
    contact = ContactFactory()
    response = token_client(sales_user).post(reverse("api:purchases"), {
        "contact": contact.pk, "purchased_at": AT.isoformat(), "currency": "usd",
        "source": "shop", "external_id": "evil-1",
        "lines": [{"sku": "=1+1", "name": HOSTILE_NAME, "category": "<b>x</b>",
                   "quantity": "1", "unit_price": "5.00"}]}, format="json")
    assert response.status_code == 201, response.content
    product = Product.objects.get()
    assert (product.sku, product.name, product.category) == ("=1+1", HOSTILE_NAME, "<b>x</b>")

    page = browser(sales_user).get(reverse("dashboard:contact_detail", args=[contact.pk]))
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html

    client.force_login(manager)
    purchase = Purchase.objects.get()
    admin_page = client.get(reverse("admin:customers_purchase_change", args=[purchase.pk]))
    assert admin_page.status_code == 200
    assert "<script>alert(1)</script>" not in admin_page.content.decode()
    export = client.post(reverse("admin:customers_purchase_changelist"),
                         {"action": "export_lines_csv", "_selected_action": [purchase.pk]})
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert ",'=1+1," in text  # a cell starting with a formula sign is exported as text
    assert ",=1+1," not in text
