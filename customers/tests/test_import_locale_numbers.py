"""Files saved by a spreadsheet in Turkish (or German...): ";" between fields, 1.234,50."""
from decimal import Decimal

import pytest

from customers.imports.contacts import contacts_import_csv
from customers.imports.purchases import purchases_import_csv
from customers.models import Contact, Purchase

pytestmark = pytest.mark.django_db


def _file(tmp_path, text: str):
    path = tmp_path / "satislar.csv"
    path.write_bytes(("\ufeff" + text).encode())
    return path


def test_semicolon_file_reads_decimal_commas_and_thousands_dots(tmp_path):
    path = _file(tmp_path, "email;purchased_at;amount;currency;first_name\n"
                           "ayse@example.com;2025-03-01;1.234,50;USD;Ayşe\n"
                           "mert@example.com;2025-03-02;19,9;USD;Mert\n"
                           "can@example.com;2025-03-03;7;USD;Can\n")

    result = purchases_import_csv(file=path)

    assert result.purchases_created == 3
    amounts = dict(Purchase.objects.values_list("contact__email", "amount"))
    assert amounts == {"ayse@example.com": Decimal("1234.50"),
                       "mert@example.com": Decimal("19.90"), "can@example.com": Decimal("7")}


@pytest.mark.parametrize("amount", ["1,234.50", "12.5", "1.23,4", "12,", ",5x", "-"])
def test_amounts_in_the_other_convention_are_rejected_not_misread(tmp_path, amount):
    path = _file(tmp_path, "email;purchased_at;amount;currency\n"
                           f"ayse@example.com;2025-03-01;{amount};USD\n")

    result = purchases_import_csv(file=path, skip_invalid=True)

    assert result.rows_invalid == 1
    _line, _email, reasons = result.errors[0]
    assert "1234,50" in reasons[0]
    assert Purchase.objects.count() == 0


def test_a_missing_amount_still_says_it_is_required(tmp_path):
    path = _file(tmp_path, "email;purchased_at;amount;currency\nayse@example.com;2025-03-01;;USD\n")

    result = purchases_import_csv(file=path, skip_invalid=True)

    _line, _email, reasons = result.errors[0]
    assert reasons == ["Amount is required."]


def test_comma_files_keep_refusing_decimal_commas(tmp_path):
    path = _file(tmp_path, 'email,purchased_at,amount,currency\nayse@example.com,2025-03-01,"12,50",USD\n')

    result = purchases_import_csv(file=path, skip_invalid=True)

    assert result.rows_invalid == 1
    assert Purchase.objects.count() == 0


def test_contacts_file_with_semicolons_is_read(tmp_path):
    path = _file(tmp_path, "email;first_name;last_name\nayse@example.com;Ayşe;Işık\n")

    contacts_import_csv(file=path)

    assert Contact.objects.get().last_name == "Işık"
