"""Every sort of the contact list pages by keyset (no OFFSET), and on PostgreSQL each page's
query can be read from an index in order (no sort of the whole table): #19 "Speed", p95 under
50 ms on the first page and deep in the list at 1M contacts (bench/bench_dashboard.py)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from dashboard.contact_list import PAGE_SIZE, SORTS, contact_page
from customers.models import ContactScore, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts():
    """Three pages' worth: buyers and prospects (NULL last purchase), scored and unscored."""
    run = ScoringRun.objects.create(trigger="command", as_of=timezone.localdate(),
                                    horizon_days=90, status="succeeded",
                                    finished_at=timezone.now())
    made = []
    for index in range(PAGE_SIZE * 3):
        contact = ContactFactory(last_name=["Kaya", "Demir", "Ak"][index % 3],
                                 first_name=f"N{index % 5}")
        if index % 4:
            record_purchase(contact, days_ago=index % 9, amount=f"{index % 6}.00")
        if index % 3:
            ContactScore.objects.create(
                run=run, contact=contact, scored_at=timezone.now(),
                p_buy_again=(index % 7) / 10, p_alive=1, expected_purchases=0,
                expected_value=0, predicted_value_12m=0, frequency=0, recency_days=0,
                age_days=0)
        made.append(contact)
    return made


def _page_queries(values: dict, user) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        page = contact_page(values, user=user)
    assert len(page.contacts) == PAGE_SIZE
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_sort_pages_by_keyset_not_offset(sort, contacts, sales_user):
    first = contact_page({"sort": sort}, user=sales_user)

    second = _page_queries({"sort": sort, "after": first.next_after}, sales_user)

    assert not any("OFFSET" in sql.upper() for sql in second)
    # The rows after the cursor as one row comparison of the cursor's keys and id, which an
    # index on them starts from (not "a < x OR (a = x AND id < y)" tested row by row).
    listing = [sql for sql in second if f"LIMIT {PAGE_SIZE + 1}" in sql]
    assert len(listing) == 1
    assert ") <= (" in listing[0] or ") >= (" in listing[0]
    assert " OR " not in listing[0]


@pytest.mark.postgres
@pytest.mark.parametrize("language", ["en", "tr"])
@pytest.mark.parametrize("sort", list(SORTS))
def test_every_sort_reads_an_index_in_order_on_postgres(sort, language, contacts, sales_user):
    """With sorting priced out, PostgreSQL still sorts if no index gives the page's order (the
    planner's last resort): so no Sort node means an index serves it, first page and deep."""
    with translation.override(language):
        first = contact_page({"sort": sort}, user=sales_user)
        middle = contact_page({"sort": sort, "after": first.next_after}, user=sales_user)
        pages = [_page_queries({"sort": sort}, sales_user),
                 _page_queries({"sort": sort, "after": middle.next_after}, sales_user)]
    for queries in pages:
        for sql in queries:
            if "customers_contact" not in sql or "ORDER BY" not in sql or "LIMIT 1" in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort = off")
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Sort" not in plan, f"{sort} ({language}) sorts:\n{sql}\n{plan}"
