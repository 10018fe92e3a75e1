"""Every door shows the same "still active" (issue #18, point 4): the stored score, the contact
page, the API, export_contacts; unknown is NULL everywhere, never 0 or 100%."""
import csv
import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from api.tests.helpers import publish_score
from crm.numbers import percent
from customers.models import Contact, ContactScore, ScoringRun
from customers.scoring.model.pipeline import ContactScores
from customers.scoring.runs import contact_scores_refresh
from customers.scoring.store import scores_write
from customers.tests.factories import ContactFactory, record_purchase
from customers.tests.scoring_data import load_cdnow_sample

pytestmark = pytest.mark.django_db


def _export() -> dict[str, dict[str, str]]:
    out = io.StringIO()
    call_command("export_contacts", "-", stdout=out)
    rows = csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff")))
    return {row["email"]: row for row in rows}


def _scores(contacts, p_alive, value) -> ContactScores:
    n = len(contacts)
    return ContactScores(
        contact_ids=np.array([c.pk for c in contacts]), p_buy_again=np.full(n, 0.25),
        p_alive=np.array(p_alive, dtype=float), expected_purchases=np.full(n, 0.5),
        expected_value=np.full(n, 20.0), predicted_value_12m=np.full(n, 30.0),
        frequency=np.zeros(n), recency_days=np.zeros(n), age_days=np.full(n, 100.0),
        value_if_active_12m=np.array(value, dtype=float))


def _unknown_stored_as_null():
    contacts = [ContactFactory() for _ in range(4)]
    run = ScoringRun.objects.create(trigger="command", as_of=timezone.localdate(), horizon_days=90)
    scores = _scores(contacts, [0.5, np.nan, 0.25, np.nan], [100.0, np.nan, np.nan, 7.5])

    assert scores_write(run_id=run.pk, scores=scores, scored_at=timezone.now()) == 4

    stored = list(ContactScore.objects.filter(run=run).order_by("contact_id").values_list(
        "p_alive", "value_if_active_12m", "p_buy_again", "age_days"))
    assert stored == [(0.5, 100.0, 0.25, 100), (None, None, 0.25, 100),
                      (0.25, None, 0.25, 100), (None, 7.5, 0.25, 100)]


def test_unknown_is_stored_as_null():
    _unknown_stored_as_null()


@pytest.mark.postgres
def test_unknown_is_stored_as_null_through_postgres_binary_copy():
    _unknown_stored_as_null()


def test_the_api_says_null_for_unknown(sales_api):
    contact = ContactFactory()
    publish_score(contact, p_alive=None)

    body = sales_api.get(f"/api/contacts/{contact.pk}/score/").json()

    assert body["p_alive"] is None and body["p_buy_again"] == 0.42


def test_the_admin_says_unknown(admin_client):
    contact = ContactFactory()
    record_purchase(contact, days_ago=30)
    publish_score(contact, p_alive=None)

    html = admin_client.get(reverse("admin:customers_contact_change", args=[contact.pk]))

    assert "42% likely to buy again, Still an active customer: unknown" in html.content.decode()


def test_export_leaves_unknown_blank():
    contact = ContactFactory(email="unsure@example.com")
    record_purchase(contact, days_ago=30)
    publish_score(contact, p_alive=None)

    assert _export()["unsure@example.com"]["p_alive"] == ""


def test_every_door_shows_the_same_still_active_and_a_purchase_makes_it_100(client, sales_user,
                                                                            sales_api,
                                                                            admin_client):
    load_cdnow_sample(last_day=timezone.localdate() - dt.timedelta(days=1))
    call_command("score_contacts", stdout=io.StringIO())
    # the longest-silent one-time buyer: BG/NBD would say 100% still active
    score = (ContactScore.objects.filter(frequency=0).select_related("contact")
             .order_by("-age_days", "contact_id").first())
    contact = score.contact
    assert score.age_days > 450 and score.p_buy_again < 0.05
    assert score.p_buy_again <= score.p_alive < 0.5
    assert ContactScore.objects.filter(p_alive__lt=1).count() > 1500  # not pinned at 100%

    client.force_login(sales_user)
    page = client.get(reverse("dashboard:contact_detail", args=[contact.pk])).content.decode()
    api = sales_api.get(f"/api/contacts/{contact.pk}/score/").json()
    exported = _export()[contact.email]
    admin = admin_client.get(reverse("admin:customers_contact_change", args=[contact.pk]))

    assert f'data-testid="p-alive">{percent(score.p_alive)}<' in page
    assert api["p_alive"] == score.p_alive
    assert float(exported["p_alive"]) == pytest.approx(score.p_alive, abs=1e-6)
    assert f"{percent(score.p_alive)} likely still active" in admin.content.decode()

    # a second purchase today: re-scored from the same models, now surely still active
    record_purchase(Contact.objects.get(pk=contact.pk), days_ago=0, amount="30.00")
    after = contact_scores_refresh(contact.pk)

    assert after.p_alive == 1.0 and after.p_buy_again > score.p_buy_again
    assert sales_api.get(f"/api/contacts/{contact.pk}/score/").json()["p_alive"] == 1.0
