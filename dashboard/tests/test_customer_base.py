"""The managers' customer-base page (#18 point 6): cohort retention, RFM cells and predicted
12-month value, checked against hand-counted histories; computed by the KPI task once per
scoring run; the page reads the stored snapshot only."""
import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import ContactScore, Purchase, ScoringRun
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase
from dashboard.customer_base import (
    COHORT_MONTHS,
    customer_base_compute,
    customer_base_refresh,
    round_width,
)
from dashboard.models import CustomerBaseSnapshot
from dashboard.tasks import refresh_kpis_task

pytestmark = pytest.mark.django_db


def _noon(days_ago: int) -> float:
    """days_ago for record_purchase landing at noon shop time, `days_ago` days back."""
    when = timezone.localtime().replace(hour=12, minute=0, second=0) - dt.timedelta(days=days_ago)
    return (timezone.now() - when).total_seconds() / 86400


def _in_month(months_back: int, day: int) -> float:
    """days_ago for noon on `day` of the month `months_back` before the current one."""
    today = timezone.localdate()
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    return _noon((today - dt.date(year, month + 1, day)).days)


def _buy(name: str, *days_agos: float, amount: str = "10.00"):
    contact = ContactFactory(email=f"{name}@example.com")
    return contact, [record_purchase(contact, days_ago=days_ago, amount=amount)
                     for days_ago in days_agos]


def _month(months_back: int) -> str:
    today = timezone.localdate()
    year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
    return f"{year:04d}-{month + 1:02d}"


def test_cohort_grid_counts_each_buyer_once_per_month_since_the_first_purchase():
    _buy("a", _in_month(3, 10), _in_month(2, 10), 0)  # months 0, 1 and 3
    _buy("b", _in_month(3, 20), _in_month(3, 25), _in_month(1, 5))  # 0 (twice), 2
    _buy("c", _in_month(1, 3))  # month 0 only
    _buy("d", _in_month(14, 3), _in_month(2, 3))  # first purchase before the grid
    _e, (refunded,) = _buy("e", _in_month(3, 4))
    purchase_refund(purchase=refunded)  # counts nowhere

    cohorts = {row["month"]: row for row in customer_base_compute()["cohorts"]}

    assert len(cohorts) == COHORT_MONTHS
    assert list(cohorts)[-1] == _month(0)
    assert cohorts[_month(3)] == {"month": _month(3), "contacts": 2, "active": [2, 1, 1, 1]}
    assert cohorts[_month(1)] == {"month": _month(1), "contacts": 1, "active": [1, 0]}
    assert cohorts[_month(0)] == {"month": _month(0), "contacts": 0, "active": [0]}
    assert cohorts[_month(11)]["active"] == [0] * COHORT_MONTHS
    assert sum(row["contacts"] for row in cohorts.values()) == 3


def test_rfm_cells_count_contacts_now_and_who_bought_again_since_90_days_ago():
    _buy("p", _noon(200), _noon(100), _noon(10), amount="20.00")
    _buy("q", _noon(120))
    _buy("r", _noon(5))
    _buy("s", _noon(400), _noon(400) + 0.01)  # one purchase day
    _buy("t", _noon(95), _noon(40))
    ContactFactory(email="prospect@example.com")  # never bought: in no cell

    rfm = customer_base_compute()["rfm"]

    assert rfm["recency_edges"] == [30, 90, 180, 365] and rfm["frequency_edges"] == [1, 2, 4]
    cells = rfm["cells"]
    filled = {(r, f): cell for r, row in enumerate(cells) for f, cell in enumerate(row)
              if cell["contacts"] or cell["past_contacts"]}
    # Now: p (10 days, 3 purchase days), q (120, 1), r (5, 1), s (400, 1), t (40, 2).
    # 90 days ago: p (10 days then, 2), q (30, 1), s (310, 1), t (5, 1); r had not bought.
    # Bought since then: p and t.
    assert filled == {
        (0, 2): {"contacts": 1, "spend": 60.0, "past_contacts": 0, "bought_again": 0},
        (0, 1): {"contacts": 0, "spend": 0.0, "past_contacts": 1, "bought_again": 1},
        (0, 0): {"contacts": 1, "spend": 10.0, "past_contacts": 2, "bought_again": 1},
        (1, 1): {"contacts": 1, "spend": 20.0, "past_contacts": 0, "bought_again": 0},
        (2, 0): {"contacts": 1, "spend": 10.0, "past_contacts": 0, "bought_again": 0},
        (3, 0): {"contacts": 0, "spend": 0.0, "past_contacts": 1, "bought_again": 0},
        (4, 0): {"contacts": 1, "spend": 20.0, "past_contacts": 0, "bought_again": 0},
    }


def _published_run(values: list[float]) -> ScoringRun:
    run = ScoringRun.objects.create(
        trigger=ScoringRun.Trigger.COMMAND, status=ScoringRun.Status.SUCCEEDED, publish=True,
        as_of=timezone.localdate(), horizon_days=365, finished_at=timezone.now())
    ContactScore.objects.bulk_create(
        ContactScore(run=run, contact=ContactFactory(email=f"v{i}-{run.pk}@example.com"),
                     scored_at=timezone.now(), p_buy_again=0.5, p_alive=0.5,
                     expected_purchases=1, expected_value=10, predicted_value_12m=value,
                     frequency=1, recency_days=1, age_days=1)
        for i, value in enumerate(values))
    return run


def test_predicted_value_histogram_uses_round_buckets_of_the_current_run():
    run = _published_run([0, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100])

    value = customer_base_compute()["value"]

    # 99th percentile 98.8: ten buckets of 10, and one for 100 or more.
    assert value["run_id"] == run.pk and value["width"] == 10
    assert value["counts"] == [2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    assert value["contacts"] == 13 and value["total"] == 570 and value["median"] == 40


def test_round_widths():
    assert [round_width(x) for x in (0, 0.3, 1, 1.5, 2, 3, 9.9, 10, 23.9, 51, 4038)] == \
        [1, 1, 1, 2, 2, 5, 10, 10, 50, 100, 5000]


def test_without_a_scoring_run_there_is_no_value_distribution():
    _buy("a", _noon(3))
    assert customer_base_compute()["value"] is None


def test_the_kpi_task_stores_a_snapshot_once_per_scoring_run():
    _buy("a", _noon(3))

    refresh_kpis_task()
    refresh_kpis_task()  # same run (none yet), same day: nothing new
    assert CustomerBaseSnapshot.objects.count() == 1
    assert CustomerBaseSnapshot.objects.get().scoring_run_id is None

    run = _published_run([5.0])  # the nightly run published
    refresh_kpis_task()
    refresh_kpis_task()
    latest = CustomerBaseSnapshot.objects.first()
    assert CustomerBaseSnapshot.objects.count() == 2
    assert latest.scoring_run_id == run.pk and latest.data["value"]["contacts"] == 1


def _purchase_queries(queries) -> list[str]:
    table = Purchase._meta.db_table
    return [query["sql"] for query in queries if table in query["sql"]]


def test_managers_page_reads_the_snapshot_and_no_purchase(client, manager):
    _buy("a", _in_month(2, 10), _in_month(1, 10), amount="40.00")
    _buy("b", _in_month(2, 12))
    _published_run([0, 12, 35])
    customer_base_refresh()
    client.force_login(manager)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard:customer_base"))

    assert response.status_code == 200
    assert _purchase_queries(queries.captured_queries) == []
    html = response.content.decode()
    assert f'href="{reverse("dashboard:customer_base")}"' in html  # in the navigation
    cohort = dt.date.fromisoformat(_month(2) + "-01")
    assert f"{cohort:%B} {cohort.year}" in html
    assert "50%" in html  # one of the two came back the month after
    assert "<svg" in html and "3 scored contacts" in html
    # CSP: no inline style or script on the page.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert ' style="' not in html and "<style" not in html


def test_without_a_snapshot_the_page_says_so_and_computes_nothing(client, manager):
    # A test that ran the nightly job in another process (committed, so not rolled back) may
    # have left a snapshot in this worker's database: this test is about having none.
    CustomerBaseSnapshot.objects.all().delete()
    _buy("a", _noon(3))
    client.force_login(manager)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard:customer_base"))

    assert response.status_code == 200
    assert 'data-testid="no-snapshot"' in response.content.decode()
    assert _purchase_queries(queries.captured_queries) == []
    assert not CustomerBaseSnapshot.objects.exists()


def test_sales_staff_neither_see_the_link_nor_open_the_page(client, sales_user):
    customer_base_refresh()
    client.force_login(sales_user)

    assert client.get(reverse("dashboard:customer_base")).status_code == 403
    kpis = client.get(reverse("dashboard:kpis")).content.decode()
    assert reverse("dashboard:customer_base") not in kpis


def test_turkish_numbers_on_the_page(client, manager):
    _buy("a", _in_month(2, 10), _in_month(1, 10))
    _buy("b", _in_month(2, 12))
    customer_base_refresh()
    client.force_login(manager)

    html = client.get(reverse("dashboard:customer_base"),
                      HTTP_ACCEPT_LANGUAGE="tr").content.decode()

    assert "%50" in html and "50%" not in html
