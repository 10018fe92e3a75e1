"""Numbers a salesperson can trust (issue #18, point 4): "Valuable clients who are slipping" ranked
by the value a call could win back, lost causes left out; "still active" unknown rather than
made up."""
import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import ContactScore, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db
TODAY = reverse("dashboard:today")


def _run() -> ScoringRun:
    return ScoringRun.objects.filter(status="succeeded").first() or ScoringRun.objects.create(
        trigger="command", as_of=timezone.localdate(), horizon_days=90, publish=True,
        status=ScoringRun.Status.SUCCEEDED, finished_at=timezone.now(), chosen_model="bgnbd")


def _repeat_client(name, *, spent, last_days_ago, owner, **score) -> ContactScore:
    contact = ContactFactory(first_name=name, owner=owner)
    for days_ago in (last_days_ago + 200, last_days_ago + 100, last_days_ago):
        record_purchase(contact, days_ago=days_ago, amount=f"{spent / 3:.2f}")
    values = {"p_buy_again": 0.05, "expected_purchases": 0.1, "expected_value": spent / 3,
              "predicted_value_12m": 50, "frequency": 2, "recency_days": 200,
              "age_days": 200 + last_days_ago, **score}
    return ContactScore.objects.create(run=_run(), contact=contact, scored_at=timezone.now(),
                                       **values)


def _slipping_section(html: str) -> str:
    return html[html.index('data-testid="call-slipping"'):]


def test_lost_causes_are_left_out_and_the_value_a_call_could_win_back_comes_first(
        client, sales_user):
    # the old list opened with the biggest spender, 1% still active, last seen 467 days ago
    _repeat_client("Gone", spent=90_000, last_days_ago=467, owner=sales_user,
                   p_alive=0.01, value_if_active_12m=30_000)
    # a big spender, but hardly slipping: little a call could win back (500 x 0.55 = 275)
    _repeat_client("Steady", spent=20_000, last_days_ago=40, owner=sales_user,
                   p_alive=0.45, value_if_active_12m=500)
    # a valuable client whose P(alive) just fell: 4,000 a year if they stay, 40% still active
    _repeat_client("Falling", spent=6_000, last_days_ago=150, owner=sales_user,
                   p_alive=0.40, value_if_active_12m=4_000)
    client.force_login(sales_user)

    section = _slipping_section(client.get(TODAY).content.decode())

    assert "Gone" not in section
    assert section.index("Falling") < section.index("Steady")
    # the card says why, in words
    assert "a call could win back" in section and "40% likely still active" in section
    assert "Clients below 10% still active are left out" in section


def test_the_lost_cause_threshold_is_a_setting(client, sales_user, settings):
    settings.CRM_SLIPPING_MIN_P_ALIVE = 0.005
    _repeat_client("Gone", spent=90_000, last_days_ago=467, owner=sales_user,
                   p_alive=0.01, value_if_active_12m=30_000)
    client.force_login(sales_user)

    section = _slipping_section(client.get(TODAY).content.decode())

    assert "Gone" in section and "Clients below 0.5% still active" not in section


def test_unknown_p_alive_keeps_a_client_off_the_slipping_list(client, sales_user):
    _repeat_client("Unknown", spent=9_000, last_days_ago=200, owner=sales_user,
                   p_alive=None, value_if_active_12m=None)
    client.force_login(sales_user)

    assert "Unknown" not in _slipping_section(client.get(TODAY).content.decode())


def test_rows_stored_before_value_if_active_existed_rank_by_value_over_p_alive(
        client, sales_user):
    # an older run's rows: value_if_active_12m NULL, both numbers from one model
    _repeat_client("Older", spent=1_000, last_days_ago=200, owner=sales_user,
                   p_alive=0.2, predicted_value_12m=40)
    client.force_login(sales_user)

    section = _slipping_section(client.get(TODAY).content.decode())

    assert "Older" in section and "a call could win back" in section


def test_the_contact_page_says_still_active_is_unknown_and_why(client, sales_user):
    score = _repeat_client("Unsure", spent=300, last_days_ago=200, owner=sales_user,
                           p_alive=None, value_if_active_12m=None)
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:contact_detail", args=[score.contact_id])).content.decode()

    assert 'data-testid="p-alive">unknown<' in html
    assert "could not be fitted in this run" in html
