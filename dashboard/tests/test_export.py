"""The contact list's export reads as the list does (#19 point 4): headers in the user's
language, stage and consent in words, the owner's name, money with its currency,
percentages, dates in the user's locale; formulas stay text."""
import csv
import io

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from accounts.tests.factories import SalesStaffFactory
from api.tests.helpers import publish_score
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db
EXPORT = reverse("dashboard:contact_export")


def _rows(response, delimiter: str) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body), delimiter=delimiter))


@pytest.fixture
def buyer(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    owner = SalesStaffFactory(username="selin", first_name="Selin", last_name="Kara")
    contact = ContactFactory(email="ayse@example.com", first_name="Ayşe", last_name="Yılmaz",
                             phone="+905321234567", owner=owner, marketing_consent=True)
    record_purchase(contact, days_ago=3, amount="1234.50")
    publish_score(contact, p_buy_again=0.425, p_alive=0.8)
    return contact


def test_an_english_export_reads_as_the_list(sales_client, buyer):
    day = timezone.localtime(buyer.purchases.get().purchased_at)

    header, row = _rows(sales_client.get(EXPORT), ",")

    assert header == ["Email", "First name", "Last name", "Phone", "Stage",
                      "Marketing consent", "Owner", "Purchases", "First purchase",
                      "Last purchase", "Total spent", "Likely to buy again",
                      "Likely still active"]
    assert row == ["ayse@example.com", "Ayşe", "Yılmaz", "'+905321234567", "One-time buyer",
                   "Yes", "Selin Kara", "1", f"{day:%m/%d/%Y}", f"{day:%m/%d/%Y}",
                   "$1,234.50", "42%", "80%"]


def test_a_turkish_export_reads_as_the_turkish_list(sales_client, sales_user, buyer):
    sales_user.language = "tr"
    sales_user.save(update_fields=["language"])
    with translation.override("tr"):
        day = formats.date_format(timezone.localtime(buyer.purchases.get().purchased_at),
                                  "SHORT_DATE_FORMAT")

    header, row = _rows(sales_client.get(EXPORT), ";")

    assert header[:12] == ["E-posta", "Ad", "Soyad", "Telefon", "Aşama", "Pazarlama izni",
                           "Sorumlu", "Satın almalar", "İlk satın alma", "Son satın alma",
                           "Toplam harcama", "Yeniden satın alma olasılığı"]
    assert row == ["ayse@example.com", "Ayşe", "Yılmaz", "'+905321234567",
                   "Tek seferlik alıcı", "Evet", "Selin Kara", "1", day, day, "$1.234,50",
                   "%42", "%80"]
    assert "/" not in day  # the Turkish short date ("04 Ara 2026"), as the list, not 12/04/2026


def test_a_contact_without_score_owner_or_purchase(sales_client):
    ContactFactory(email="new@example.com")

    _header, row = _rows(sales_client.get(EXPORT), ",")

    assert row[4:] == ["Prospect", "No", "", "0", "", "", "$0.00", "", ""]


def test_formulas_typed_as_names_stay_text(sales_client):
    ContactFactory(first_name="=HYPERLINK(\"http://x\",\"click\")", last_name="@SUM(A1)")

    _header, row = _rows(sales_client.get(EXPORT), ",")

    assert row[1:3] == ["'=HYPERLINK(\"http://x\",\"click\")", "'@SUM(A1)"]
