"""GET /api/contacts/<id>/score/: the published run's scores, or a clear 404."""
import pytest

from api.tests.helpers import publish_score
from customers.models import ScoringRun
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_current_scores(sales_api):
    contact = ContactFactory()
    score = publish_score(contact, p_buy_again=0.42)

    response = sales_api.get(f"/api/contacts/{contact.pk}/score/")

    assert response.status_code == 200
    body = response.json()
    assert body["contact"] == contact.pk
    assert body["p_buy_again"] == 0.42
    assert (body["p_alive"], body["expected_purchases"]) == (0.8, 1.5)
    assert (body["expected_value"], body["predicted_value_12m"]) == (30.0, 120.0)
    assert (body["model"], body["run"], body["horizon_days"]) == ("bgnbd", score.run_id, 90)
    assert body["scored_at"].startswith(score.scored_at.strftime("%Y-%m-%dT%H:%M"))


def test_scores_of_an_older_run_are_not_current(sales_api):
    contact = ContactFactory()
    publish_score(contact)
    publish_score(ContactFactory())  # a newer run that did not score this contact

    response = sales_api.get(f"/api/contacts/{contact.pk}/score/")

    assert response.status_code == 404


def test_not_scored_is_a_404_that_says_so(sales_api):
    contact = ContactFactory()

    response = sales_api.get(f"/api/contacts/{contact.pk}/score/")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("This contact has no score yet")


def test_scores_of_a_failed_run_are_not_shown(sales_api):
    contact = ContactFactory()
    score = publish_score(contact)
    ScoringRun.objects.filter(pk=score.run_id).update(status=ScoringRun.Status.FAILED)

    assert sales_api.get(f"/api/contacts/{contact.pk}/score/").status_code == 404


def test_unknown_contact_is_a_404_that_says_so(sales_api):
    response = sales_api.get("/api/contacts/999/score/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No contact with this id."}
