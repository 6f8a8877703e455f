"""A code's detail is its whole brief, published content only."""

import datetime as dt

import pytest

from briefs.selectors import code_brief
from payers.api import fast
from policyhub.representations import Links
from tests.api.helpers import RESOURCES, detail_url, list_url
from tests.factories import (
    CoverageCriterionFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    PayerFactory,
    PolicyDocumentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def brief(api_client, dataset):
    return api_client.get("/api/v1/codes/93590/").json()


def test_brief_has_catalogue_facts_and_published_text(brief):
    """The brief starts with the catalogue entry and the published brief text."""
    assert (brief["code"], brief["system"], brief["title"]) == ("93590", "CPT", "Mitral leak closure")
    assert brief["brief"]["title"] == "Mitral leak closure"
    assert brief["brief"]["service_type"] == "Transcatheter"


def test_brief_has_sites_modifiers_and_diagnoses(brief):
    """Sites of service, modifier guidance (with the '00' no-modifier row) and diagnosis codes."""
    assert brief["sites_of_service"] == [
        {
            "place_of_service": {"code": "21", "name": "Inpatient Hospital", "setting": "facility"},
            "setting_note": "cath lab",
            "is_typical": True,
        }
    ]
    assert [(g["modifier"], g["when_to_use"]) for g in brief["modifier_guidance"]] == [
        ("00", "Single device"),
        ("KX", "Criteria documented"),
    ]
    assert [(d["display_code"], d["note"]) for d in brief["diagnosis_codes"]] == [("T82.857A", "prosthetic valve leak")]


def test_related_codes_read_from_both_ends(api_client, brief):
    """93592 is an add-on to 93590: each code's brief shows the other, with the direction."""
    assert [(r["direction"], r["kind"], r["code"]["code"]) for r in brief["related_codes"]] == [
        ("incoming", "add_on_to", "93592")
    ]
    addon = api_client.get("/api/v1/codes/93592/").json()
    assert [(r["direction"], r["code"]["code"]) for r in addon["related_codes"]] == [("outgoing", "93590")]


def test_coverage_per_payer_with_policy_and_crd_values(brief, dataset):
    """Coverage lists each payer's published criteria with the source policy and CRD values."""
    coverage = {row["id"]: row for row in brief["coverage"]}
    assert set(coverage) == {dataset.aetna_mitral.pk, dataset.medicare_mitral_old.pk}
    aetna = coverage[dataset.aetna_mitral.pk]
    assert aetna["payer"]["slug"] == "aetna"
    assert (aetna["coverage_status"], aetna["crd_covered"]) == ("covered_with_criteria", "conditional")
    assert (aetna["prior_auth"], aetna["crd_pa_needed"]) == ("required", "auth-needed")
    assert aetna["policy"]["number"] == "CPB 0826"
    assert [d["code"] for d in aetna["diagnosis_codes"]] == ["T82857A"]
    medicare = coverage[dataset.medicare_mitral_old.pk]
    assert (medicare["crd_covered"], medicare["crd_pa_needed"]) == ("indeterminate", "no-auth")


def test_documentation_benchmarks_and_open_gaps(brief, dataset):
    """Documentation (all payers and payer-specific), benchmarks and open gaps with their owner."""
    assert {(d["text"], d["payer"] and d["payer"]["slug"]) for d in brief["documentation_requirements"]} == {
        ("TEE report", None),
        ("Operative report", "medicare"),
    }
    assert [(b["metric"], b["value"], b["payer"]) for b in brief["benchmarks"]] == [("work_rvu", "21.7000", None)]
    assert [(g["id"], g["assignee"]) for g in brief["open_gaps"]] == [(dataset.open_gap.pk, "curator-ann")]


def test_draft_only_brief_shows_as_none(api_client, dataset):
    """A code whose brief is still a draft shows no brief text and only published coverage."""
    body = api_client.get("/api/v1/codes/A0021/").json()
    assert body["brief"] is None
    assert body["title"] is None
    assert [row["id"] for row in body["coverage"]] == [dataset.medicare_ambulance.pk]


def test_no_draft_text_anywhere_in_the_api(api_client, dataset):
    """Draft and pending content (all marked 'Secret') is in no list and no detail."""
    urls = ["/api/v1/codes/A0021/", "/api/v1/codes/93590/", "/api/v1/changes/?since=2000-01-01T00:00:00Z"]
    for basename, (row, _) in RESOURCES.items():
        urls += [list_url(basename) + "?page_size=500", detail_url(basename, getattr(dataset, row))]
    for url in urls:
        assert b"Secret" not in api_client.get(url).content, url
    for draft in (dataset.draft_coverage, dataset.pending_revision):
        assert api_client.get(f"/api/v1/coverage-criteria/{draft.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/documentation-requirements/{dataset.draft_doc.pk}/").status_code == 404


def test_drafts_stay_hidden_from_superusers_too(admin_client, dataset):
    """Even a superuser's session sees only published content in the API."""
    assert b"Secret" not in admin_client.get("/api/v1/codes/A0021/").content
    assert admin_client.get(f"/api/v1/coverage-criteria/{dataset.draft_coverage.pk}/").status_code == 404


def test_brief_sections_read_as_rows_equal_the_pages_rows_in_order(api_client, dataset):
    """The API reads coverage, documentation and open gaps as plain rows; the brief page reads them as
    model instances. Both show the same rows in the same order: coverage by payer name, newest start
    first; documentation by payer name, then kind (ties by key); gaps by priority, then due date."""
    code = dataset.mitral
    zeta, alpha = PayerFactory(name="Zeta Health"), PayerFactory(name="Alpha Care")
    policy = PolicyDocumentFactory(payer=alpha)
    # Written in an order that no sort gives back; one payer's periods may not overlap.
    for payer, start, end in (
        (zeta, dt.date(2024, 1, 1), None),
        (alpha, dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
        (alpha, dt.date(2025, 1, 1), None),
        (alpha, dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ):
        CoverageCriterionFactory(code=code, payer=payer, effective_start=start, effective_end=end, policy=policy)
    for payer, kind in ((zeta, "imaging"), (alpha, "operative"), (alpha, "imaging"), (alpha, "imaging")):
        DocumentationRequirementFactory(code=code, payer=payer, kind=kind, policy=policy)
    for priority, due in ((3, None), (1, dt.date(2026, 3, 1)), (1, None), (1, dt.date(2026, 1, 1))):
        FollowUpGapFactory(code=code, payer=alpha, priority=priority, due_date=due)

    brief = api_client.get(f"/api/v1/codes/{code.code}/").json()

    page = code_brief(code.code)
    link = Links(api_client.get("/api/v1/").wsgi_request)
    assert brief["coverage"] == [fast.criterion(row, link, with_code=False) for row in page.coverage]
    assert brief["documentation_requirements"] == [
        fast.requirement(row, link, with_code=False) for row in page.documentation
    ]
    assert brief["open_gaps"] == [fast.gap(row, link, with_code=False) for row in page.open_gaps]
    payers = [row["payer"]["name"] if row["payer"] else "" for row in brief["coverage"]]
    assert payers == sorted(payers) and len(brief["coverage"]) >= 5
    alpha_starts = [row["effective_start"] for row in brief["coverage"] if row["payer"]["name"] == "Alpha Care"]
    assert alpha_starts == ["2025-01-01", "2024-01-01", "2023-01-01"]
    kinds = [
        row["kind"]
        for row in brief["documentation_requirements"]
        if row["payer"] and row["payer"]["name"] == "Alpha Care"
    ]
    assert kinds == ["imaging", "imaging", "operative"]
    tied = [
        row["id"]
        for row in brief["documentation_requirements"]
        if row["kind"] == "imaging" and row["payer"] and row["payer"]["name"] == "Alpha Care"
    ]
    assert len(tied) == 2 and tied == sorted(tied)
    ours = [
        (row["priority"], row["due_date"])
        for row in brief["open_gaps"]
        if row["payer"] and row["payer"]["slug"] == alpha.slug
    ]
    assert ours == [(1, "2026-01-01"), (1, "2026-03-01"), (1, None), (3, None)]
