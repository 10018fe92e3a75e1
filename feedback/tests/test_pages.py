"""The public survey page: no login, GET records nothing, POST records; bad and old links."""
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from feedback.models import SurveyResponse
from feedback.tests.factories import SurveyInviteFactory
from feedback.tokens import survey_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    """Anonymous, with CSRF checks enforced as a browser would meet them."""
    return Client(enforce_csrf_checks=True)


def url_for(invite, score: int) -> str:
    return reverse("feedback:answer", args=[survey_token(invite.pk, score)])


def test_get_shows_the_score_without_login_and_records_nothing(client):
    invite = SurveyInviteFactory()

    page = client.get(url_for(invite, 7), HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert "You chose 7 out of 10" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_link_scanner_fetching_every_link_records_nothing(client):
    invite = SurveyInviteFactory()

    for score in range(11):
        client.get(url_for(invite, score))

    assert not SurveyResponse.objects.exists()


def test_post_records_the_score_and_comment_without_login_or_csrf_cookie(client):
    invite = SurveyInviteFactory()

    page = client.post(url_for(invite, 9), {"comment": "Lovely"}, HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 200
    assert "Thank you for your answer!" in page.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.invite, response.score, response.comment, response.language) == (
        invite, 9, "Lovely", "en")


def test_another_score_later_updates_the_same_response(client):
    invite = SurveyInviteFactory()
    client.post(url_for(invite, 3), {"comment": ""})

    client.post(url_for(invite, 8), {"comment": "Sorted out"})

    assert list(SurveyResponse.objects.values_list("score", "comment")) == [(8, "Sorted out")]


def test_the_confirm_page_says_when_it_changes_an_earlier_answer(client):
    invite = SurveyInviteFactory()
    client.post(url_for(invite, 3), {"comment": ""})

    page = client.get(url_for(invite, 8), HTTP_ACCEPT_LANGUAGE="en")

    assert "You answered 3 before; sending changes it to 8." in page.content.decode()


def test_a_tampered_link_gets_a_clear_400_page(client):
    token = survey_token(SurveyInviteFactory().pk, 5)

    page = client.get(reverse("feedback:answer", args=["x" + token]), HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 400
    assert "This survey link is not valid" in page.content.decode()


def test_a_tampered_link_records_nothing_on_post(client):
    token = survey_token(SurveyInviteFactory().pk, 5)

    client.post(reverse("feedback:answer", args=[token[:-1] + ("A" if token[-1] != "A" else "B")]))

    assert not SurveyResponse.objects.exists()


def test_an_expired_link_says_the_survey_has_closed(client, settings):
    settings.CRM_SURVEY_LINK_MAX_AGE_DAYS = 60
    invite = SurveyInviteFactory()
    url = url_for(invite, 5)

    later = signing.time.time() + 61 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        page = client.post(url, {"comment": ""}, HTTP_ACCEPT_LANGUAGE="en")

    assert page.status_code == 410
    assert "This survey has closed" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_pages_speak_turkish_with_accept_language_tr(client):
    invite = SurveyInviteFactory()

    confirm = client.get(url_for(invite, 7), HTTP_ACCEPT_LANGUAGE="tr")
    thanks = client.post(url_for(invite, 7), {"comment": ""}, HTTP_ACCEPT_LANGUAGE="tr")

    assert "10 üzerinden 7 seçtiniz" in confirm.content.decode()
    assert "Yanıtınız için teşekkürler!" in thanks.content.decode()
    assert SurveyResponse.objects.get().language == "tr"


def test_the_closed_page_speaks_turkish(client):
    page = client.get(reverse("feedback:answer", args=["nonsense"]), HTTP_ACCEPT_LANGUAGE="tr")

    assert "Bu anket bağlantısı geçerli değil" in page.content.decode()
