"""The contact list's rows (dashboard.templatetags.contact_rows): what a salesperson reads."""
import re

import pytest
from django.utils import formats, timezone, translation

from accounts.tests.factories import SalesStaffFactory
from api.tests.helpers import publish_score
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _row(html: str, email: str) -> str:
    rows = re.findall(r"<tr>.*?</tr>", html, flags=re.S)
    [row] = [row for row in rows if email in row]
    return " ".join(row.split())


def test_a_scored_owned_buyer_reads_in_full(sales_client, settings):
    settings.CRM_BASE_CURRENCY = "USD"
    owner = SalesStaffFactory(first_name="Selin", last_name="Kara")
    buyer = ContactFactory(email="ayse@example.com", first_name="Ayşe", last_name="<Yılmaz>",
                           owner=owner)
    record_purchase(buyer, days_ago=3, amount="1234.50")
    publish_score(buyer, p_buy_again=0.425)
    when = timezone.localtime(buyer.purchases.get().purchased_at)

    row = _row(sales_client.get("/contacts/").content.decode(), "ayse@example.com")

    assert row == (
        f'<tr> <td><input class="form-check-input" type="checkbox" name="ids" '
        f'value="{buyer.pk}" form="bulk-form" aria-label="Select Ayşe &lt;Yılmaz&gt;" '
        'data-bulk-row></td> '
        f'<td><a href="/contacts/{buyer.pk}/">Ayşe &lt;Yılmaz&gt;</a> '
        '<div class="small text-body-secondary">ayse@example.com</div></td> '
        '<td><span class="badge stage-one_time">One-time buyer</span></td> '
        '<td class="text-end">1</td> <td class="text-end">$1,234.50</td> '
        f'<td><time datetime="{when.isoformat()}">{when:%m/%d/%Y}</time></td> '
        '<td class="text-end">42%</td> <td>Selin Kara</td> </tr>')


def test_a_prospect_without_name_score_or_owner(sales_client):
    ContactFactory(email="new@example.com", first_name="", last_name="")

    row = _row(sales_client.get("/contacts/").content.decode(), "new@example.com")

    assert '<a href="' in row and ">new@example.com</a>" in row
    assert "text-body-secondary" not in row  # no second line repeating the email
    assert row.count("<td>—</td>") == 2 and '<td class="text-end">—</td>' in row


def test_turkish_readers_get_turkish_numbers_and_dates(sales_client, sales_user, settings):
    settings.CRM_BASE_CURRENCY = "TRY"
    sales_user.language = "tr"
    sales_user.save(update_fields=["language"])
    buyer = ContactFactory(email="can@example.com")
    record_purchase(buyer, days_ago=2, amount="1234.50", currency="TRY")
    when = timezone.localtime(buyer.purchases.get().purchased_at)

    row = _row(sales_client.get("/contacts/").content.decode(), "can@example.com")

    with translation.override("tr"):
        expected_day = formats.date_format(when, "SHORT_DATE_FORMAT")
    assert "Tek seferlik" in row or "tek seferlik" in row.lower()
    assert "₺1.234,50" in row
    assert f">{expected_day}</time>" in row
