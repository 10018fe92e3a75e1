"""The connectors' HTTP client against a local fake API: the platforms' documented faults."""
import pytest

from shops.http import ShopHTTP
from shops.platforms.base import ConnectorError, line_money
from crm.tests.fake_http import FakeAnswer, FakeHTTPAPI


class EchoAPI(FakeHTTPAPI):
    def handle(self, request):
        if request.path == "/text":
            return FakeAnswer(200, b"<html>maintenance</html>")
        if request.path == "/missing":
            return FakeAnswer(404, {"message": "no such order"})
        return FakeAnswer(200, {"path": request.path, "page": request.param("page")})


@pytest.fixture
def api():
    with EchoAPI() as fake:
        yield fake


def client(**options):
    waits = []
    http = ShopHTTP(sleep=waits.append, timeout=options.pop("timeout", 5), **options)
    http.waits = waits
    return http


def test_json_and_headers_come_back(api):
    body, headers = client().get_json(f"{api.base_url}/orders", params={"page": 2})
    assert body == {"path": "/orders", "page": "2"}
    assert headers["Content-Type"].startswith("application/json")


def test_429_waits_what_retry_after_says_then_succeeds(api):
    api.fail_next(429, times=2, retry_after=7)
    http = client()
    body, _headers = http.get_json(f"{api.base_url}/orders")
    assert body["path"] == "/orders"
    assert http.waits == [7.0, 7.0]
    assert len(api.requests) == 3


def test_429_beyond_the_retries_says_how_long_to_wait(api):
    api.fail_next(429, times=5, retry_after=120)
    http = client(retries=2)
    with pytest.raises(ConnectorError) as caught:
        http.get_json(f"{api.base_url}/orders")
    assert caught.value.kind == ConnectorError.RATE_LIMITED
    assert caught.value.retry_after == 120
    assert http.waits == [30.0, 30.0]  # capped at max_wait


def test_5xx_is_retried_with_backoff(api):
    api.fail_next(503, times=2)
    http = client()
    http.get_json(f"{api.base_url}/orders")
    assert http.waits == [1.0, 2.0]


def test_5xx_that_does_not_heal_is_unavailable(api):
    api.fail_next(500, times=9)
    with pytest.raises(ConnectorError) as caught:
        client(retries=1).get_json(f"{api.base_url}/orders")
    assert caught.value.kind == ConnectorError.UNAVAILABLE


def test_expired_credentials_are_not_retried(api):
    api.expire_credentials()
    http = client()
    with pytest.raises(ConnectorError) as caught:
        http.get_json(f"{api.base_url}/orders")
    assert caught.value.kind == ConnectorError.AUTH
    assert len(api.requests) == 1


def test_a_slow_answer_times_out_and_is_retried(api):
    api.slow_next(1.5)
    http = client(timeout=0.5)
    body, _headers = http.get_json(f"{api.base_url}/orders")
    assert body["path"] == "/orders"
    assert http.waits == [1.0]


def test_an_answer_that_is_not_json_is_a_bad_answer(api):
    with pytest.raises(ConnectorError) as caught:
        client().get_json(f"{api.base_url}/text")
    assert caught.value.kind == ConnectorError.BAD_ANSWER
    assert "maintenance" in caught.value.message


def test_a_404_is_a_bad_answer_at_once(api):
    with pytest.raises(ConnectorError) as caught:
        client().get_json(f"{api.base_url}/missing")
    assert caught.value.status == 404
    assert len(api.requests) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/orders", "http://169.254.169.254/latest",
                                 "http://10.0.0.5/wp-json", "file:///etc/passwd"])
def test_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(ConnectorError) as caught:
        ShopHTTP(allow_private=False).get_json(url)
    assert caught.value.kind == ConnectorError.BLOCKED


@pytest.mark.parametrize(("quantity", "before", "after", "currency", "expected"), [
    ("3", "30.00", "27.00", "TRY", ("10.00", "3.00")),
    ("3", "10.00", "10.00", "TRY", ("3.34", "0.02")),  # 3.33 x 3 < 10: rounded up, discount
    ("1", "118.00", "100.30", "EUR", ("118.00", "17.70")),
    ("2", "1000", "1000", "JPY", ("500", "0")),
])
def test_line_money_adds_up_to_what_the_buyer_paid(quantity, before, after, currency,
                                                  expected):
    from decimal import Decimal

    unit, discount = line_money(quantity=Decimal(quantity), before_discount=Decimal(before),
                                after_discount=Decimal(after), currency=currency)
    assert (unit, discount) == (Decimal(expected[0]), Decimal(expected[1]))
    assert unit * Decimal(quantity) - discount == Decimal(after)
