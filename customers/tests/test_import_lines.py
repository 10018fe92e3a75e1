"""A purchases file with products: a row per order line, grouped by the order's id."""
import io
from decimal import Decimal

import pytest

from customers.imports.purchases import purchases_import_csv
from customers.imports.reading import ImportRefused
from customers.models import Contact, Product, Purchase, PurchaseLine

pytestmark = pytest.mark.django_db

HEADER = "email,purchased_at,currency,external_id,sku,product,category,quantity,unit_price,discount\n"
FILE = HEADER + (
    "ann@example.com,2026-03-02T10:00:00Z,USD,A-1,TEA-1,Green tea,Tea,2,12.50,\n"
    "ann@example.com,2026-03-02T10:00:00Z,USD,A-1,CHEESE,Aged cheese,Deli,1.250,20.00,5.00\n"
    "bob@example.com,2026-03-03T10:00:00Z,USD,B-7,TEA-1,Green tea,Tea,1,12.50,\n"
)


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"


def _import(text: str, **options):
    return purchases_import_csv(file=io.BytesIO(text.encode()), **options)


def _lines():
    return sorted((line.purchase.external_id, line.product.sku, line.quantity, line.total)
                  for line in PurchaseLine.objects.select_related("purchase", "product"))


def test_rows_of_one_order_make_one_purchase_with_its_lines():
    result = _import(FILE)

    assert result.imported and (result.rows_read, result.purchases_created) == (3, 2)
    ann = Purchase.objects.get(external_id="A-1")
    assert (ann.amount, ann.quantity, ann.source) == (Decimal("45.00"), 3, "csv")
    assert _lines() == [("A-1", "CHEESE", Decimal("1.25"), Decimal("20")),
                        ("A-1", "TEA-1", Decimal(2), Decimal(25)),
                        ("B-7", "TEA-1", Decimal(1), Decimal("12.5"))]
    assert Product.objects.count() == 2
    assert Contact.objects.get(email="ann@example.com").total_spent == Decimal("45.00")


def test_a_reimported_file_adds_no_lines():
    _import(FILE)

    again = _import(FILE)

    assert again.imported and again.purchases_existing == 2 and again.purchases_created == 0
    assert PurchaseLine.objects.count() == 3


def test_later_rows_may_leave_the_order_columns_blank_and_amount_must_agree():
    text = ("email,purchased_at,currency,external_id,amount,sku,quantity,unit_price\n"
            "ann@example.com,2026-03-02,USD,A-1,30.00,TEA-1,2,12.50\n"
            ",,,A-1,,SPOON,1,5.00\n")

    assert _import(text).imported
    assert Purchase.objects.get().amount == Decimal("30.00")


def test_a_bad_line_refuses_the_file_naming_its_line():
    text = FILE.replace("1.250,20.00,5.00", "-1,20.00,5.00")

    result = _import(text)

    assert not result.imported and not Purchase.objects.exists()
    assert [(line, reasons[0][:40]) for line, _email, reasons in result.errors] == [
        (3, "Line 3: the quantity must be above zero;")]


def test_with_skip_invalid_the_other_orders_go_in():
    text = FILE.replace("1.250,20.00,5.00", "1.250,20.00,50.00")  # discount over the price

    result = _import(text, skip_invalid=True)

    assert result.imported and list(Purchase.objects.values_list("external_id", flat=True)) == [
        "B-7"]
    assert (result.rows_valid, result.rows_invalid) == (1, 2)


def test_an_amount_that_disagrees_with_the_lines_is_refused():
    text = ("email,purchased_at,currency,external_id,amount,sku,quantity,unit_price\n"
            "ann@example.com,2026-03-02,USD,A-1,99.00,TEA-1,2,12.50\n")

    result = _import(text)

    assert not result.imported
    assert "The lines add up to 25.00" in result.errors[0][2][0]


def test_a_file_with_products_needs_the_order_id():
    with pytest.raises(ImportRefused, match="external_id"):
        _import("email,purchased_at,currency,sku,unit_price\n"
                "ann@example.com,2026-03-02,USD,TEA-1,12.50\n")


def test_a_semicolon_file_with_decimal_commas():
    text = ("email;purchased_at;currency;external_id;sku;quantity;unit_price\n"
            "ann@example.com;2026-03-02;EUR;A-1;CHEESE;1,250;20,00\n")

    result = _import(text)

    assert result.imported, result.errors
    purchase = Purchase.objects.get()
    assert purchase.amount == Decimal("25.00")
    assert purchase.lines.get().quantity == Decimal("1.25")
