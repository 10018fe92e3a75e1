"""Who gets in: tokens for integrations, sessions (with CSRF) for the browser, nobody else."""
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import SalesStaffFactory
from api import urls as api_urls
from api.tests.helpers import token_client
from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# Every API URL, walked from api.urls so a new endpoint is checked too; the docs page is a
# browser page behind the site login (test_schema).
ENDPOINTS = sorted("/api/" + re.sub(r"<(?:\w+:)?\w+>", "1", str(pattern.pattern))
                   for pattern in api_urls.urlpatterns if pattern.name != "docs")


def test_every_endpoint_is_walked():
    assert ENDPOINTS == ["/api/campaigns/", "/api/campaigns/1/", "/api/campaigns/1/runs/",
                         "/api/cases/", "/api/cases/1/", "/api/contacts/", "/api/contacts/1/",
                         "/api/contacts/1/score/", "/api/events/", "/api/purchases/",
                         "/api/purchases/refund/", "/api/schema/", "/api/surveys/"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_request_gets_401_not_a_login_redirect(anonymous_api, url):
    ContactFactory(id=1)  # so nothing could answer 404 before authentication
    response = anonymous_api.get(url)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_post_stores_nothing(anonymous_api):
    response = anonymous_api.post("/api/contacts/", {"email": "a@example.com"}, format="json")

    assert response.status_code == 401
    assert Contact.objects.count() == 0


def test_token_authenticates(sales_api):
    contact = ContactFactory(email="ann@example.com")

    response = sales_api.get(f"/api/contacts/{contact.pk}/")

    assert response.status_code == 200
    assert response.json()["email"] == "ann@example.com"


def test_unknown_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert client.get("/api/contacts/").status_code == 401


def test_token_of_inactive_user_is_refused():
    client = token_client(SalesStaffFactory(username="gone", is_active=False))

    assert client.get("/api/contacts/").status_code == 401


def test_session_reads_without_csrf_token(sales_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)

    assert client.get("/api/contacts/").status_code == 200


def test_session_write_without_csrf_token_is_refused(sales_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)

    response = client.post("/api/contacts/", {"email": "a@example.com"},
                           content_type="application/json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Contact.objects.count() == 0


def test_session_write_with_csrf_token_is_accepted(sales_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales_user)
    token = "k" * 32  # a well-formed CSRF secret, as the site's pages set in the cookie
    client.cookies["csrftoken"] = token

    response = client.post("/api/contacts/", {"email": "a@example.com"},
                           content_type="application/json", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 201
