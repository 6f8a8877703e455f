"""Modifier guidance, sites of service, related codes, associated diagnoses and curated benchmarks go
through the code's change set like its brief text and criteria: an editor's change is a draft that
readers, the API and the coverage facts never see until a reviewer approves the whole set."""

import pytest
from django.db import IntegrityError, transaction

from briefs.change_sets import approve_change_set, change_set, submit_change_set
from briefs.completeness import completeness_report
from codes.choices import RelationshipKind
from codes.models import BillingCode, CodeDiagnosis, CodeRelationship, ModifierGuidance, SiteOfService
from payers.choices import BenchmarkMetric, GapCategory
from payers.models import Benchmark, FollowUpGap
from payers.services import detect_gaps
from policyhub.changelog import ChangeLogEntry
from policyhub.choices import WorkflowState
from tests.factories import (
    BillingCodeFactory,
    CodeBriefFactory,
    CodeDiagnosisFactory,
    DiagnosisCodeFactory,
    ModifierFactory,
    ModifierGuidanceFactory,
    PlaceOfServiceFactory,
    SiteOfServiceFactory,
)
from tests.migrations import upgraded_from
from tests.workflow.adminpages import add_inline_rows, admin_url, form_data, inline_prefix, messages_of, page_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(db):
    """CPT 33361 with a published brief and one published typical site (inpatient hospital)."""
    code = BillingCodeFactory(code="33361", short_descriptor="TAVR, femoral")
    CodeBriefFactory(code=code, title="Transcatheter aortic valve replacement")
    SiteOfServiceFactory(code=code, place_of_service=PlaceOfServiceFactory(code="21"), setting_note="cath lab")
    return code


def add_every_part_on_the_code_page(client, code):
    """The editor's workspace save: a new site, modifier row, add-on link, diagnosis and utilization
    benchmark, and a new setting note on the published site, in one POST of the code's admin page."""
    url = admin_url(code, "change")
    page = client.get(url)
    data = form_data(page)
    site_prefix = inline_prefix(page, SiteOfService)
    data[f"{site_prefix}-0-setting_note"] = "hybrid operating room"
    add_inline_rows(data, site_prefix, [{"place_of_service": PlaceOfServiceFactory(code="22").pk, "is_typical": "on"}])
    add_inline_rows(
        data,
        inline_prefix(page, ModifierGuidance),
        [{"modifier": ModifierFactory(code="KX").pk, "when_to_use": "Criteria met", "display_order": "1"}],
    )
    add_inline_rows(
        data,
        inline_prefix(page, CodeRelationship),
        [{"kind": RelationshipKind.ADD_ON_TO, "to_code": BillingCodeFactory(code="33367").pk}],
    )
    add_inline_rows(
        data, inline_prefix(page, CodeDiagnosis), [{"diagnosis": DiagnosisCodeFactory(code="I350").pk, "note": "AS"}]
    )
    add_inline_rows(
        data,
        inline_prefix(page, Benchmark),
        [
            {
                "setting": "any",
                "metric": BenchmarkMetric.ANNUAL_UTILIZATION,
                "value": "4321",
                "unit": "procedures per year",
                "period": "CY2025",
                "source": "Curated from the registry",
            }
        ],
    )
    response = client.post(url, data)
    assert response.status_code == 302, page_errors(response)
    return response


def test_an_editors_changes_are_drafts_of_the_change_set(code, editor, login):
    add_every_part_on_the_code_page(login(editor), code)

    pending = change_set(code)
    assert pending.counts == {
        "site of service": 2,
        "modifier guidance": 1,
        "associated diagnosis": 1,
        "code relationship": 1,
        "benchmark": 1,
    }
    revision = next(c for c in pending.changes if c.kind == "site of service" and not c.is_new)
    assert [(f.field, f.old, f.new) for f in revision.fields] == [("Setting note", "cath lab", "hybrid operating room")]
    # The published rows are untouched until approval.
    assert list(SiteOfService.objects.published().values_list("setting_note", flat=True)) == ["cath lab"]


def test_readers_and_the_api_see_nothing_until_approval_then_everything(code, editor, reviewer, viewer, login, api):
    logged = ChangeLogEntry.objects.filter(billing_code="33361").count()
    add_every_part_on_the_code_page(login(editor), code)
    assert ChangeLogEntry.objects.filter(billing_code="33361").count() == logged, "drafts are not in the change feed"

    page = login(viewer).get("/codes/33361/").content.decode()
    assert "cath lab" in page
    assert "hybrid operating room" not in page and "I35.0" not in page and "33367" not in page
    assert "Pending:" not in page
    brief = api.get("/api/v1/codes/33361/").json()
    assert [s["setting_note"] for s in brief["sites_of_service"]] == ["cath lab"]
    assert brief["modifier_guidance"] == [] and brief["diagnosis_codes"] == [] and brief["related_codes"] == []
    assert brief["benchmarks"] == [] and api.get("/api/v1/benchmarks/").json()["results"] == []
    assert "4321" not in page

    submit_change_set(code=code, by=editor)
    approve_change_set(code=code, by=reviewer)
    assert ChangeLogEntry.objects.filter(billing_code="33361").count() > logged

    brief = api.get("/api/v1/codes/33361/").json()
    assert sorted(s["setting_note"] for s in brief["sites_of_service"]) == ["", "hybrid operating room"]
    assert [(g["modifier"], g["when_to_use"]) for g in brief["modifier_guidance"]] == [("KX", "Criteria met")]
    assert [d["display_code"] for d in brief["diagnosis_codes"]] == ["I35.0"]
    assert [r["code"]["code"] for r in brief["related_codes"]] == ["33367"]
    assert [b["value"] for b in brief["benchmarks"]] == ["4321.0000"]
    assert len(api.get("/api/v1/benchmarks/").json()["results"]) == 1
    # The revised site keeps its id (downstream systems hold it); the revision row is gone.
    assert SiteOfService.objects.filter(code=code).count() == 2


def test_the_editors_preview_shows_the_pending_parts_marked(code, editor, viewer, login):
    add_every_part_on_the_code_page(login(editor), code)
    page = login(editor).get("/codes/33361/").content.decode()
    assert "hybrid operating room" in page and "I35.0" in page and "33367" in page and "KX" in page
    assert "4321" in page
    assert page.count("Pending: draft") >= 5
    # The revision replaces the published row in the preview, it is not shown beside it.
    assert "cath lab" not in page


def test_an_editor_cannot_remove_a_published_part(code, editor, reviewer, login):
    site = SiteOfService.objects.get(code=code)
    url = admin_url(code, "change")
    page = login(editor).get(url)
    data = form_data(page)
    data[f"{inline_prefix(page, SiteOfService)}-0-DELETE"] = "on"
    response = login(editor).post(url, data)
    assert "only a reviewer can remove it" in page_errors(response)
    assert SiteOfService.objects.filter(pk=site.pk, state=WorkflowState.PUBLISHED).exists()


def test_approval_from_the_queue_publishes_the_catalogue_parts(code, editor, reviewer, login):
    add_every_part_on_the_code_page(login(editor), code)
    login(editor).post("/admin/review/33361/transition/", {"action": "submit"})
    diff = login(reviewer).get("/admin/review/33361/").content.decode()
    assert "hybrid operating room" in diff and "cath lab" in diff
    response = login(reviewer).post("/admin/review/33361/transition/", {"action": "approve"}, follow=True)
    assert "was approved and published" in messages_of(response)
    assert not SiteOfService._base_manager.filter(code=code, state__in=[WorkflowState.DRAFT, "in_review"]).exists()
    assert CodeDiagnosis.objects.published().filter(code=code).count() == 1


def test_a_draft_site_does_not_close_the_missing_site_gap(editor):
    code = BillingCodeFactory(code="33362")
    CodeBriefFactory(code=code)
    SiteOfServiceFactory(code=code, state=WorkflowState.DRAFT)
    detect_gaps(code_ids=[code.pk])
    assert FollowUpGap.objects.filter(code=code, category=GapCategory.SITE_OF_SERVICE).exists()


def test_a_new_draft_cannot_repeat_a_published_row_but_a_revision_can(code):
    published = SiteOfService.objects.get(code=code)
    revision = SiteOfService(
        code=code, place_of_service=published.place_of_service, revision_of=published, state=WorkflowState.DRAFT
    )
    revision.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        SiteOfService(code=code, place_of_service=published.place_of_service, state=WorkflowState.DRAFT).save()


@pytest.mark.django_db(transaction=True)
def test_rows_curated_before_review_stay_published_after_the_migration():
    with upgraded_from("codes", "0011_i13_diagnosis_description_trigram_index") as old:
        code = old.get_model("codes", "BillingCode").objects.create(system="CPT", code="33361", short_descriptor="x")
        place = old.get_model("codes", "PlaceOfService").objects.create(code="21", name="Inpatient", setting="facility")
        old.get_model("codes", "SiteOfService").objects.create(code=code, place_of_service=place)
        old.get_model("codes", "ModifierGuidance").objects.create(code=code, when_to_use="Bare")
    assert list(SiteOfService.objects.values_list("state", flat=True)) == [WorkflowState.PUBLISHED]
    assert list(ModifierGuidance.objects.values_list("state", flat=True)) == [WorkflowState.PUBLISHED]
    # New rows start as drafts.
    new = SiteOfService.objects.create(code_id=code.pk, place_of_service=PlaceOfServiceFactory(code="22"))
    assert new.state == WorkflowState.DRAFT
    assert BillingCode.objects.get(code="33361").sites_of_service.count() == 2


def test_draft_parts_do_not_make_the_brief_complete(code):
    ModifierGuidanceFactory(code=code, modifier=None, state=WorkflowState.DRAFT)
    CodeDiagnosisFactory(code=code, state=WorkflowState.DRAFT)
    missing = completeness_report(code).missing
    assert "Modifier guidance" in missing and "Diagnosis coding" in missing
    ModifierGuidance.objects.filter(code=code).update(state=WorkflowState.PUBLISHED)
    assert "Modifier guidance" not in completeness_report(code).missing


def test_the_code_page_shows_a_revision_in_place_of_its_published_row(code, editor, login):
    """After the workspace save, the site row on the code's page is the draft revision (edited again in
    place), not the published row beside it, which could not take a second revision."""
    add_every_part_on_the_code_page(login(editor), code)
    page = login(editor).get(admin_url(code, "change"))
    sites = next(i.formset for i in page.context["inline_admin_formsets"] if i.formset.model is SiteOfService)
    notes = sorted(form.instance.setting_note for form in sites.forms)
    assert notes == ["", "hybrid operating room"]
    data = form_data(page)
    prefix = inline_prefix(page, SiteOfService)
    row = next(i for i, form in enumerate(sites.forms) if form.instance.setting_note)
    data[f"{prefix}-{row}-setting_note"] = "hybrid operating room, structural heart"
    response = login(editor).post(admin_url(code, "change"), data)
    assert response.status_code == 302, page_errors(response)
    assert (
        SiteOfService._base_manager.filter(code=code, state=WorkflowState.DRAFT, revision_of__isnull=False)
        .get()
        .setting_note
        == "hybrid operating room, structural heart"
    )
