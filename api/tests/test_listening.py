"""Survey answers and support cases, read-only through the API."""
import pytest

from customers.tests.factories import ContactFactory
from feedback.models import SurveyResponse
from feedback.tests.factories import SurveyInviteFactory
from support.models import Case
from support.services import case_open

pytestmark = pytest.mark.django_db


def _answer(score: int, comment: str = "") -> SurveyResponse:
    invite = SurveyInviteFactory()
    return SurveyResponse.objects.create(invite=invite, contact=invite.contact, score=score,
                                         comment=comment)


def test_sales_staff_read_survey_answers_filtered_by_score(sales_api):
    _answer(9, "Great"), _answer(3, "Late delivery")
    everything = sales_api.get("/api/surveys/")
    assert everything.status_code == 200
    assert len(everything.json()["results"]) == 2
    unhappy = sales_api.get("/api/surveys/", {"max_score": 6})
    assert [row["comment"] for row in unhappy.json()["results"]] == ["Late delivery"]


@pytest.mark.parametrize("params", [{"max_score": 11}, {"min_score": "x"}, {"contact": 0}])
def test_bad_survey_filters_are_400(sales_api, params):
    response = sales_api.get("/api/surveys/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_cases_are_listed_open_or_solved(sales_api):
    contact = ContactFactory()
    open_case = case_open(contact=contact, subject="Broken zipper", channel="email")
    solved = case_open(contact=contact, subject="Invoice copy", channel="phone")
    Case.objects.filter(pk=solved.pk).update(status=Case.Status.SOLVED)
    subjects = lambda response: {row["subject"] for row in response.json()["results"]}  # noqa: E731 - a one-line reader, local to the test
    assert subjects(sales_api.get("/api/cases/")) == {"Broken zipper", "Invoice copy"}
    assert subjects(sales_api.get("/api/cases/", {"open": "true"})) == {"Broken zipper"}
    assert subjects(sales_api.get("/api/cases/", {"open": "false"})) == {"Invoice copy"}
    detail = sales_api.get(f"/api/cases/{open_case.pk}/")
    assert detail.json()["status"] == "new"


def test_cases_and_surveys_are_read_only(sales_api):
    assert sales_api.post("/api/cases/", {}, format="json").status_code == 405
    assert sales_api.post("/api/surveys/", {}, format="json").status_code == 405


def test_users_without_a_role_are_refused(no_role_api):
    assert no_role_api.get("/api/cases/").status_code == 403
    assert no_role_api.get("/api/surveys/").status_code == 403
