"""The schema documents each operation's error answers, and the real answers have those shapes."""
import jsonschema
import pytest

from accounts.tests.factories import UserFactory
from api.tests.helpers import token_client
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# Paths without an id whose view answers 404 all the same (the order is not known).
DECLARED_404 = {("post", "/api/purchases/refund/")}


@pytest.fixture
def schema(sales_api) -> dict:
    return sales_api.get("/api/schema/?format=json").json()


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield method, path, operation


def _error_schema(operation: dict, code: str) -> dict:
    return operation["responses"][code]["content"]["application/json"]["schema"]


def test_every_operation_documents_its_error_answers(schema):
    detail = {"$ref": "#/components/schemas/ErrorDetail"}
    operations = list(_operations(schema))
    assert len(operations) == 17

    for method, path, operation in operations:
        responses = operation["responses"]
        reads_input = "requestBody" in operation or any(
            parameter["in"] == "query" for parameter in operation.get("parameters", []))
        has_404 = "{id}" in path or (method, path) in DECLARED_404
        expected = {"401", "403", "429", "503"} | ({"400"} if reads_input else set()) | (
            {"404"} if has_404 else set()) | ({"415"} if "requestBody" in operation else set())
        assert expected <= set(responses), (method, path)
        assert has_404 == ("404" in responses), (method, path)
        for code in expected - {"400"}:
            assert _error_schema(operation, code) == detail, (method, path, code)
        if reads_input:
            assert _error_schema(operation, "400") == {"oneOf": [
                detail, {"$ref": "#/components/schemas/ValidationErrors"}]}
        assert responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
        assert responses["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_lists_read_the_cursor_so_document_a_400(schema):
    operation = schema["paths"]["/api/campaigns/"]["get"]

    assert {"cursor", "page_size"} <= {parameter["name"] for parameter in operation["parameters"]}
    assert "400" in operation["responses"]


def test_a_view_keeps_its_own_description_of_an_error(schema):
    answer = schema["paths"]["/api/contacts/{id}/score/"]["get"]["responses"]["404"]

    assert answer["description"] == "No such contact, or not scored yet."
    assert "content" in answer


def _assert_matches(schema: dict, method: str, path: str, response) -> None:
    operation = schema["paths"][path][method]
    documented = _error_schema(operation, str(response.status_code))
    jsonschema.validate(response.json(), {**documented, "components": schema["components"]})


def test_real_error_answers_have_the_documented_shapes(schema, sales_api, manager_api,
                                                       no_role_api, anonymous_api, settings):
    contact = ContactFactory()
    answers = [
        ("post", "/api/purchases/", sales_api.post("/api/purchases/", {"amount": "x"},
                                                   format="json")),
        ("post", "/api/purchases/", sales_api.post("/api/purchases/", b"[" * 100,
                                                   content_type="application/json")),
        ("post", "/api/events/", manager_api.post("/api/events/", [{"kind": "nope"}],
                                                  format="json")),
        ("get", "/api/purchases/", sales_api.get("/api/purchases/", {"cursor": "x"})),
        ("post", "/api/purchases/", sales_api.post("/api/purchases/", "amount=1",
                                                   content_type="text/plain")),
        ("get", "/api/contacts/", anonymous_api.get("/api/contacts/")),
        ("patch", "/api/contacts/{id}/", no_role_api.patch(f"/api/contacts/{contact.pk}/", {},
                                                           format="json")),
        ("get", "/api/contacts/{id}/", sales_api.get("/api/contacts/0/")),
    ]
    settings.CRM_API_THROTTLE_USER = "1/minute"
    throttled = token_client(UserFactory(username="someone"))
    throttled.get("/api/contacts/")  # refused, and counted
    answers.append(("get", "/api/contacts/", throttled.get("/api/contacts/")))

    assert [response.status_code for _method, _path, response in answers] == [
        400, 400, 400, 400, 415, 401, 403, 404, 429]
    for method, path, response in answers:
        _assert_matches(schema, method, path, response)



def test_the_outage_answer_has_the_documented_shape(schema, manager, monkeypatch):
    from django.db import OperationalError, connection

    api = token_client(manager)
    api.raise_request_exception = False

    def refuse(*args, **kwargs):
        raise OperationalError("connection to server failed: Connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)  # the database is down
    response = api.get("/api/contacts/")

    assert response.status_code == 503 and response["Retry-After"].isdigit()
    _assert_matches(schema, "get", "/api/contacts/", response)
