"""The OpenAPI schema is valid, public, complete, and browsable at /api/docs/ without any CDN."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from briefs.api.views import CodeViewSet
from codes.api.views import DiagnosisCodeViewSet
from payers.api.views import CoverageCriterionViewSet, FollowUpGapViewSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anon_client):
    response = anon_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_public_and_valid_openapi(schema):
    """Anyone can fetch the schema (it holds no data), and it validates against OpenAPI 3."""
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "An API token from your PolicyHub administrator, sent as `Token <key>`.",
    }


def test_schema_generation_has_no_warnings():
    """`manage.py spectacular --validate --fail-on-warn` passes: every type is resolved, nothing guessed."""
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/codes/{code}/" in yaml.safe_load(out.getvalue())["paths"]


def test_every_operation_documents_its_errors_and_validators(schema):
    """Each read operation documents 400, 401, 404 and 429 with the error body, and 304 with the ETag."""
    operations = [op for path in schema["paths"].values() for method, op in path.items() if method == "get"]
    assert len(operations) == 21
    for operation in operations:
        responses = operation["responses"]
        for status in ("400", "401", "404", "429"):
            assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert set(responses["200"]["headers"]) == {"ETag", "Last-Modified", "X-Change-Position"}
        assert "304" in responses
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert {"If-None-Match", "If-Modified-Since"} <= headers


@pytest.mark.parametrize(
    ("path", "viewset"),
    [
        ("/api/v1/codes/", CodeViewSet),
        ("/api/v1/diagnosis-codes/", DiagnosisCodeViewSet),
        ("/api/v1/coverage-criteria/", CoverageCriterionViewSet),
        ("/api/v1/gaps/", FollowUpGapViewSet),
    ],
)
def test_every_filter_and_pagination_parameter_is_documented(schema, path, viewset):
    """Each filter of the FilterSet, ordering and pagination appear as described query parameters."""
    parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "query"}
    expected = {*viewset.filterset_class.base_filters, "ordering", "page", "page_size", "cursor"}
    assert expected == set(parameters)
    undescribed = [name for name, p in parameters.items() if not p.get("description") and "enum" not in str(p)]
    assert not undescribed


def test_criteria_search_documents_its_shortest_term(schema):
    """Clients read from the schema that the criteria's `q` needs three letters or digits in a row
    (shorter answers 400)."""
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/coverage-criteria/"]["get"]["parameters"]}
    assert parameters["q"]["schema"] == {"type": "string", "minLength": 3}
    assert "at least 3 letters or digits in a row" in parameters["q"]["description"]


def test_code_brief_has_an_example(schema):
    """The code detail shows a worked example: the demo brief of 93590."""
    content = schema["paths"]["/api/v1/codes/{code}/"]["get"]["responses"]["200"]["content"]["application/json"]
    (example,) = content["examples"].values()
    assert example["value"]["code"] == "93590"
    assert {"coverage", "open_gaps", "related_codes", "brief"} <= example["value"].keys()


def test_changes_feed_is_documented(schema):
    """The changes feed documents `after`, `since` and its entry shape."""
    operation = schema["paths"]["/api/v1/changes/"]["get"]
    assert {"after", "since", "resource", "page_size"} <= {p["name"] for p in operation["parameters"]}
    assert set(schema["components"]["schemas"]["Change"]["properties"]) == {
        "position",
        "resource",
        "key",
        "action",
        "time",
        "billing_code",
        "url",
    }


def test_swagger_ui_is_served_without_a_cdn(anon_client):
    """/api/docs/ serves Swagger UI from PolicyHub's own static files."""
    response = anon_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    # No inline script (the Content-Security-Policy forbids it): the set-up script is its own file.
    assert "<script>" not in html and '<script src="/api/docs/?script="></script>' in html
    assert "/api/schema/" in anon_client.get("/api/docs/?script=").content.decode()
