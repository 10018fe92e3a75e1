"""Order lines and the product catalogue (issue #20 point 1), through the purchase service."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import CurrencyRate, Product, Purchase, PurchaseLine, Stage
from customers.services.purchases import (
    purchase_delete,
    purchase_record,
    purchase_record_by_email,
    purchase_update,
)
from customers.services.rates import rates_save
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LINES = [
    {"sku": "TEA-1", "name": "Green tea", "category": "Tea", "quantity": 2,
     "unit_price": Decimal("12.50")},
    {"sku": "CHEESE", "name": "Aged cheese", "category": "Deli", "quantity": Decimal("1.250"),
     "unit_price": Decimal("20.00"), "discount": Decimal("5.00")},
]


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"


def _rows(purchase):
    return [(line.product.sku, line.product.name, line.product.category, line.quantity,
             line.unit_price, line.discount, line.total, line.total_base)
            for line in purchase.lines.select_related("product").order_by("id")]


def test_lines_are_stored_with_their_totals_and_the_amount_is_derived_from_them():
    contact = ContactFactory()

    result = purchase_record(contact=contact, purchased_at=WHEN, amount=None, currency="USD",
                             lines=LINES, source="api", external_id="A-1")

    purchase = result.purchase
    assert result.created and purchase.amount == Decimal("45.00")  # 25 + 25 - 5
    assert purchase.quantity == 3  # two teas and one weighed line
    assert _rows(purchase) == [
        ("TEA-1", "Green tea", "Tea", Decimal(2), Decimal("12.50"), Decimal(0),
         Decimal("25.00"), Decimal("25.00")),
        ("CHEESE", "Aged cheese", "Deli", Decimal("1.25"), Decimal("20"), Decimal(5),
         Decimal("20.00"), Decimal("20.00")),
    ]
    contact.refresh_from_db()
    assert (contact.purchase_count, contact.total_spent, contact.stage) == (
        1, Decimal("45.00"), Stage.ONE_TIME)


def test_a_given_amount_must_agree_with_the_lines_within_rounding():
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=WHEN, amount=Decimal("45.01"),
                    currency="USD", lines=LINES)  # one cent per line is rounding

    with pytest.raises(ValidationError) as raised:
        purchase_record(contact=contact, purchased_at=WHEN, amount=Decimal("50.00"),
                        currency="USD", lines=LINES)

    assert "add up to 45.00" in raised.value.message_dict["amount"][0]
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize(("change", "message"), [
    ({"quantity": -1}, "Line 1: the quantity must be above zero"),
    ({"quantity": 0}, "Line 1: the quantity must be above zero"),
    ({"quantity": "two"}, "Line 1: the quantity two is not a number"),
    ({"unit_price": Decimal("-3")}, "Line 1: the unit price: Amount cannot be negative"),
    ({"discount": Decimal("30")}, "Line 1: the discount is larger than the line's price"),
    ({"sku": "", "name": ""}, "Line 1: give the product's SKU or its name"),
    ({"unit_price": Decimal("1.001")}, "Line 1: the unit price: USD amounts have at most 2"),
])
def test_bad_lines_are_refused_naming_the_line_and_nothing_is_stored(change, message):
    contact = ContactFactory()

    with pytest.raises(ValidationError) as raised:
        purchase_record(contact=contact, purchased_at=WHEN, amount=None, currency="USD",
                        lines=[{**LINES[0], **change}, LINES[1]])

    assert raised.value.message_dict["lines"][0].startswith(message)
    assert not Purchase.objects.exists() and not Product.objects.exists()


def test_no_amount_and_no_lines_is_refused():
    with pytest.raises(ValidationError) as raised:
        purchase_record(contact=ContactFactory(), purchased_at=WHEN, amount=None,
                        currency="USD", lines=[])
    assert "amount" in raised.value.message_dict


def test_a_retried_order_adds_no_lines():
    contact = ContactFactory()
    first = purchase_record(contact=contact, purchased_at=WHEN, amount=None, currency="USD",
                            lines=LINES, source="shop", external_id="9")

    again = purchase_record(contact=contact, purchased_at=WHEN, amount=None, currency="USD",
                            lines=LINES, source="shop", external_id="9")
    by_email = purchase_record_by_email(email=contact.email, purchased_at=WHEN, amount=None,
                                        currency="USD", lines=LINES, source="shop",
                                        external_id="9")

    assert not again.created and not by_email.created
    assert again.purchase.pk == first.purchase.pk == by_email.purchase.pk
    assert PurchaseLine.objects.count() == 2 and Product.objects.count() == 2


def test_the_catalogue_keeps_one_product_per_sku_with_the_latest_name_and_category():
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=WHEN, amount=None, currency="USD",
                    lines=LINES)
    renamed = {**LINES[0], "name": "Sencha green tea", "category": ""}

    purchase_record(contact=contact, purchased_at=WHEN, amount=None, currency="USD",
                    lines=[renamed])

    tea = Product.objects.get(sku="TEA-1")
    assert (tea.name, tea.category) == ("Sencha green tea", "Tea")  # empty keeps the known
    assert Product.objects.count() == 2 and tea.lines.count() == 2


def test_a_line_without_a_sku_is_keyed_by_its_name():
    contact = ContactFactory()
    for _ in range(2):
        purchase_record(contact=contact, purchased_at=WHEN, amount=None, currency="USD",
                        lines=[{"name": " Olive  oil ", "quantity": "1", "unit_price": "9"}])

    product = Product.objects.get()
    assert (product.sku, product.name, product.lines.count()) == ("Olive oil", "Olive oil", 2)


def test_a_foreign_currency_purchase_converts_its_lines_when_the_rate_arrives():
    contact = ContactFactory()
    purchase = purchase_record(contact=contact, purchased_at=WHEN, amount=None,
                               currency="EUR", lines=LINES).purchase
    assert purchase.amount_base is None
    assert [line.total_base for line in purchase.lines.all()] == [None, None]

    rates_save({"EUR": Decimal("1.1")}, day=WHEN.date(), source=CurrencyRate.Source.MANUAL)

    assert sorted(purchase.lines.values_list("total_base", flat=True)) == [
        Decimal("22.000"), Decimal("27.500")]
    rates_save({"EUR": Decimal("1.2")}, day=WHEN.date(), source=CurrencyRate.Source.MANUAL)
    assert sorted(purchase.lines.values_list("total_base", flat=True)) == [
        Decimal("24.000"), Decimal("30.000")]


def test_a_purchase_with_a_known_rate_stores_its_lines_in_base_currency():
    CurrencyRate.objects.create(currency="EUR", day=WHEN.date(), rate=Decimal("2"),
                                source=CurrencyRate.Source.MANUAL)
    purchase = purchase_record(contact=ContactFactory(), purchased_at=WHEN, amount=None,
                               currency="EUR", lines=LINES).purchase
    assert purchase.amount_base == Decimal("90.000")
    assert sorted(purchase.lines.values_list("total_base", flat=True)) == [
        Decimal("40.000"), Decimal("50.000")]


def test_a_refund_of_lines_is_checked_against_what_was_bought():
    contact = ContactFactory()
    purchase = purchase_record(contact=contact, purchased_at=WHEN, amount=None,
                               currency="USD", lines=LINES).purchase
    tea, cheese = purchase.lines.order_by("id")

    purchase_refund(purchase=purchase, lines={tea.pk: Decimal(1)})

    purchase.refresh_from_db()
    tea.refresh_from_db()
    assert purchase.refunded_amount == Decimal("12.50") and not purchase.is_refunded
    assert tea.refunded_quantity == 1
    with pytest.raises(ValidationError) as raised:
        purchase_refund(purchase=purchase, lines={tea.pk: Decimal(2)})
    assert "at most 1 can still be refunded" in raised.value.message_dict["lines"][0]
    other = purchase_record(contact=contact, purchased_at=WHEN, amount=None,
                            currency="USD", lines=LINES).purchase
    with pytest.raises(ValidationError) as raised:
        purchase_refund(purchase=other, lines={tea.pk: Decimal(1)})
    assert "is not a line of this purchase" in raised.value.message_dict["lines"][0]
    with pytest.raises(ValidationError):
        purchase_refund(purchase=purchase, lines={cheese.pk: Decimal("-1")})

    purchase_refund(purchase=purchase, lines={tea.pk: Decimal(1), cheese.pk: Decimal("1.25")})

    purchase.refresh_from_db()
    assert purchase.is_refunded and purchase.refunded_amount == Decimal("45.00")
    assert list(purchase.lines.values_list("refunded_quantity", flat=True)) == [
        Decimal(2), Decimal("1.25")]


def test_a_full_refund_refunds_every_line():
    purchase = purchase_record(contact=ContactFactory(), purchased_at=WHEN, amount=None,
                               currency="USD", lines=LINES).purchase
    purchase_refund(purchase=purchase, refunded_at=timezone.now())
    assert [line.refunded_quantity == line.quantity for line in purchase.lines.all()] == [
        True, True]


def test_a_correction_keeps_the_lines_true():
    purchase = purchase_record(contact=ContactFactory(), purchased_at=WHEN, amount=None,
                               currency="USD", lines=LINES).purchase
    with pytest.raises(ValidationError) as raised:
        purchase_update(purchase=Purchase.objects.get(pk=purchase.pk), amount=Decimal("99"))
    assert "add up to" in raised.value.message_dict["amount"][0]
    with pytest.raises(ValidationError) as raised:
        purchase_update(purchase=Purchase.objects.get(pk=purchase.pk), currency="EUR")
    assert "currency cannot change" in raised.value.message_dict["currency"][0]

    purchase_update(purchase=Purchase.objects.get(pk=purchase.pk), code="X")  # fine


def test_lines_go_with_their_purchase():
    purchase = purchase_record(contact=ContactFactory(), purchased_at=WHEN, amount=None,
                               currency="USD", lines=LINES).purchase
    purchase_delete(purchase=purchase)
    assert not PurchaseLine.objects.exists()
    assert Product.objects.count() == 2  # the catalogue stays


def test_a_purchase_without_lines_is_unchanged():
    purchase = purchase_record(contact=ContactFactory(), purchased_at=WHEN,
                               amount=Decimal("10"), currency="USD").purchase
    assert purchase.quantity == 1 and not purchase.lines.exists()


def test_the_admin_shows_a_purchases_lines_read_only(admin_client):
    from django.urls import reverse

    purchase = purchase_record(contact=ContactFactory(), purchased_at=WHEN, amount=None,
                               currency="USD", lines=LINES).purchase

    page = admin_client.get(reverse("admin:customers_purchase_change", args=[purchase.pk]))
    catalogue = admin_client.get(reverse("admin:customers_product_changelist") + "?q=tea")

    assert 'data-testid="purchase-lines"' in page.content.decode()
    assert "Aged cheese" in page.content.decode()
    assert "Green tea" in catalogue.content.decode()
    assert admin_client.get(reverse("admin:customers_product_add")).status_code == 403


def test_the_admin_exports_the_selected_purchases_lines(admin_client):
    from django.urls import reverse

    purchase = purchase_record(contact=ContactFactory(), purchased_at=WHEN, amount=None,
                               currency="USD", lines=LINES, external_id="A-1").purchase

    response = admin_client.post(reverse("admin:customers_purchase_changelist"), {
        "action": "export_lines_csv", "_selected_action": [purchase.pk]})

    text = b"".join(response.streaming_content).decode()
    rows = text.strip().splitlines()
    assert len(rows) == 3 and "TEA-1" in rows[1] and "CHEESE" in rows[2]
    assert "A-1" in rows[1] and "Aged cheese" in rows[2]


def test_a_coupon_on_an_order_with_lines_is_redeemed_as_on_any_order():
    from campaigns.coupons import CodeOutcome, coupon_create

    contact = ContactFactory()
    coupon = coupon_create(contact=contact, kind="amount", value=Decimal(5), currency="USD",
                           expires_at=timezone.now() + dt.timedelta(days=30))

    result = purchase_record(contact=contact, purchased_at=timezone.now(), amount=None,
                             currency="USD", lines=LINES, code=coupon.code)

    assert result.code_outcome == CodeOutcome.REDEEMED
    coupon.refresh_from_db()
    assert coupon.redeemed_purchase_id == result.purchase.pk
