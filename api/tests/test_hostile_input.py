"""Hostile input on every endpoint: a 400 (or a 404 for an id no row can have) with a JSON body
of the documented shape, never a 500, never a guess, and nothing stored.

Run on PostgreSQL too (DATABASE_URL): it refuses NUL characters in text and jsonb, and its
bigint columns end at 2**63 - 1, where SQLite is lenient.
"""
import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from activity.models import WebsiteEvent
from campaigns.models import CampaignRun
from campaigns.tests.factories import CampaignFactory
from customers.models import Contact, Purchase
from customers.services.purchases import purchase_record
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

RECENT = (timezone.now() - dt.timedelta(hours=2)).isoformat()
BEYOND_64_BITS = 2**63


@pytest.fixture
def world(sales_user):
    """Contact 1 (so a guessed id would land somewhere), a purchase, a campaign."""
    contact = ContactFactory(pk=1, email="one@example.com", first_name="One")
    with connection.cursor() as cursor:  # PostgreSQL: the next contact is not id 1 again
        for sql in connection.ops.sequence_reset_sql(no_style(), [Contact]):
            cursor.execute(sql)
    purchase_record(contact=contact, purchased_at=timezone.now() - dt.timedelta(days=2),
                    amount=Decimal("80.00"), currency="USD", source="shop", external_id="A-1")
    return {"contact": contact, "campaign": CampaignFactory(name="Hostile")}


def _stored() -> tuple:
    """Everything a bad request could have written."""
    return (list(Contact.objects.order_by("pk").values()),
            list(Purchase.objects.order_by("pk").values()),
            WebsiteEvent.objects.count(), CampaignRun.objects.count())


def assert_documented_error(response, field: str | None = None) -> None:
    """The shapes in the schema: {"detail": text}; or {field: [texts]}, for a batch of events
    {index: {field: [texts]}}. `field`, when given, is named (as a key, or quoted in the
    detail)."""
    body = response.json()
    assert isinstance(body, dict) and body, body
    if "detail" in body:
        assert set(body) == {"detail"} and isinstance(body["detail"], str), body
        assert field is None or f'"{field}"' in body["detail"], body
        return
    fields = [body] if not all(key.isdigit() for key in body) else list(body.values())
    for errors in fields:
        assert isinstance(errors, dict) and errors, body
        for messages in errors.values():
            assert isinstance(messages, list) and messages, body
            assert all(isinstance(message, str) for message in messages), body
    assert field is None or any(field in errors for errors in fields), body


# --- Query parameters -----------------------------------------------------------------------

BAD_INTEGERS = {
    "beyond 64 bits": str(BEYOND_64_BITS),
    "forty digits": "9" * 40,
    "five thousand digits": "9" * 5000,
    "negative": "-1",
    "zero": "0",
    "arabic-indic digits": "١",
    "fullwidth digits": "１",
    "fraction": "1.5",
    "exponent": "1e3",
    "plus sign": "+1",
    "leading space": " 1",
    "letters": "one",
    "NUL": "1\x00",
}
INTEGER_FILTERS = [("/api/purchases/", "contact"), ("/api/events/", "contact"),
                   ("/api/surveys/", "contact"), ("/api/surveys/", "min_score"),
                   ("/api/surveys/", "max_score"), ("/api/cases/", "contact")]
SCORES_ALLOW_ZERO = {("/api/surveys/", "min_score"), ("/api/surveys/", "max_score")}
LISTS = ["/api/contacts/", "/api/purchases/", "/api/events/", "/api/campaigns/",
         "/api/surveys/", "/api/cases/", "/api/campaigns/{campaign}/runs/"]


def _path(template: str, world) -> str:
    return template.format(campaign=world["campaign"].pk, contact=world["contact"].pk)


@pytest.mark.parametrize("value", BAD_INTEGERS.values(), ids=BAD_INTEGERS.keys())
@pytest.mark.parametrize("path, parameter", INTEGER_FILTERS)
def test_bad_integer_filter_is_a_400_naming_it(manager_api, world, path, parameter, value):
    if value == "0" and (path, parameter) in SCORES_ALLOW_ZERO:
        pytest.skip("a score of 0 is a score")
    response = manager_api.get(path, {parameter: value})

    assert response.status_code == 400, response.content
    assert_documented_error(response, parameter)


@pytest.mark.parametrize("value", BAD_INTEGERS.values(), ids=BAD_INTEGERS.keys())
@pytest.mark.parametrize("path", LISTS)
def test_bad_page_size_is_a_400_naming_it(manager_api, world, path, value):
    response = manager_api.get(_path(path, world), {"page_size": value})

    assert response.status_code == 400, response.content
    assert_documented_error(response, "page_size")


def test_an_empty_parameter_is_no_parameter(manager_api, world):
    # DRF's reading of query strings (as of HTML forms): "?contact=" filters nothing.
    response = manager_api.get("/api/purchases/", {"contact": "", "page_size": "", "cursor": ""})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_a_page_size_above_the_maximum_is_the_maximum(manager_api, world):
    response = manager_api.get("/api/purchases/", {"page_size": "100000"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


BAD_CURSORS = {
    "not base64": "%%%",
    "not ascii": "ü",
    "not a query string": _cursor("hello"),
    "position not a number": _cursor("p=abc"),
    "position beyond 64 bits": _cursor(f"p={BEYOND_64_BITS}"),
    "position in arabic-indic digits": _cursor("p=١٢"),
    "position a fraction": _cursor("p=1.5"),
    "position negative": _cursor("p=-5"),
    "offset negative": _cursor("o=-1&p=5"),
    "offset huge": _cursor(f"o={10**30}&p=5"),
    "reverse not 0 or 1": _cursor("r=2&p=5"),
    "reverse a word": _cursor("r=yes&p=5"),
    "position twice": _cursor("p=5&p=6"),
    "unknown token": _cursor("x=1"),
    "NUL": _cursor("p=5\x00"),
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
@pytest.mark.parametrize("path", LISTS)
def test_a_crafted_cursor_is_a_400_invalid_cursor(manager_api, world, path, cursor):
    response = manager_api.get(_path(path, world), {"cursor": cursor})

    assert response.status_code == 400, response.content
    assert_documented_error(response, "cursor")


def test_the_cursor_of_a_next_link_still_pages(manager_api, world):
    ContactFactory.create_batch(3)

    first = manager_api.get("/api/contacts/", {"page_size": "2"}).json()
    second = manager_api.get(first["next"]).json()
    back = manager_api.get(second["previous"]).json()

    assert len(first["results"]) == 2 and len(second["results"]) == 2
    assert {row["id"] for row in first["results"]}.isdisjoint(
        row["id"] for row in second["results"])
    assert back["results"] == first["results"]


BAD_FILTERS = {
    "updated_since not a date": ("/api/contacts/", "updated_since", "yesterday"),
    "updated_since year 0": ("/api/contacts/", "updated_since", "0001-01-01T00:00:00+14:00"),
    "updated_since year 9999": ("/api/contacts/", "updated_since", "9999-12-31T23:59:59-14:00"),
    "updated_since arabic digits": ("/api/contacts/", "updated_since", "٢٠٢٤-01-01T00:00:00Z"),
    "stage unknown": ("/api/contacts/", "stage", "\x00"),
    "email NUL": ("/api/contacts/", "email", "a\x00@example.com"),
    "q NUL": ("/api/contacts/", "q", "\x00"),
    "q too long": ("/api/contacts/", "q", "x" * 5000),
    "kind unknown": ("/api/events/", "kind", "x" * 5000),
    "status unknown": ("/api/cases/", "status", "\x00"),
    "open not a boolean": ("/api/cases/", "open", "maybe"),
}


@pytest.mark.parametrize("path, parameter, value", BAD_FILTERS.values(), ids=BAD_FILTERS.keys())
def test_bad_filter_is_a_400_naming_it(manager_api, world, path, parameter, value):
    response = manager_api.get(path, {parameter: value})

    assert response.status_code == 400, response.content
    assert_documented_error(response, parameter)


# --- Ids in the path ------------------------------------------------------------------------

ID_PATHS = [("get", "/api/contacts/{id}/"), ("patch", "/api/contacts/{id}/"),
            ("get", "/api/contacts/{id}/score/"), ("get", "/api/campaigns/{id}/"),
            ("get", "/api/campaigns/{id}/runs/"), ("post", "/api/campaigns/{id}/runs/"),
            ("get", "/api/cases/{id}/")]


@pytest.mark.parametrize("pk", [0, BEYOND_64_BITS, 10**40], ids=["zero", "2**63", "10**40"])
@pytest.mark.parametrize("method, path", ID_PATHS)
def test_an_id_no_row_can_have_is_a_404(manager_api, world, method, path, pk):
    before = _stored()

    response = getattr(manager_api, method)(path.format(id=pk), {}, format="json")

    assert response.status_code == 404, response.content
    assert_documented_error(response)
    assert _stored() == before


# --- Bodies that are not acceptable JSON ----------------------------------------------------

BODY_PATHS = [("post", "/api/contacts/"), ("patch", "/api/contacts/{contact}/"),
              ("post", "/api/purchases/"), ("post", "/api/purchases/refund/"),
              ("post", "/api/events/"), ("post", "/api/campaigns/{campaign}/runs/")]
BAD_BODIES = {
    "nested 30000 deep": b"[" * 30_000 + b"]" * 30_000,  # within the 64 KB limit
    "unclosed 60000 deep": b"[" * 60_000,
    "objects nested 40 deep": b'{"a":' * 40 + b"1" + b"}" * 40,
    "NaN": b'{"amount": NaN}',
    "Infinity": b'{"amount": Infinity}',
    "-Infinity": b'{"contact": -Infinity}',
    "1e309": b'{"contact": 1e309}',
    "a 5000-digit integer": b'{"contact": ' + b"9" * 5000 + b"}",
    "duplicate keys": b'{"email": "a@example.com", "email": "b@example.com"}',
    "NUL in a value": b'{"email": "a\\u0000@example.com"}',
    "NUL in a key": b'{"a\\u0000": 1}',
    "lone surrogate": b'{"first_name": "\\ud800"}',
    "lone low surrogate in a list": b'{"properties": {"items": ["\\udc00"]}}',
    "not UTF-8": b'{"first_name": "\xff\xfe"}',
    "brackets not pairing": b'{"a": [}',
    "not JSON": b"{email: a}",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
@pytest.mark.parametrize("method, path", BODY_PATHS)
def test_a_body_that_is_not_acceptable_json_is_a_400(manager_api, world, method, path, body):
    before = _stored()

    response = getattr(manager_api, method)(_path(path, world), body,
                                            content_type="application/json")

    assert response.status_code == 400, response.content
    assert_documented_error(response)
    assert _stored() == before


def test_the_refusal_names_where_the_nul_is(manager_api, world):
    response = manager_api.post("/api/events/", b'[{"properties": {"k": ["ok", "\\u0000"]}}]',
                                content_type="application/json")

    assert response.status_code == 400
    assert '"[0].properties.k[1]"' in response.json()["detail"]


def test_nesting_up_to_the_limit_is_read(manager_api, world):
    properties = "[" * 29 + "1" + "]" * 29  # 32 levels with the list, the event, properties
    body = '[{"email": "a@example.com", "kind": "custom", "name": "x", "occurred_at": '
    body += f'"{RECENT}", "properties": {{"deep": {properties}}}}}]'

    response = manager_api.post("/api/events/", body, content_type="application/json")

    # Read, then refused by the events' own rule (flat properties), not by the parser.
    assert response.status_code == 400
    assert list(response.json()["0"]) == ["properties"]


def test_a_paired_surrogate_is_a_character(manager_api, world):
    body = b'{"email": "smile@example.com", "first_name": "\\ud83d\\ude00"}'

    response = manager_api.post("/api/contacts/", body, content_type="application/json")

    assert response.status_code == 201
    assert Contact.objects.get(email="smile@example.com").first_name == "\U0001f600"


# --- Values of the wrong kind in a JSON body ------------------------------------------------

def _order(**changes) -> dict:
    order = {"email": "new@example.com", "purchased_at": RECENT, "amount": "19.90",
             "currency": "USD", "source": "shop", "external_id": "B-1"}
    return {**order, **changes}


def _event(**changes) -> dict:
    event = {"email": "new@example.com", "kind": "abandoned_cart", "name": "Mug",
             "occurred_at": RECENT, "source": "shop", "external_id": "E-1"}
    return {**event, **changes}


def _without_email(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "email"}


BAD_IDS = {"fraction": 1.5, "float one": 1.0, "true": True, "fraction text": "1.5",
           "arabic-indic digit": "١", "fullwidth digit": "１", "2**63": BEYOND_64_BITS,
           "2**70": 2**70, "negative": -1, "zero": 0, "list": [1], "object": {"id": 1},
           "text": "one", "empty text": ""}
BAD_VALUES = {
    **{f"purchase contact {name}": ("post", "/api/purchases/", _without_email(_order(contact=v)),
                                    "contact") for name, v in BAD_IDS.items()},
    **{f"event contact {name}": ("post", "/api/events/", _without_email(_event(contact=v)),
                                 "contact") for name, v in BAD_IDS.items()},
    **{f"owner {name}": ("patch", "/api/contacts/{contact}/", {"owner": v}, "owner")
       for name, v in BAD_IDS.items()},
    "amount in arabic-indic digits": ("post", "/api/purchases/", _order(amount="١٢"), "amount"),
    "amount in fullwidth digits": ("post", "/api/purchases/", _order(amount="１２"), "amount"),
    "amount with underscores": ("post", "/api/purchases/", _order(amount="1_000"), "amount"),
    "amount with a NUL": ("post", "/api/purchases/", _order(amount="12\x00"), "amount"),
    "amount 1e999999999": ("post", "/api/purchases/", _order(amount="1e999999999"), "amount"),
    "amount sNaN": ("post", "/api/purchases/", _order(amount="sNaN"), "amount"),
    "amount as a list": ("post", "/api/purchases/", _order(amount=["1"]), "amount"),
    "quantity a float": ("post", "/api/purchases/", _order(quantity=1.0), "quantity"),
    "quantity true": ("post", "/api/purchases/", _order(quantity=True), "quantity"),
    "quantity arabic-indic": ("post", "/api/purchases/", _order(quantity="٢"), "quantity"),
    "quantity 2**63": ("post", "/api/purchases/", _order(quantity=BEYOND_64_BITS), "quantity"),
    "purchased_at arabic digits": ("post", "/api/purchases/",
                                   _order(purchased_at="٢٠٢٤-05-31"), "purchased_at"),
    "purchased_at year 1": ("post", "/api/purchases/",
                            _order(purchased_at="0001-01-01T00:00:00+14:00"), "purchased_at"),
    "purchased_at year 9999": ("post", "/api/purchases/",
                               _order(purchased_at="9999-12-31T23:59:59-14:00"),
                               "purchased_at"),
    "purchased_at an object": ("post", "/api/purchases/", _order(purchased_at={}),
                               "purchased_at"),
    "currency NUL": ("post", "/api/purchases/", _order(currency="US\x00"), "currency"),
    "email a number": ("post", "/api/purchases/", _order(email=5), "email"),
    "email very long": ("post", "/api/purchases/", _order(email="a" * 20_000 + "@x.com"),
                        "email"),
    "external_id a list": ("post", "/api/purchases/", _order(external_id=["x"]), "external_id"),
    "code null": ("post", "/api/purchases/", _order(code=None), "code"),
    "refund in arabic-indic": ("post", "/api/purchases/refund/",
                               {"source": "shop", "external_id": "A-1",
                                "refunded_amount": "١٠"}, "refunded_amount"),
    "refund 1e999999": ("post", "/api/purchases/refund/",
                        {"source": "shop", "external_id": "A-1",
                         "refunded_amount": "1e999999"}, "refunded_amount"),
    "refund of a NUL order": ("post", "/api/purchases/refund/",
                              {"source": "shop", "external_id": "A-\x00",
                               "refunded_amount": "1.00"}, None),
    "contact email NUL": ("post", "/api/contacts/", {"email": "a\x00@example.com"}, None),
    "contact name very long": ("post", "/api/contacts/",
                               {"email": "n@example.com", "first_name": "x" * 20_000},
                               "first_name"),
    "contact name null": ("post", "/api/contacts/", {"email": "n@example.com",
                                                     "first_name": None}, "first_name"),
    "contact language a list": ("post", "/api/contacts/", {"email": "n@example.com",
                                                           "language": ["en"]}, "language"),
    "contact consent a word": ("post", "/api/contacts/", {"email": "n@example.com",
                                                          "marketing_consent": "maybe"},
                               "marketing_consent"),
    "contact phone not a phone": ("post", "/api/contacts/", {"email": "n@example.com",
                                                             "phone": "not a phone!!"},
                                  "phone"),
    "contact phone arabic-indic": ("post", "/api/contacts/",
                                   {"email": "n@example.com", "phone": "٠٥٣٢١٢٣٤٥٦٧"},
                                   "phone"),
    "patch phone too short": ("patch", "/api/contacts/{contact}/", {"phone": "555 0101"},
                              "phone"),
    "event properties with a NUL key": ("post", "/api/events/",
                                        _event(properties={"\x00": 1}), None),
    "event properties a list": ("post", "/api/events/", _event(properties=[1]), "properties"),
    "event kind a number": ("post", "/api/events/", _event(kind=5), "kind"),
    "events: an empty list": ("post", "/api/events/", [], None),
    "events: a list of lists": ("post", "/api/events/", [[_event()]], None),
    "run key a list": ("post", "/api/campaigns/{campaign}/runs/", {"key": [5]}, "key"),
    "run key NUL": ("post", "/api/campaigns/{campaign}/runs/", {"key": "a\x00"}, None),
    "body a string": ("post", "/api/purchases/", "order", None),
    "body a number": ("post", "/api/contacts/", 5, None),
    "body null": ("post", "/api/purchases/refund/", None, None),
}


@pytest.mark.parametrize("method, path, body, field", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_value_of_the_wrong_kind_is_a_400_and_stores_nothing(manager_api, world, method, path,
                                                              body, field):
    before = _stored()

    response = getattr(manager_api, method)(_path(path, world), body, format="json")

    assert response.status_code == 400, response.content
    assert_documented_error(response, field)
    assert _stored() == before
