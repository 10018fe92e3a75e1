"""A purchase in a currency with no rate yet, at every door: a TRY order on a EUR shop is
accepted and provisional through the service, the admin, the contact page, the API, the
import command and the dashboard's upload alike, and converted once the rate arrives; an
unknown code (TLX) is refused at each with the same reason."""
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from api.tests.helpers import token_client
from customers.models import Contact, ImportJob, Purchase
from customers.services.purchases import purchase_record
from customers.services.rates import has_provisional, rates_save
from customers.tests.doors import admin_url, browser, browser_post, upload_csv
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

AT = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)
HEADER = "email,purchased_at,amount,currency,external_id\n"


@pytest.fixture(autouse=True)
def eur_shop(settings, tmp_path):
    settings.CRM_BASE_CURRENCY = "EUR"
    settings.CRM_IMPORT_DIR = tmp_path / "imports"


def _local(format_: str) -> str:
    return timezone.localtime(AT).strftime(format_)


def through_service(contact, currency, users, tmp_path):
    purchase_record(contact=contact, purchased_at=AT, amount=Decimal("1500.00"),
                    currency=currency, source="shop", external_id=f"{contact.pk}-1")


def through_admin(contact, currency, users, tmp_path):
    client = browser(users["manager"])
    url = admin_url(Purchase, "add")
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, {
        "contact": contact.pk, "purchased_at_0": _local("%Y-%m-%d"),
        "purchased_at_1": _local("%H:%M:%S"), "amount": "1500.00", "currency": currency.lower(),
        "quantity": "1", "channel": "online", "code": "", "source": "shop",
        "external_id": f"{contact.pk}-1", "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def through_dashboard(contact, currency, users, tmp_path):
    return browser_post(
        browser(users["sales"]), reverse("dashboard:contact_detail", args=[contact.pk]),
        reverse("dashboard:purchase_create", args=[contact.pk]),
        {"amount": "1500.00", "currency": currency.lower(),
         "purchased_at": _local("%Y-%m-%dT%H:%M"), "channel": "online", "quantity": "1",
         "code": ""})


def through_api(contact, currency, users, tmp_path):
    response = token_client(users["sales"]).post(reverse("api:purchases"), {
        "contact": contact.pk, "purchased_at": AT.isoformat(), "amount": "1500.00",
        "currency": currency.lower(), "source": "shop", "external_id": f"{contact.pk}-1"},
        format="json")
    if response.status_code == 201:  # the answer says it is provisional
        assert (response.json()["amount_base"], response.json()["provisional"]) == (None, True)
    return response


def _csv(contact, currency) -> str:
    return HEADER + f"{contact.email},{AT.isoformat()},1500.00,{currency.lower()},{contact.pk}-1\n"


def through_import(contact, currency, users, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(_csv(contact, currency), encoding="utf-8")
    out = io.StringIO()
    try:
        call_command("import_purchases", str(path), "--source", "shop", stdout=out,
                     stderr=out)
    except CommandError as error:  # a refused file: the command's error, for the assertion
        return f"{out.getvalue()} {error}"
    return out.getvalue()


def through_upload(contact, currency, users, tmp_path):
    upload_csv(users["manager"], kind="purchases", text=_csv(contact, currency), source="shop")
    return ImportJob.objects.latest("pk")


DOORS = {"service": through_service, "admin": through_admin, "dashboard": through_dashboard,
         "api": through_api, "import": through_import, "upload": through_upload}


@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_try_purchase_without_a_rate_is_provisional_at_every_door_then_converted(
        door, manager, sales_user, tmp_path, django_capture_on_commit_callbacks):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        DOORS[door](contact, "TRY", {"manager": manager, "sales": sales_user}, tmp_path)

    purchase = Purchase.objects.get(contact=contact)
    assert (purchase.amount, purchase.currency, purchase.amount_base) == (
        Decimal("1500.000"), "TRY", None)
    contact.refresh_from_db()
    assert (contact.purchase_count, contact.stage, contact.total_spent) == (
        1, "one_time", Decimal("0"))
    assert has_provisional(contact)
    if door == "dashboard":
        page = browser(sales_user).get(reverse("dashboard:contact_detail", args=[contact.pk]))
        assert 'data-testid="provisional"' in page.content.decode()
        listed = browser(sales_user).get(reverse("dashboard:contact_list"))
        assert listed.content.decode().count('data-testid="provisional"') == 1

    rates_save({"TRY": Decimal("0.0202")}, day=timezone.localdate(AT), source="ecb")

    purchase.refresh_from_db()
    contact.refresh_from_db()
    assert purchase.amount_base == Decimal("30.300")
    assert contact.total_spent == Decimal("30.300")
    assert not has_provisional(contact)
    listed = browser(sales_user).get(reverse("dashboard:contact_list"))
    assert 'data-testid="provisional"' not in listed.content.decode()


@pytest.mark.parametrize("door", sorted(set(DOORS) - {"service"}))
def test_an_unknown_currency_code_is_refused_at_every_door(door, manager, sales_user, tmp_path,
                                                          django_capture_on_commit_callbacks):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        answer = DOORS[door](contact, "TLX", {"manager": manager, "sales": sales_user},
                             tmp_path)
    # The code as typed (the doors are given it in lower case, as people type it).
    reason = "unknown currency tlx: use an iso 4217 code such as usd, eur or try."
    if door == "upload":
        answer.refresh_from_db()
        assert answer.count_rejected == 1, answer.preview
        text = str(answer.preview) + answer.error
        if answer.report_path:
            text += Path(answer.report_path).read_text(encoding="utf-8")
        assert reason in text.lower()
    elif door == "import":
        assert reason in answer.lower()
    else:
        assert reason in answer.content.decode().lower()
    assert not Purchase.objects.exists()
    assert Contact.objects.get(pk=contact.pk).purchase_count == 0
