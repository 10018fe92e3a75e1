"""Turkish letters in contact search: dotted/dotless i and typing without Turkish letters."""
import pytest
from django.db import connection
from django.urls import reverse

from customers.models import Contact
from customers.search import fold
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_fold_treats_every_i_alike_and_drops_turkish_marks():
    assert fold("İstanbul") == fold("istanbul") == fold("ISTANBUL") == fold("Istanbul") == "ISTANBUL"
    assert fold("Işık") == fold("ışık") == fold("IŞIK") == fold("isik") == "ISIK"
    assert fold("Şahin Çağlar Öztürk") == "SAHIN CAGLAR OZTURK"


@pytest.fixture
def people():
    return {
        "istanbul": ContactFactory(first_name="Ayşe", last_name="İstanbullu",
                                   email="ayse@example.com"),
        "isik": ContactFactory(first_name="Işık", last_name="Yılmaz", email="isik@example.com"),
        "sahin": ContactFactory(first_name="Mert", last_name="Şahin", email="mert@example.com"),
        "other": ContactFactory(first_name="John", last_name="Smith", email="john@example.com"),
    }


def _found(text: str) -> set[str]:
    return set(Contact.objects.search(text).values_list("email", flat=True))


@pytest.mark.parametrize("typed", ["istanbullu", "İSTANBULLU", "ISTANBULLU", "İstanbullu",
                                   "stanbul"])
def test_dotted_capital_i_is_found_however_it_is_typed(people, typed):
    assert _found(typed) == {"ayse@example.com"}


@pytest.mark.parametrize("typed", ["ışık", "IŞIK", "Isik", "isik", "yilmaz", "YILMAZ"])
def test_dotless_i_is_found_however_it_is_typed(people, typed):
    assert "isik@example.com" in _found(typed)
    assert "john@example.com" not in _found(typed)


@pytest.mark.parametrize("typed", ["şahin", "sahin", "ŞAHİN", "SAHIN"])
def test_names_are_found_without_turkish_letters(people, typed):
    assert _found(typed) == {"mert@example.com"}


def test_every_word_must_match(people):
    assert _found("ayşe istanbullu") == {"ayse@example.com"}
    assert _found("ayşe şahin") == set()


def test_like_wildcards_are_literal(people):
    assert _found("%") == set()
    assert _found("_") == set()


def test_dashboard_search_finds_turkish_names(sales_client, people):
    response = sales_client.get(reverse("dashboard:contact_list"), {"q": "ISTANBULLU"})
    assert "ayse@example.com" in response.content.decode()
    assert "john@example.com" not in response.content.decode()


def test_admin_search_finds_turkish_names(admin_client, people):
    response = admin_client.get(reverse("admin:customers_contact_changelist"), {"q": "sahin"})
    body = response.content.decode()
    assert "mert@example.com" in body
    assert "john@example.com" not in body


@pytest.mark.postgres
def test_postgres_uses_the_folded_trigram_index(people):
    query = Contact.objects.search("istanbullu").order_by().values("id")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "contact_last_name_fold_trgm" in plan


SURNAMES = ["Zorlu", "Çelik", "Cem", "Demir", "İnce", "Işık", "Ilgaz", "Öztürk", "Ozan",
            "Şahin", "Sarı", "avcı", "Uçar", "Ünal"]


def _by_name(client) -> list[str]:
    from dashboard.contact_list import PAGE_SIZE

    assert len(SURNAMES) < PAGE_SIZE
    response = client.get(reverse("dashboard:contact_list"), {"sort": "name"})
    return [contact.last_name for contact in response.context["contacts"]]


def test_turkish_readers_get_names_in_turkish_alphabetical_order(sales_client, sales_user):
    for surname in SURNAMES:
        ContactFactory(last_name=surname, first_name="A")
    sales_user.language = "tr"
    sales_user.save(update_fields=["language"])
    assert _by_name(sales_client) == ["avcı", "Cem", "Çelik", "Demir", "Ilgaz", "Işık", "İnce",
                                      "Ozan", "Öztürk", "Sarı", "Şahin", "Uçar", "Ünal", "Zorlu"]


def test_english_readers_get_letters_in_order_whatever_their_case(sales_client):
    for surname in ["Zorlu", "avcı", "Demir", "Çelik", "Baker"]:
        ContactFactory(last_name=surname, first_name="A")
    assert _by_name(sales_client) == ["avcı", "Baker", "Çelik", "Demir", "Zorlu"]


def test_turkish_name_order_pages_through_every_contact_once(sales_user):
    from django.utils import translation

    from dashboard.contact_list import PAGE_SIZE, contact_page

    for index in range(PAGE_SIZE + 5):
        ContactFactory(last_name=SURNAMES[index % len(SURNAMES)], first_name=f"N{index % 3}")
    seen, after = [], None
    with translation.override("tr"):
        while True:
            page = contact_page({"sort": "name", "after": after}, user=sales_user)
            seen += [contact.pk for contact in page.contacts]
            if page.next_after is None:
                break
            after = page.next_after
    assert sorted(seen) == sorted(Contact.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen))
