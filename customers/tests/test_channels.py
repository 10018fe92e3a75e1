"""A purchase's channel is the shop's own label, kept as written, and a reporting channel found
through the mapping managers edit (customers.channels): at every door, an unknown label is
never a reason to refuse, only a label longer than the column is."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.channels import channel_mapping_save, purchases_remap
from customers.imports.purchases import purchases_import_csv
from customers.models import ChannelMapping, Contact, CurrencyRate, Purchase
from customers.normalise import channel_key
from customers.services.purchases import purchase_record, purchase_update
from customers.tests.doors import admin_post, admin_url, api_client, browser, browser_post
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LONG = "w" * 500
TOO_LONG = ("Channel is longer than 100 characters: give the shop's name for the channel (such "
            "as web, app or Trendyol).")
AT = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)


def stored() -> list[tuple[str, str]]:
    return sorted(Purchase.objects.values_list("channel_label", "channel"))


def admin_refused(client, url: str, data: dict) -> str:
    """Post an admin form that must be refused (shown again with its errors)."""
    client.get(url)
    response = client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 200
    return response.content.decode().replace("&#x27;", "'")


def unmapped() -> dict[str, int]:
    return dict(ChannelMapping.objects.filter(channel="").values_list("key", "seen"))


# --- The mapping ------------------------------------------------------------------------------

@pytest.mark.parametrize(("label", "key"), [
    ("web", "web"), ("  WEB ", "web"), ("Call   Center", "call center"),
    ("İNTERNET", "internet"), ("ınternet", "internet"), ("Internet", "internet"),
    ("MAĞAZA", "mağaza"), ("ÇİÇEKSEPETİ", "çiçeksepeti"), ("ｗｅｂ", "web"),
])
def test_labels_are_matched_ignoring_case_and_the_turkish_dotted_i(label, key):
    assert channel_key(label) == key


@pytest.mark.parametrize(("label", "channel"), [
    ("web", "online"), ("Website", "online"), ("app", "online"), ("iOS", "online"),
    ("Instagram", "online"), ("WhatsApp", "online"), ("Trendyol", "marketplace"),
    ("HEPSİBURADA", "marketplace"), ("n11", "marketplace"), ("Amazon", "marketplace"),
    ("Çiçeksepeti", "marketplace"), ("eBay", "marketplace"), ("POS", "store"),
    ("Mağaza", "store"), ("magaza", "store"), ("DÜKKAN", "store"), ("Telefon", "phone"),
    ("call center", "phone"), ("online", "online"), ("marketplace", "marketplace"),
    ("other", "other"), ("fax", "other"),
])
def test_the_shipped_defaults_map_common_labels(label, channel):
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"), currency="USD",
                    channel=f" {label} ")

    assert stored() == [(label, channel)]  # kept as written, trimmed


def test_an_unknown_label_counts_as_other_and_is_listed_unmapped_with_how_often_seen():
    contact = ContactFactory()
    for label in ("Fax", "FAX", "telex"):
        purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"),
                        currency="USD", channel=label)

    assert stored() == [("FAX", "other"), ("Fax", "other"), ("telex", "other")]
    assert unmapped() == {"fax": 2, "telex": 1}


def test_a_label_that_folds_longer_than_the_column_is_still_listed():
    contact = ContactFactory()
    purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"), currency="USD",
                    channel="ß" * 100)

    assert stored() == [("ß" * 100, "other")]
    assert unmapped() == {"ss" * 100: 1}


def test_a_label_mapped_to_other_is_not_listed_unmapped():
    contact = ContactFactory()
    for label in ("Diğer", "other"):
        purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"),
                        currency="USD", channel=label)

    assert stored() == [("Diğer", "other"), ("other", "other")]
    assert unmapped() == {}


def test_mapping_a_label_later_re_maps_its_stored_purchases():
    contact = ContactFactory()
    for label in ("Fax", "FAX", "telex", "web"):
        purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"),
                        currency="USD", channel=label)
    mapping = ChannelMapping.objects.get(key="fax")

    mapping.channel = "phone"
    changed = channel_mapping_save(mapping)

    assert changed == 2
    assert stored() == [("FAX", "phone"), ("Fax", "phone"), ("telex", "other"), ("web", "online")]
    purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"), currency="USD",
                    channel="fax")  # the next one too, at once
    assert Purchase.objects.get(channel_label="fax").channel == "phone"


def test_remapping_is_set_based():
    contact = ContactFactory()
    for number in range(30):
        purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"),
                        currency="USD", channel=f"Fax{'!' * (number % 3)}")
    ChannelMapping.objects.filter(key="fax").update(channel="phone")

    with CaptureQueriesContext(connection) as queries:
        assert purchases_remap("fax", "phone") == 10

    assert len(queries) == 2  # the distinct labels, one UPDATE


def test_a_label_too_long_is_refused_and_nothing_is_written():
    contact = ContactFactory()
    with pytest.raises(ValidationError) as refused:
        purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"),
                        currency="USD", channel=LONG)

    assert refused.value.message_dict == {"channel": [TOO_LONG]}
    assert not Purchase.objects.exists()
    assert not ChannelMapping.objects.filter(channel="").exists()


def test_correcting_the_label_maps_it_again():
    contact = ContactFactory()
    purchase = purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"),
                               currency="USD", channel="web").purchase

    purchase_update(purchase=purchase, channel_label="Trendyol")

    assert stored() == [("Trendyol", "marketplace")]


# --- Every door ------------------------------------------------------------------------------

def test_the_contact_page_form_takes_the_shops_label(sales_user):
    contact = ContactFactory()
    client = browser(sales_user)
    page = reverse("dashboard:contact_detail", args=[contact.pk])
    url = reverse("dashboard:purchase_create", args=[contact.pk])
    form = {"amount": "10.00", "currency": "USD", "quantity": "1",
            "purchased_at": timezone.localtime(AT).strftime("%Y-%m-%dT%H:%M")}

    assert 'list="channel-labels"' in client.get(url).content.decode()
    assert browser_post(client, page, url, {**form, "channel": " Trendyol "}).status_code == 302
    assert browser_post(client, page, url, {**form, "channel": "kiosk"}).status_code == 302
    refused = browser_post(client, page, url, {**form, "channel": LONG})

    assert refused.status_code == 200
    assert TOO_LONG in refused.content.decode().replace("&#x27;", "'")
    assert stored() == [("Trendyol", "marketplace"), ("kiosk", "other")]


def test_the_api_takes_labels_and_the_five_reporting_values(sales_user):
    sales_api = api_client(sales_user)
    order = {"email": "ann@example.com", "purchased_at": "2024-05-31T14:30:00+03:00",
             "amount": "19.90", "currency": "usd", "source": "shop"}
    answers = [sales_api.post("/api/purchases/", {**order, "channel": channel,
                                                  "external_id": channel[:20]}, format="json")
               for channel in ("app", "marketplace", "Hepsiburada", "fax")]
    refused = sales_api.post("/api/purchases/", {**order, "channel": LONG, "external_id": "x"},
                             format="json")

    assert [answer.status_code for answer in answers] == [201] * 4
    assert [(a.json()["channel_label"], a.json()["channel"]) for a in answers] == [
        ("app", "online"), ("marketplace", "marketplace"), ("Hepsiburada", "marketplace"),
        ("fax", "other")]
    assert refused.status_code == 400
    assert refused.json()["channel"] == [TOO_LONG]
    assert Purchase.objects.count() == 4


def test_the_admin_takes_the_shops_label(manager):
    contact = ContactFactory()
    client = browser(manager)
    local = timezone.localtime(AT)
    form = {"contact": contact.pk, "purchased_at_0": local.strftime("%Y-%m-%d"),
            "purchased_at_1": local.strftime("%H:%M:%S"), "amount": "10.00",
            "currency": "USD", "quantity": "1", "code": "", "source": "manual",
            "external_id": ""}

    admin_post(client, admin_url(Purchase, "add"), {**form, "channel_label": "Trendyol"})
    purchase = Purchase.objects.get()
    admin_post(client, admin_url(Purchase, "change", purchase.pk),
               {**form, "channel_label": "Mağaza", "refund_amount": ""})
    refused = admin_refused(client, admin_url(Purchase, "add"), {**form, "channel_label": LONG})

    assert stored() == [("Mağaza", "store")]
    assert TOO_LONG in refused


def test_the_mapping_admin_lists_unmapped_labels_and_mapping_one_re_maps(manager):
    contact = ContactFactory()
    for label in ("Kiosk", "kiosk", "KIOSK"):
        purchase_record(contact=contact, purchased_at=AT, amount=Decimal("10"),
                        currency="USD", channel=label)
    client = browser(manager)
    mapping = ChannelMapping.objects.get(key="kiosk")

    listing = client.get(admin_url(ChannelMapping, "changelist"), {"mapped": "no"})
    assert "unmapped, seen 3 times" in listing.content.decode()
    admin_post(client, admin_url(ChannelMapping, "change", mapping.pk),
               {"label": "Kiosk", "channel": "store"})

    assert set(Purchase.objects.values_list("channel", flat=True)) == {"store"}
    admin_post(client, admin_url(ChannelMapping, "add"), {"label": "Pop-up", "channel": "store"})
    assert ChannelMapping.objects.get(key="pop-up").channel == "store"
    refused = admin_refused(client, admin_url(ChannelMapping, "add"),
                            {"label": "KİOSK", "channel": "phone"})
    assert "is mapped already" in refused

    admin_post(client, admin_url(ChannelMapping, "delete", mapping.pk), {"post": "yes"})
    assert set(Purchase.objects.values_list("channel", flat=True)) == {"other"}


def test_the_import_keeps_labels_maps_them_once_per_file_and_lists_unknown_ones(tmp_path):
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.08"))
    path = tmp_path / "orders.csv"
    path.write_text(
        "email,purchased_at,amount,currency,channel\n"
        "a@example.com,2026-05-01,10.00,USD,web\n"
        "b@example.com,2026-05-01,10.00,EUR, app \n"
        "c@example.com,2026-05-01,10.00,USD,Trendyol\n"
        "d@example.com,2026-05-01,10.00,USD,TRENDYOL\n"
        "e@example.com,2026-05-01,10.00,USD,Kiosk\n"
        "f@example.com,2026-05-01,10.00,USD,kiosk\n"
        "g@example.com,2026-05-01,10.00,USD,\n", encoding="utf-8")

    with CaptureQueriesContext(connection) as queries:
        result = purchases_import_csv(file=path)

    assert (result.imported, result.rows_invalid, result.purchases_created) == (True, 0, 7)
    assert stored() == [("", "online"), ("Kiosk", "other"), ("TRENDYOL", "marketplace"),
                        ("Trendyol", "marketplace"), ("app", "online"), ("kiosk", "other"),
                        ("web", "online")]
    assert unmapped() == {"kiosk": 2}
    mapping_reads = [q for q in queries if "customers_channelmapping" in q["sql"]
                     and q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(mapping_reads) == 1


def test_an_import_row_with_a_label_too_long_is_refused_and_nothing_is_partial(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("email,purchased_at,amount,currency,channel\n"
                    "a@example.com,2026-05-01,10.00,USD,web\n"
                    f"b@example.com,2026-05-01,10.00,USD,{LONG}\n", encoding="utf-8")

    result = purchases_import_csv(file=path)

    assert result.errors == [(3, "b@example.com", [TOO_LONG])]
    assert not result.imported
    assert not Purchase.objects.exists() and not Contact.objects.exists()
    skipped = purchases_import_csv(file=path, skip_invalid=True)
    assert (skipped.purchases_created, skipped.rows_invalid) == (1, 1)
    assert stored() == [("web", "online")]
