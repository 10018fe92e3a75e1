"""Amounts shown as the active language writes money (CLDR through Babel)."""
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from customers.templatetags.money import money, money_whole
from customers.tests.factories import ContactFactory, record_purchase


@pytest.mark.parametrize(("language", "value", "currency", "shown"), [
    ("en", Decimal("1234.5"), "USD", "$1,234.50"),
    ("tr", Decimal("1234.5"), "USD", "$1.234,50"),
    ("tr", Decimal("1234.5"), "TRY", "₺1.234,50"),
    ("en", Decimal("1500"), "JPY", "¥1,500"),
    ("en", Decimal("12.345"), "EUR", "€12.34"),
    ("en", None, "USD", "—"),
])
def test_money_follows_the_language_and_the_currency(language, value, currency, shown):
    with translation.override(language):
        assert money(value, currency).replace("\xa0", " ") == shown


def test_whole_units_for_badges():
    with translation.override("en"):
        assert money_whole(Decimal("1234.56"), "USD") == "$1,235"


@pytest.mark.django_db
def test_the_contact_page_writes_totals_in_the_users_language(client, sales_user):
    contact = ContactFactory()
    record_purchase(contact, days_ago=2, amount="1234.50")
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:contact_detail", args=[contact.pk]),
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "$1,234.50" in html
