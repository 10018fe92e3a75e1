"""The sales home page: who to call today, and why."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory
from customers.followups import follow_up_add
from customers.models import ContactScore, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db
TODAY = reverse("dashboard:today")


def _scored(contact, *, p_buy: float, p_alive: float, frequency: int = 0) -> ContactScore:
    run = ScoringRun.objects.filter(status="succeeded").first() or ScoringRun.objects.create(
        trigger="command", as_of=timezone.localdate(), horizon_days=90,
        status=ScoringRun.Status.SUCCEEDED, finished_at=timezone.now())
    return ContactScore.objects.create(
        run=run, contact=contact, scored_at=timezone.now(), p_buy_again=p_buy, p_alive=p_alive,
        expected_purchases=p_buy, expected_value=20, predicted_value_12m=40,
        frequency=frequency, recency_days=frequency * 30, age_days=60 + frequency * 30)


def test_home_is_the_call_list(client, sales_user):
    client.force_login(sales_user)

    response = client.get("/", follow=True)

    assert response.redirect_chain[-1][0] == TODAY


def test_the_call_list_ranks_nudgeable_one_time_buyers_and_slipping_clients(client, sales_user):
    likely = ContactFactory(first_name="Likely", owner=sales_user)
    sure = ContactFactory(first_name="Sure", owner=sales_user)
    unlikely = ContactFactory(first_name="Unlikely", owner=sales_user)
    slipping = ContactFactory(first_name="Slipping", owner=sales_user)
    for contact in (likely, sure, unlikely):
        record_purchase(contact, days_ago=20)
    for days_ago in (300, 200, 150):
        record_purchase(slipping, days_ago=days_ago, amount="500.00")
    _scored(likely, p_buy=0.62, p_alive=1.0)
    _scored(sure, p_buy=0.95, p_alive=1.0)
    _scored(unlikely, p_buy=0.03, p_alive=1.0)
    _scored(slipping, p_buy=0.1, p_alive=0.2, frequency=2)
    client.force_login(sales_user)

    html = client.get(TODAY).content.decode()

    convert = html[html.index('data-testid="call-convert"'):html.index('data-testid="call-slipping"')]
    assert "Likely" in convert and "62% likely to buy again" in convert
    assert "Sure" not in convert and "Unlikely" not in convert
    assert "Slipping" in html[html.index('data-testid="call-slipping"'):]


def test_a_card_names_the_first_orders_real_value(client, sales_user):
    buyer = ContactFactory(first_name="Ayla", owner=sales_user)
    record_purchase(buyer, days_ago=60, amount="40.00")
    _scored(buyer, p_buy=0.45, p_alive=1.0)
    client.force_login(sales_user)

    html = client.get(TODAY).content.decode()

    card = html[html.index('data-testid="call-convert"'):html.index('data-testid="call-slipping"')]
    assert "first order worth $40.00" in card and "$0.00" not in card


def test_my_contacts_is_the_default_for_sales_staff(client, sales_user):
    colleague = SalesStaffFactory(username="colleague")
    theirs = ContactFactory(first_name="Theirs", owner=colleague)
    record_purchase(theirs, days_ago=20)
    _scored(theirs, p_buy=0.5, p_alive=1.0)
    client.force_login(sales_user)

    assert "Theirs" not in client.get(TODAY).content.decode()
    assert "Theirs" in client.get(TODAY + "?mine=0").content.decode()


def test_due_follow_ups_are_listed_for_their_owner(client, sales_user):
    contact = ContactFactory(first_name="Callback")
    follow_up_add(contact=contact, assigned_to=sales_user, title="Call about the order",
                  due_on=timezone.localdate() - dt.timedelta(days=1))
    follow_up_add(contact=contact, assigned_to=sales_user, title="Next month",
                  due_on=timezone.localdate() + dt.timedelta(days=30))
    client.force_login(sales_user)

    html = client.get(TODAY).content.decode()

    assert "Call about the order" in html and "Next month" not in html


def test_the_call_list_has_a_fixed_number_of_queries(client, sales_user,
                                                     django_assert_max_num_queries):
    for index in range(15):
        contact = ContactFactory(owner=sales_user)
        record_purchase(contact, days_ago=20)
        _scored(contact, p_buy=0.3 + index / 100, p_alive=1.0)
    client.force_login(sales_user)

    with django_assert_max_num_queries(13):  # 12, and the nav bar's count of follow-ups due
        assert client.get(TODAY).status_code == 200


def test_anonymous_users_go_to_login(client):
    response = client.get(TODAY)

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_survey_answers_and_open_cases_show_beside_the_scores(client, sales_user):
    from feedback.models import SurveyResponse
    from feedback.tests.factories import SurveyInviteFactory
    from support.services import case_open

    contact = ContactFactory(first_name="Listened", owner=sales_user)
    record_purchase(contact, days_ago=20)
    _scored(contact, p_buy=0.5, p_alive=1.0)
    SurveyResponse.objects.create(invite=SurveyInviteFactory(contact=contact), contact=contact,
                                  score=4)
    case_open(contact=contact, subject="Late parcel", channel="phone")
    client.force_login(sales_user)

    html = client.get(TODAY).content.decode()

    assert "survey 4/10" in html and "1 open case" in html
