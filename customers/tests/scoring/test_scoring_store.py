"""Loading purchase days and writing scores: the same numbers on SQLite and on PostgreSQL."""
import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from customers.models import ContactScore, ScoringRun
from customers.scoring.model.pipeline import ContactScores
from customers.scoring.store import day_index, day_rows, scores_write
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _today() -> dt.date:
    return timezone.localdate()


def test_each_live_purchase_is_a_row_with_its_day_and_refunds_do_not_count():
    contact = ContactFactory()
    record_purchase(contact, days_ago=10, amount="5.00", quantity=2)
    record_purchase(contact, days_ago=10, amount="7.50", quantity=1, code="WELCOME10")
    record_purchase(contact, days_ago=3, amount="20.00")
    purchase_refund(purchase=record_purchase(contact, days_ago=1, amount="99.00"))

    rows = day_rows(as_of=_today())

    order = np.lexsort((rows.spend, rows.days))
    ten_days_ago, three_days_ago = (
        day_index(timezone.localdate(timezone.now() - dt.timedelta(days=d))) for d in (10, 3))
    assert rows.contact_ids.tolist() == [contact.pk] * 3
    assert rows.days[order].tolist() == [ten_days_ago, ten_days_ago, three_days_ago]
    assert rows.spend[order].tolist() == [5.0, 7.5, 20.0]
    assert rows.items[order].tolist() == [2, 1, 1]
    assert rows.coupon[order].tolist() == [False, True, False]


def test_as_of_and_contact_ranges_select_rows():
    first, second, third = ContactFactory(), ContactFactory(), ContactFactory()
    for contact in (first, second, third):
        record_purchase(contact, days_ago=30)
        record_purchase(contact, days_ago=2)

    earlier = day_rows(as_of=_today() - dt.timedelta(days=10))
    middle = day_rows(as_of=_today(), contact_ids=(second.pk, third.pk))
    one = day_rows(as_of=_today(), contact_ids=[first.pk])

    assert sorted(earlier.contact_ids.tolist()) == sorted([first.pk, second.pk, third.pk])
    assert sorted(set(middle.contact_ids.tolist())) == [second.pk, third.pk]
    assert one.contact_ids.tolist() == [first.pk, first.pk]
    assert len(earlier.contact_ids) == 3


def test_no_purchases_give_empty_arrays():
    rows = day_rows(as_of=_today())

    assert len(rows.contact_ids) == len(rows.days) == len(rows.spend) == 0


def test_written_scores_read_back_exactly():
    contacts = [ContactFactory() for _ in range(3)]
    run = ScoringRun.objects.create(trigger="command", as_of=_today(), horizon_days=90)
    scores = ContactScores(
        contact_ids=np.array([c.pk for c in contacts]),
        p_buy_again=np.array([0.125, 0.5, 1.0]), p_alive=np.array([0.25, 0.75, 1.0]),
        expected_purchases=np.array([0.1, 1.5, 3.25]), expected_value=np.array([10.5, 0, 99.99]),
        predicted_value_12m=np.array([1.0, 0.0, 1234.5]), frequency=np.array([0.0, 2.0, 7.0]),
        recency_days=np.array([0.0, 30.0, 400.0]), age_days=np.array([5.0, 60.0, 420.0]),
    )
    at = timezone.now().replace(microsecond=123456)

    written = scores_write(run_id=run.pk, scores=scores, scored_at=at)

    stored = list(ContactScore.objects.filter(run=run).order_by("contact_id").values_list(
        "contact_id", "p_buy_again", "p_alive", "expected_purchases", "expected_value",
        "predicted_value_12m", "frequency", "recency_days", "age_days", "scored_at"))
    assert written == 3
    assert stored == [
        (contacts[0].pk, 0.125, 0.25, 0.1, 10.5, 1.0, 0, 0, 5, at),
        (contacts[1].pk, 0.5, 0.75, 1.5, 0.0, 0.0, 2, 30, 60, at),
        (contacts[2].pk, 1.0, 1.0, 3.25, 99.99, 1234.5, 7, 400, 420, at),
    ]


@pytest.mark.postgres
def test_postgres_binary_copy_matches_the_plain_query():
    """The COPY path (PostgreSQL) against the same SQL read row by row."""
    from django.db import connection

    for index in range(5):
        contact = ContactFactory()
        for days_ago in range(index + 1):
            record_purchase(contact, days_ago=days_ago * 7, amount=f"{index + 1}.25",
                            quantity=index + 1)

    rows = day_rows(as_of=_today())
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_id, purchased_on - DATE '1970-01-01', amount_base, "
                       "quantity FROM customers_purchase ORDER BY 1, 2, 3")
        expected = [(c, d, float(s), q) for c, d, s, q in cursor.fetchall()]

    order = np.lexsort((rows.spend, rows.days, rows.contact_ids))
    got = list(zip(rows.contact_ids[order].tolist(), rows.days[order].tolist(),
                   rows.spend[order].tolist(), rows.items[order].tolist()))
    assert got == expected
