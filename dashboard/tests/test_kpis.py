"""Dashboard KPIs: figures checked against a hand-made history, charts rendered from them."""
import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.kpis import kpis_compute, kpis_refresh
from dashboard.models import KpiSnapshot
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _month(days_ago: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days_ago)).strftime("%Y-%m")


@pytest.fixture
def history():
    """(contact, days ago, amount) purchases, noon shop time so days are unambiguous."""
    plan = {"a": [(100, "10.00"), (95, "20.00")], "b": [(120, "5.00")],
            "c": [(10, "7.00")], "d": [(200, "1.00"), (200, "2.00"), (30, "4.00")]}
    for name, purchases in plan.items():
        contact = ContactFactory(email=f"{name}@example.com")
        for days_ago, amount in purchases:
            when = timezone.localtime().replace(hour=12, minute=0) - dt.timedelta(days=days_ago)
            record_purchase(contact, days_ago=(timezone.now() - when).total_seconds() / 86400,
                            amount=amount)
    return plan


def test_monthly_revenue_buyers_and_cohorts_match_the_history(history):
    refunded = ContactFactory(email="refund@example.com")
    purchase_refund(purchase=record_purchase(refunded, days_ago=5, amount="999.00"))

    data = kpis_compute()

    index = {month: i for i, month in enumerate(data["months"])}
    first, repeat = defaultdict(float), defaultdict(float)
    first[_month(100)] += 10
    repeat[_month(95)] += 20
    first[_month(120)] += 5
    first[_month(10)] += 7
    first[_month(200)] += 3  # two purchases on one day: one first-order day
    repeat[_month(30)] += 4
    for month, i in index.items():
        assert data["revenue_first"][i] == pytest.approx(first[month])
        assert data["revenue_repeat"][i] == pytest.approx(repeat[month])
    new = Counter([_month(100), _month(120), _month(10), _month(200)])
    for month, i in index.items():
        assert data["new_buyers"][i] == new[month]
    # a came back within 90 days (5 days later); d only after 170 days; b never.
    assert data["converted_90"][index[_month(100)]] == 1
    assert data["converted_ever"][index[_month(200)]] == 1
    assert data["converted_90"][index[_month(200)]] == 0
    assert data["cohort_complete"][index[_month(10)]] is False
    assert data["stages"] == {"one_time": 2, "repeat": 2, "prospect": 1}


def test_returning_buyers_are_those_who_had_bought_before(history):
    data = kpis_compute()

    index = {month: i for i, month in enumerate(data["months"])}
    returning, buyers = Counter(), Counter()
    for month in {_month(100), _month(95)}:
        buyers[month] += 1
    returning[_month(95)] += 1  # a, if its two days fall in different months it still counts
    buyers[_month(120)] += 1
    buyers[_month(10)] += 1
    for month in {_month(200), _month(30)}:
        buyers[month] += 1
    returning[_month(30)] += 1
    for month, i in index.items():
        assert data["buyers"][i] == buyers[month]
        assert data["returning_buyers"][i] == returning[month]


def test_an_empty_shop_has_zero_figures_not_errors():
    data = kpis_compute()

    assert sum(data["revenue_first"]) == 0 and sum(data["new_buyers"]) == 0
    assert data["p_buy_histogram"] == [0] * 10


def test_the_kpi_page_draws_every_chart_from_the_latest_snapshot(client, sales_user, history):
    kpis_refresh()
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:kpis") + "?months=24").content.decode()

    for key in ("stages", "revenue", "repeat_rate", "cohorts", "likelihood"):
        assert f'data-testid="chart-{key}"' in html
    assert html.count("<svg") >= 5
    assert KpiSnapshot.objects.count() == 1


def test_the_kpi_page_reads_one_snapshot_and_scans_no_purchases(
        client, sales_user, history, django_assert_max_num_queries):
    kpis_refresh()
    client.force_login(sales_user)

    # one snapshot, plus the survey summary and latest comments (small tables, read live)
    with django_assert_max_num_queries(12) as captured:
        client.get(reverse("dashboard:kpis"))

    assert not any("customers_purchase" in query["sql"] for query in captured.captured_queries)


def test_only_the_last_snapshots_are_kept():
    for _ in range(7):
        kpis_refresh()

    assert KpiSnapshot.objects.count() == 5


def test_nps_by_month_is_charted_when_customers_have_answered(client, sales_user):
    from feedback.models import SurveyResponse
    from feedback.tests.factories import SurveyInviteFactory

    for score in (10, 9, 9, 3):  # 3 promoters, 1 detractor of 4: NPS 50
        invite = SurveyInviteFactory()
        SurveyResponse.objects.create(invite=invite, contact=invite.contact, score=score)

    data = kpis_compute()
    kpis_refresh()
    client.force_login(sales_user)
    html = client.get(reverse("dashboard:kpis")).content.decode()

    assert data["nps"][-1] == 50
    assert 'data-testid="chart-nps"' in html


def test_score_bands_relate_listening_to_buying(client, sales_user):
    from django.utils import timezone as tz

    from customers.models import ContactScore, ScoringRun
    from feedback.models import SurveyResponse
    from feedback.tests.factories import SurveyInviteFactory
    from support.services import case_open

    run = ScoringRun.objects.create(trigger="command", as_of=tz.localdate(), horizon_days=90,
                                    status="succeeded", finished_at=tz.now())
    likely, unlikely = ContactFactory(), ContactFactory()
    for days_ago in (40, 20):
        record_purchase(likely, days_ago=days_ago)
    record_purchase(unlikely, days_ago=300)
    for contact, p in ((likely, 0.9), (unlikely, 0.05)):
        ContactScore.objects.create(run=run, contact=contact, scored_at=tz.now(), p_buy_again=p,
                                    p_alive=p, expected_purchases=0, expected_value=0,
                                    predicted_value_12m=0, frequency=0, recency_days=0,
                                    age_days=0)
    SurveyResponse.objects.create(invite=SurveyInviteFactory(contact=likely), contact=likely,
                                  score=10)
    case_open(contact=unlikely, subject="Refund?", channel="phone")

    bands = kpis_compute()["bands"]

    assert bands[4] == {"contacts": 1, "repeat": 1, "open_cases": 0, "answered": 1,
                        "promoters": 1, "detractors": 0}
    assert bands[0] == {"contacts": 1, "repeat": 0, "open_cases": 1, "answered": 0,
                        "promoters": 0, "detractors": 0}
    kpis_refresh()
    client.force_login(sales_user)
    assert 'data-testid="chart-bands"' in client.get(reverse("dashboard:kpis")).content.decode()


def test_the_kpi_page_shows_nps_response_rate_and_latest_comments(client, sales_user):
    from feedback.models import SurveyResponse
    from feedback.tests.factories import SurveyInviteFactory

    for score, comment in ((10, "Lovely service"), (2, "Parcel was late")):
        invite = SurveyInviteFactory()
        SurveyResponse.objects.create(invite=invite, contact=invite.contact, score=score,
                                      comment=comment)
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:kpis")).content.decode()

    summary = html[html.index('data-testid="nps-summary"'):]
    assert "NPS 0" in summary and "Parcel was late" in summary and "Lovely service" in summary


def test_kpi_charts_speak_turkish_numbers_money_and_percentages(settings):
    from django.utils import translation

    from dashboard.kpi_charts import kpi_charts

    settings.CRM_BASE_CURRENCY = "TRY"
    data = {"months": ["2026-10", "2026-11"], "revenue_first": [1234.5, 0],
            "revenue_repeat": [250000, 10], "returning_buyers": [1, 3], "buyers": [40, 8],
            "new_buyers": [1200, 10], "converted_90": [36, 1], "cohort_complete": [True, False],
            "p_buy_histogram": [5] * 10, "stages": {}}
    with translation.override("tr"):
        charts = {chart.key: chart for chart in kpi_charts(data, months=12)}

    assert charts["revenue"].table[0] == ("Eki 2026", "₺1.234 / ₺250.000")  # October
    assert "₺250.000" in charts["revenue"].svg
    assert charts["repeat_rate"].table[1] == ("Kas 2026", "%38")  # 3 of 8
    assert charts["cohorts"].table[0] == ("Eki 2026", "%3 (1.200)")
    assert ">Kas 2026<" in charts["revenue"].svg and "2026-11" not in charts["revenue"].svg
    assert charts["likelihood"].table[2][0] == "%20–30"
    assert not any("%<" in chart.svg or "0%" in chart.svg for chart in charts.values())
