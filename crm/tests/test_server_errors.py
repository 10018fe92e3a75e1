"""A database outage answers 503 "retry in a minute" on every page (HTML) and in the API (JSON);
a programming error is still a 500. (test_database_outage.py stops a real PostgreSQL.)"""
import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client
from django.utils import translation

from api.tests.helpers import token_client
from crm.errors import is_outage

pytestmark = pytest.mark.django_db

MESSAGE = "The CRM is temporarily unavailable. Please try again in a minute."


@pytest.fixture
def database_down(monkeypatch):
    """Every query from now on fails as it does when PostgreSQL is unreachable."""
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server failed: Connection refused")

    def go_down() -> None:
        monkeypatch.setattr(connection, "cursor", refuse)
    return go_down


@pytest.fixture
def signed_in(manager) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    return client


def _visitor() -> Client:
    """Anonymous, and shown the error page as a browser is (not the exception)."""
    return Client(raise_request_exception=False)


def _assert_unavailable_page(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert MESSAGE in response.content.decode()


@pytest.mark.parametrize("path", ["/contacts/", "/admin/", "/status/", "/login/", "/"])
def test_pages_of_a_signed_in_user_answer_503_while_the_database_is_down(
        signed_in, database_down, path):
    database_down()

    response = signed_in.get(path)

    _assert_unavailable_page(response)


def test_signing_in_while_the_database_is_down_answers_503(database_down):
    # The form itself needs no database (a page that cannot tell is not a health check:
    # balancers probe /healthz); sending it does.
    database_down()

    response = _visitor().post("/login/", {"username": "marta", "password": "wrong"})

    _assert_unavailable_page(response)


def test_the_page_keeps_to_the_content_security_policy(signed_in, database_down):
    database_down()

    response = signed_in.get("/contacts/")

    assert response.status_code == 503
    page = response.content.decode()
    assert "<script" not in page and "<style" not in page and " style=" not in page
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_page_is_in_the_language_the_browser_asks_for(database_down):
    database_down()

    response = _visitor().post("/login/", {"username": "marta", "password": "wrong"},
                               headers={"accept-language": "tr"})

    assert response.status_code == 503
    page = response.content.decode()
    assert '<html lang="tr">' in page
    with translation.override("tr"):
        assert translation.gettext(MESSAGE) in page


def test_the_api_answers_503_in_its_own_error_shape(manager, database_down):
    api = token_client(manager)
    api.raise_request_exception = False
    database_down()  # the token lookup is the first query

    response = api.get("/api/contacts/")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.json() == {"detail": MESSAGE}


def test_a_programming_error_is_still_a_500(signed_in, monkeypatch):
    def broken():
        raise ValueError("a bug")
    monkeypatch.setattr("crm.views.all_checks", broken)

    response = signed_in.get("/status/")

    assert response.status_code == 500
    assert not response.has_header("Retry-After")


def _raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:  # noqa: BLE001 - reported by the test
        return caught


def _raised_while_handling(outer: Exception, inner: Exception, *, hide: bool = False):
    try:
        try:
            raise inner
        except Exception as error:
            if hide:
                raise outer from None
            raise outer from error
    except Exception as caught:  # noqa: BLE001 - reported by the test
        return caught


def test_an_error_raised_from_a_database_error_counts_as_an_outage():
    assert is_outage(_raised(InterfaceError("connection already closed")))
    assert is_outage(_raised_while_handling(RuntimeError(), OperationalError()))
    assert not is_outage(_raised(ValueError()))
    # `raise ... from None`: the code said the database error does not matter.
    assert not is_outage(
        _raised_while_handling(RuntimeError(), OperationalError(), hide=True))


def test_a_redis_outage_counts_as_an_outage_too():
    """Sessions are cached in Redis and API throttles count there: a page that cannot reach it
    is as unavailable, and as temporarily, as one that cannot reach the database."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    assert is_outage(_raised(RedisConnectionError("Error 111 connecting to 127.0.0.1:6379")))
    assert is_outage(_raised(RedisTimeoutError("Timeout reading from socket")))


def test_a_page_whose_session_store_is_down_answers_503(signed_in, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def refuse(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    from django.contrib.sessions.backends.base import SessionBase

    monkeypatch.setattr(SessionBase, "_session", property(refuse))

    response = signed_in.get("/contacts/")

    _assert_unavailable_page(response)
