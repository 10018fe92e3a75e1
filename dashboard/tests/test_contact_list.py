"""The contact list: filters, sort orders, keyset pages and the CSV export of what is shown."""
import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.contact_list import (
    PAGE_SIZE, SORTS, _after, _filtered, _order, _sortable, contact_page,
)
from customers.models import Contact, ContactScore, ScoringRun
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db
LIST = reverse("dashboard:contact_list")


def _walk(values: dict, user) -> list[int]:
    """Every page, following the 'next' cursor, as the ids shown."""
    seen, after = [], None
    while True:
        page = contact_page({**values, "after": after}, user=user)
        seen += [contact.pk for contact in page.contacts]
        if page.next_after is None:
            return seen
        after = page.next_after


@pytest.mark.parametrize("sort", ["recent", "spent", "purchases", "name", "likely"])
def test_keyset_pages_show_every_contact_once_in_order(sort, sales_user):
    run = ScoringRun.objects.create(trigger="command", as_of=timezone.localdate(),
                                    horizon_days=90, status="succeeded",
                                    finished_at=timezone.now())
    for index in range(PAGE_SIZE * 2 + 7):
        contact = ContactFactory(last_name=["Kaya", "Demir", "Ak"][index % 3],
                                 first_name=f"N{index % 5}")
        if index % 4:  # ties and prospects (NULL last purchase) on purpose
            record_purchase(contact, days_ago=index % 9, amount=f"{index % 6}.00")
        if index % 3:
            ContactScore.objects.create(
                run=run, contact=contact, scored_at=timezone.now(),
                p_buy_again=(index % 7) / 10, p_alive=1, expected_purchases=0,
                expected_value=0, predicted_value_12m=0, frequency=0, recency_days=0,
                age_days=0)

    walked = _walk({"sort": sort}, sales_user)

    one_query = _sortable(_filtered({}, sales_user), SORTS[sort][1]).order_by(
        *_order(SORTS[sort][1]))
    assert walked == list(one_query.values_list("pk", flat=True))
    assert sorted(walked) == sorted(Contact.objects.values_list("pk", flat=True))


def test_after_a_null_only_nulls_follow():
    condition = _after([("last_purchase_at", True)], {"id": 10, "last_purchase_at": None})

    assert "last_purchase_at__isnull" in str(condition)


def test_filters_combine(sales_client, sales_user):
    agreed = ContactFactory(first_name="Agreed", owner=sales_user)
    record_purchase(agreed, days_ago=10)
    contact_set_consent(contact=agreed, consent=True, source="test")
    silent = ContactFactory(first_name="Silent", owner=sales_user)
    record_purchase(silent, days_ago=400)
    ContactFactory(first_name="Prospect")

    recent_with_consent = sales_client.get(LIST, {"consent": "yes", "last": "30"})
    older = sales_client.get(LIST, {"last": "older"})
    prospects = sales_client.get(LIST, {"stage": "prospect"})

    assert [c.first_name for c in recent_with_consent.context["contacts"]] == ["Agreed"]
    assert [c.first_name for c in older.context["contacts"]] == ["Silent"]
    assert [c.first_name for c in prospects.context["contacts"]] == ["Prospect"]


def test_nonsense_parameters_are_ignored_not_errors(sales_client):
    ContactFactory()

    response = sales_client.get(LIST, {"sort": "drop table", "after": "x", "score": "9",
                                       "stage": "<b>"})

    assert response.status_code == 200 and len(response.context["contacts"]) == 1


def test_search_as_you_type_gets_the_results_only(sales_client):
    ContactFactory(first_name="Zeynep", last_name="Aydın")

    response = sales_client.get(LIST, {"q": "zey", "partial": "1"})

    html = response.content.decode()
    assert "Zeynep" in html and "<html" not in html


def test_the_export_has_what_the_filters_show_and_is_formula_safe(sales_client):
    shown = ContactFactory(first_name="=cmd|'/c calc'!A1", last_name="Kaya")
    record_purchase(shown, days_ago=3, amount="12.50")
    ContactFactory(first_name="Hidden")

    response = sales_client.get(reverse("dashboard:contact_export"), {"stage": "one_time"})

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["Last name"] for row in rows] == ["Kaya"]
    assert rows[0]["First name"].startswith("'=")
    assert rows[0]["Total spent"] == "$12.50"  # readable (#19 point 4): money with currency


def test_turkish_staff_get_an_export_their_spreadsheet_reads_as_numbers(sales_client, sales_user):
    record_purchase(ContactFactory(last_name="Öztürk"), days_ago=3, amount="1234.50")
    sales_user.language = "tr"
    sales_user.save(update_fields=["language"])

    response = sales_client.get(reverse("dashboard:contact_export"))

    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    assert rows[0]["Soyad"] == "Öztürk"
    assert rows[0]["Toplam harcama"] == "$1.234,50"  # as the Turkish list writes it


def test_anonymous_users_cannot_export(client):
    response = client.get(reverse("dashboard:contact_export"))

    assert response.status_code == 302


def test_search_counts_stop_at_the_match_cap(sales_client, monkeypatch):
    from dashboard import contact_list

    monkeypatch.setattr(contact_list, "SEARCH_MATCH_CAP", 3)
    for index in range(5):
        ContactFactory(last_name=f"Kaya{index}")
    ContactFactory(last_name="Other")

    searched = sales_client.get(reverse("dashboard:contact_list"), {"q": "kaya"})
    filtered = sales_client.get(reverse("dashboard:contact_list"))

    assert "More than 3 contacts" in searched.content.decode()
    assert "6 contacts" in filtered.content.decode()


@pytest.mark.parametrize("cap", [3, 100])
def test_search_pages_are_the_same_whether_matches_are_few_or_many(sales_user, monkeypatch, cap):
    from dashboard import contact_list

    monkeypatch.setattr(contact_list, "SEARCH_MATCH_CAP", cap)
    for index in range(PAGE_SIZE + 4):
        contact = ContactFactory(last_name=f"Kaya{index}", first_name=f"N{index % 3}")
        if index % 2:
            record_purchase(contact, days_ago=index % 7)
    ContactFactory(last_name="Other")

    walked = _walk({"q": "kaya", "sort": "recent"}, sales_user)

    expected = _sortable(_filtered({"q": "kaya"}, sales_user), SORTS["recent"][1]).order_by(
        *_order(SORTS["recent"][1]))
    assert walked == list(expected.values_list("pk", flat=True))
    assert len(walked) == PAGE_SIZE + 4
