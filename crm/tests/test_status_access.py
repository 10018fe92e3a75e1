"""/status/ is for managers: others get a clear refusal, never a redirect back to the login."""
import pytest

pytestmark = pytest.mark.django_db


def test_signed_in_sales_staff_get_403_not_a_redirect_loop(sales_client):
    response = sales_client.get("/status/")

    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_once(client):
    response = client.get("/status/")

    assert (response.status_code, response["Location"]) == (302, "/login/?next=/status/")
