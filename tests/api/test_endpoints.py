"""Every resource lists and fetches its rows; the router has no write route (writes answer 405); anonymous
readers get 401."""

import pytest
from django.urls import reverse

from policyhub.api_urls import router
from policyhub.roles import VIEWER, assign_role
from tests.api.helpers import RESOURCES, detail_url, keys, list_url, lookup_of
from tests.factories import CoverageCriterionFactory, PayerFactory

pytestmark = pytest.mark.django_db

WRITE_METHODS = ["post", "put", "patch", "delete"]


@pytest.mark.parametrize("basename", RESOURCES)
def test_list_includes_the_row(api_client, dataset, basename):
    """Each list answers 200 with page-number pagination and contains the dataset's row."""
    row = getattr(dataset, RESOURCES[basename][0])
    response = api_client.get(list_url(basename))
    assert response.status_code == 200
    body = response.json()
    assert {"count", "next", "previous", "results"} <= body.keys()
    assert lookup_of(basename, row) in keys(response, basename)


@pytest.mark.parametrize("basename", RESOURCES)
def test_detail_returns_the_row(api_client, dataset, basename):
    """Each detail answers 200 with the row, whose `url` is its own address."""
    row = getattr(dataset, RESOURCES[basename][0])
    response = api_client.get(detail_url(basename, row))
    assert response.status_code == 200
    body = response.json()
    assert str(body[RESOURCES[basename][1]]) == lookup_of(basename, row)
    assert body["url"].endswith(detail_url(basename, row))


@pytest.mark.parametrize("basename", RESOURCES)
def test_unknown_detail_answers_404_with_error_body(api_client, dataset, basename):
    """An unknown key answers 404 with the documented error body."""
    # Not 99: PostgreSQL's sequences do not roll back with a test, so after other test files have
    # made a hundred gaps, gap 99 exists.
    response = api_client.get(reverse(f"api:{basename}-detail", args=["987654321"]))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_lookups_accept_the_usual_spellings(api_client, dataset):
    """Codes are found in lower case and ICD-10-CM codes with their dot."""
    assert api_client.get("/api/v1/codes/a0021/").json()["code"] == "A0021"
    assert api_client.get("/api/v1/modifiers/kx/").json()["code"] == "KX"
    diagnosis = api_client.get("/api/v1/diagnosis-codes/I25.10/").json()
    assert (diagnosis["code"], diagnosis["display_code"]) == ("I2510", "I25.10")


@pytest.mark.parametrize("path", ["/api/v1/codes/../", "/api/v1/codes/9%00590/", "/api/v1/payers/a%20b/"])
def test_malformed_lookup_answers_404_without_error(api_client, dataset, path):
    """A lookup value that cannot be a key answers 404, never a server error."""
    assert api_client.get(path).status_code == 404


def test_the_router_has_no_write_route():
    """The API is read-only: no route of any registered resource maps a write method to an action."""
    assert {basename for _prefix, _viewset, basename in router.registry} == {*RESOURCES, "change"}
    routes = [pattern for pattern in router.urls if getattr(pattern.callback, "actions", None)]
    assert routes
    for pattern in routes:
        assert set(pattern.callback.actions) <= {"get", "head"}, f"{pattern.pattern} maps {pattern.callback.actions}"


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_a_write_answers_405_and_changes_nothing(api_client, dataset, method):
    """A write on a list or an object answers 405 with the allowed methods, and the object stays as it was."""
    criterion = detail_url("coverage-criterion", dataset.aetna_mitral)
    before = api_client.get(criterion).json()
    for url in (list_url("coverage-criterion"), criterion):
        response = getattr(api_client, method)(url, {"coverage_status": "not_covered"}, format="json")
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
        assert response["Allow"].replace(" ", "").split(",") == ["GET", "HEAD", "OPTIONS"]
    assert api_client.get(criterion).json() == before


def test_changes_feed_has_no_detail_route(api_client, dataset):
    """The changes feed is a list only."""
    assert api_client.get("/api/v1/changes/1/").status_code == 404


@pytest.mark.parametrize("basename", [*RESOURCES, "change"])
def test_anonymous_requests_answer_401(anon_client, dataset, basename):
    """Without credentials every resource answers 401 and says how to authenticate."""
    response = anon_client.get(list_url(basename), {"since": "2020-01-01T00:00:00Z"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_anonymous_detail_answers_401(anon_client, dataset):
    """Anonymous readers learn nothing about a code, not even whether it exists."""
    assert anon_client.get("/api/v1/codes/93590/").status_code == 401
    assert anon_client.get("/api/v1/codes/99999/").status_code == 401


def test_internal_users_read_with_their_session(client, dataset):
    """A signed-in user with the Viewer role reads the API without a token."""
    assign_role(user=dataset.curator, role=VIEWER)
    client.force_login(dataset.curator)
    response = client.get("/api/v1/codes/93590/")
    assert response.status_code == 200
    assert response.json()["code"] == "93590"


def test_api_root_lists_every_resource(api_client, dataset):
    """/api/v1/ links to each resource."""
    body = api_client.get("/api/v1/").json()
    assert set(body) == {
        "codes",
        "modifiers",
        "places-of-service",
        "diagnosis-codes",
        "payers",
        "payer-policies",
        "coverage-criteria",
        "documentation-requirements",
        "benchmarks",
        "gaps",
        "changes",
    }


def test_browsable_api_renders_without_filter_form(client, dataset):
    """The browsable API works for people and leaves out the filter form (no related-table dropdowns)."""
    assign_role(user=dataset.curator, role=VIEWER)
    client.force_login(dataset.curator)
    response = client.get("/api/v1/coverage-criteria/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Coverage Criterion List" in response.content
    assert b"filtersModal" not in response.content
    assert b"<select" not in response.content


def test_a_detail_look_up_answers_its_own_row_with_or_without_a_filter(api_client, dataset):
    """Details are looked up by a statement compiled once per process (`ReadOnlyViewSet.looked_up`):
    each code and each criterion still answers as itself, drafts and unknown keys 404, and a query
    string's filters still apply to the look-up (a code no criterion of that payer covers: 404)."""
    for code in ("93590", "93592", "A0021", "93590"):
        assert api_client.get(f"/api/v1/codes/{code}/").json()["code"] == code
    assert api_client.get("/api/v1/codes/99999/").status_code == 404
    published = CoverageCriterionFactory(code=dataset.mitral, payer=PayerFactory(slug="lookup-payer"))
    draft = CoverageCriterionFactory(code=dataset.addon, payer=published.payer, state="draft")
    assert api_client.get(f"/api/v1/coverage-criteria/{published.pk}/").json()["id"] == published.pk
    assert api_client.get(f"/api/v1/coverage-criteria/{draft.pk}/").status_code == 404
    assert api_client.get("/api/v1/codes/93590/", {"payer": "lookup-payer"}).json()["code"] == "93590"
    assert api_client.get("/api/v1/codes/93592/", {"payer": "lookup-payer"}).status_code == 404
    assert api_client.get("/api/v1/codes/93592/").status_code == 200
