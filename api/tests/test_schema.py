"""The OpenAPI schema validates without warnings; the docs pages load with no outside request."""
import re

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PATHS = {"/api/contacts/", "/api/contacts/{id}/", "/api/contacts/{id}/score/", "/api/purchases/",
         "/api/purchases/refund/",
         "/api/events/", "/api/campaigns/", "/api/campaigns/{id}/", "/api/campaigns/{id}/runs/",
         "/api/surveys/", "/api/cases/", "/api/cases/{id}/"}


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == PATHS


def test_schema_endpoint_serves_it_to_token_clients(sales_api):
    response = sales_api.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert set(response.json()["paths"]) == PATHS


def test_schema_documents_both_authentications(sales_api):
    schemes = sales_api.get("/api/schema/?format=json").json()["components"]["securitySchemes"]

    assert set(schemes) == {"tokenAuth", "cookieAuth"}


def test_docs_page_loads_without_external_urls(sales_client):
    response = sales_client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"""(?:src|href)=["']?(?:https?:)?//""", html) == []
    assert re.findall(r"https?://(?!testserver)[^\s\"'<>]+", html) == []
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


def test_docs_script_turns_off_the_online_validator(sales_client):
    # The init script is served from the page's own URL (?script=), not inline (the CSP).
    script = sales_client.get("/api/docs/", {"script": ""}).content.decode()

    assert '"validatorUrl": null' in script


def test_docs_page_needs_the_site_login(client):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
