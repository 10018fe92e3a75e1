"""Amounts and quantities are written with the digits 0-9 at every door.

int() and Decimal() read any script's digits ("١٢" is 12, "１２" too) and underscores
("1_000"): the dashboard, the CSV import and the API (api/tests/test_hostile_input.py) refuse
them instead of storing a number staff never saw typed.
"""
import pytest
from django.urls import reverse

from customers.forms import PurchaseForm
from customers.imports.purchases import purchases_import_csv
from customers.models import Purchase
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

NOT_ASCII = {"arabic-indic": "١٢", "fullwidth": "１２", "underscores": "1_2",
             "extended arabic-indic": "۱۲"}


@pytest.mark.parametrize("amount", NOT_ASCII.values(), ids=NOT_ASCII.keys())
def test_the_dashboard_refuses_an_amount_in_other_digits(sales_client, amount):
    contact = ContactFactory()

    response = sales_client.post(reverse("dashboard:purchase_create", args=[contact.pk]), {
        "amount": amount, "currency": "USD", "purchased_at": "2026-01-05T10:30",
        "channel": "store", "quantity": "1"})

    assert response.status_code == 200
    assert "Write the number with the digits 0-9." in response.content.decode()
    assert not Purchase.objects.exists()


@pytest.mark.parametrize("quantity", NOT_ASCII.values(), ids=NOT_ASCII.keys())
def test_the_purchase_form_refuses_a_quantity_in_other_digits(quantity):
    form = PurchaseForm(data={"amount": "10", "currency": "USD",
                              "purchased_at": "2026-01-05T10:30", "channel": "store",
                              "quantity": quantity})

    assert form.errors["quantity"] == ["Write the number with the digits 0-9."]


def test_the_purchase_form_still_reads_plain_numbers():
    form = PurchaseForm(data={"amount": " 12.50 ", "currency": "USD",
                              "purchased_at": "2026-01-05T10:30", "channel": "store",
                              "quantity": "2"})

    assert form.is_valid(), form.errors
    assert (str(form.cleaned_data["amount"]), form.cleaned_data["quantity"]) == ("12.50", 2)


@pytest.mark.parametrize("amount", NOT_ASCII.values(), ids=NOT_ASCII.keys())
def test_the_import_refuses_an_amount_in_other_digits(tmp_path, amount):
    path = tmp_path / "purchases.csv"
    path.write_text(f"email,purchased_at,amount,currency\nann@example.com,2025-03-01,{amount},"
                    f"USD\n", encoding="utf-8")

    result = purchases_import_csv(file=path)

    assert result.imported is False
    assert result.errors[0][2] == [
        f"Amount {amount} is not a number written with the digits 0-9 and a dot, such as "
        f"1234.50."]
    assert not Purchase.objects.exists()


def test_a_semicolon_file_refuses_an_amount_in_other_digits(tmp_path):
    path = tmp_path / "purchases.csv"
    path.write_text("email;purchased_at;amount;currency\nann@example.com;2025-03-01;١٢,50;USD\n",
                    encoding="utf-8")

    result = purchases_import_csv(file=path)

    assert result.imported is False
    assert "is not a number" in result.errors[0][2][0]
    assert not Purchase.objects.exists()
