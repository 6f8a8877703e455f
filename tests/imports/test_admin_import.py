"""Admin import/export (django-import-export): every format exports, an upload is previewed before it
is confirmed, a file with any bad row writes nothing and says which row and field, history is kept."""

import io
import json
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from codes.models import BillingCode, CodeCategory, DiagnosisCode
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from tests.factories import (
    BenchmarkFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    PolicyDocumentFactory,
)

pytestmark = pytest.mark.django_db

ADMINS = {
    "codes_billingcode": BillingCode,
    "codes_diagnosiscode": DiagnosisCode,
    "payers_payer": Payer,
    "payers_policydocument": PolicyDocument,
    "payers_coveragecriterion": CoverageCriterion,
    "payers_documentationrequirement": DocumentationRequirement,
    "payers_benchmark": Benchmark,
    "payers_followupgap": FollowUpGap,
}
FORMATS = {"csv": "0", "xlsx": "1", "json": "2"}


@pytest.fixture
def catalogue(demo):
    DiagnosisCodeFactory(code="I350", description="Nonrheumatic aortic (valve) stenosis")
    PolicyDocumentFactory(payer=Payer.objects.get(slug="aetna"), number="CPB 0826", title="Paravalvular leak")
    BenchmarkFactory(code=BillingCode.objects.get(code="93590"), payer=None)
    DocumentationRequirementFactory(code=BillingCode.objects.get(code="93590"), payer=None)


def export(client, admin, fmt):
    url = reverse(f"admin:{admin}_export")
    form = client.get(url).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False):
            data[name] = "on" if value is True else value
    data["format"] = FORMATS[fmt]
    return client.post(url, data)


def upload(client, admin, content: bytes, name: str, fmt: str = "csv"):
    """Upload a file; returns the preview page."""
    return client.post(
        reverse(f"admin:{admin}_import"),
        {"resource": "0", "format": FORMATS[fmt], "import_file": SimpleUploadedFile(name, content)},
    )


def confirm(client, admin, preview):
    form = preview.context["confirm_form"]
    return client.post(reverse(f"admin:{admin}_process_import"), form.initial, follow=True)


def csv_of(response) -> str:
    return response.content.decode("utf-8-sig")


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("admin", list(ADMINS))
def test_every_admin_exports_every_format(catalogue, staff_client, admin, fmt):
    response = export(staff_client, admin, fmt)
    assert response.status_code == 200
    assert f".{fmt}" in response["Content-Disposition"]
    rows = ADMINS[admin].objects.count()
    assert rows
    if fmt == "csv":
        assert len(csv_of(response).strip().splitlines()) == rows + 1
    elif fmt == "json":
        assert len(json.loads(response.content)) == rows
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert sheet.max_row == rows + 1


def test_export_uses_natural_keys_not_ids(catalogue, staff_client):
    text = csv_of(export(staff_client, "payers_coveragecriterion", "csv"))
    assert ",93590,aetna," in text


class TestPreviewAndConfirm:
    FILE = (
        "system,code,short_descriptor,long_descriptor,category,is_add_on,status\n"
        "HCPCS,A0021,Outside state ambulance serv,Ambulance service outside state per mile,Transport,0,active\n"
        'CPT,93591,"Percutaneous Aortic Valve Occlusion, First Device",Updated long descriptor,'
        "Cardiovascular / structural heart,0,active\n"
    )

    @pytest.fixture(autouse=True)
    def transport_category(self, db):
        CodeCategory.objects.create(name="Transport")

    def test_preview_shows_the_changes_and_writes_nothing(self, demo, staff_client):
        before = BillingCode.objects.get(code="93591").long_descriptor
        preview = upload(staff_client, "codes_billingcode", self.FILE.encode(), "codes.csv")
        assert preview.status_code == 200
        result = preview.context["result"]
        assert not result.has_errors() and not result.has_validation_errors()
        assert [row.import_type for row in result.rows] == ["new", "update"]
        page = preview.content.decode()
        assert "A0021" in page and "Updated long descriptor" in page
        assert not BillingCode.objects.filter(code="A0021").exists()
        assert BillingCode.objects.get(code="93591").long_descriptor == before

    def test_confirm_writes_with_history_and_the_user(self, demo, staff_client, staff_user):
        preview = upload(staff_client, "codes_billingcode", self.FILE.encode(), "codes.csv")
        done = confirm(staff_client, "codes_billingcode", preview)
        assert done.status_code == 200
        new = BillingCode.objects.get(code="A0021")
        assert new.system == "HCPCS" and new.changed_by == staff_user
        updated = BillingCode.objects.get(code="93591")
        assert updated.long_descriptor == "Updated long descriptor" and updated.version == 2
        record = updated.history.first()
        assert record.history_user == staff_user
        assert record.history_change_reason == "Imported from codes.csv"

    def test_file_of_new_rows_needs_no_id_column(self, demo, staff_client, staff_user):
        content = "payer,document_type,number,title,effective_date\naetna,policy,CPB 0826,PVL closure,2026-01-01\n"
        preview = upload(staff_client, "payers_policydocument", content.encode(), "policies.csv")
        assert [row.import_type for row in preview.context["result"].rows] == ["new"]
        confirm(staff_client, "payers_policydocument", preview)
        policy = PolicyDocument.objects.get(number="CPB 0826")
        assert (policy.payer.slug, policy.effective_date.isoformat(), policy.changed_by) == (
            "aetna",
            "2026-01-01",
            staff_user,
        )

    def test_unchanged_export_reimported_changes_nothing(self, catalogue, staff_client):
        exported = export(staff_client, "codes_billingcode", "xlsx").content
        history = BillingCode.history.count()
        preview = upload(staff_client, "codes_billingcode", exported, "codes.xlsx", fmt="xlsx")
        assert {row.import_type for row in preview.context["result"].rows} == {"skip"}
        confirm(staff_client, "codes_billingcode", preview)
        assert BillingCode.history.count() == history


class TestBadRowsWriteNothing:
    def assert_refused(self, preview, *texts) -> dict:
        """The preview lists the bad rows with their fields, offers no confirm; returns {row: {field: messages}}."""
        assert preview.status_code == 200
        result = preview.context["result"]
        assert result.has_errors() or result.has_validation_errors()
        assert preview.context.get("confirm_form") is None, "a file with errors must not be confirmable"
        assert "Traceback" not in preview.content.decode(), "curators get a message, not a traceback"
        page = preview.content.decode()
        for text in texts:
            assert text in page, f"{text!r} not on the preview page"
        return {row.number: {k: " ".join(v) for k, v in row.error_dict.items()} for row in result.invalid_rows}

    def test_bad_code_and_status_name_row_and_field(self, demo, staff_client):
        content = (
            b"system,code,short_descriptor,status\n"
            b"HCPCS,A0021,Outside state ambulance serv,active\n"
            b"CPT,9359X,Broken code,active\n"
            b"CPT,93599,Unlisted,sometimes\n"
        )
        preview = upload(staff_client, "codes_billingcode", content, "codes.csv")
        errors = self.assert_refused(preview, "sometimes")
        assert set(errors) == {2, 3}
        assert "a HCPCS Level II code is a capital letter and four digits" in str(errors[2])
        assert errors[3] == {"status": "Value 'sometimes' is not a valid choice."}
        assert not BillingCode.objects.filter(code__in=["A0021", "93599"]).exists()

    def test_category_not_on_the_list(self, demo, staff_client):
        content = b"system,code,short_descriptor,category,status\nHCPCS,A0021,Ambulance,Transprot,active\n"
        errors = self.assert_refused(upload(staff_client, "codes_billingcode", content, "codes.csv"), "Transprot")
        assert "“Transprot” is not a code category" in errors[1]["category"]

    def test_duplicate_code_in_the_file(self, demo, staff_client):
        """The second row of the same code is refused, naming the first; nothing is written."""
        content = (
            b"system,code,short_descriptor,status\n"
            b"HCPCS,A0021,One,active\n"
            b"HCPCS,A0022,Other,active\n"
            b"hcpcs,a0021,Two,active\n"
        )
        preview = upload(staff_client, "codes_billingcode", content, "codes.csv")
        errors = self.assert_refused(preview, "is also on row 1")
        assert errors == {3: {"code": "HCPCS A0021 is also on row 1; each billing code may appear once."}}
        assert not BillingCode.objects.filter(code__in=["A0021", "A0022"]).exists()

    def test_duplicate_row_id_in_the_file(self, catalogue, staff_client):
        """Two rows updating the same policy document (same id) would overwrite each other: refused."""
        policy = PolicyDocument.objects.get(number="CPB 0826")
        PolicyDocument.objects.filter(pk=policy.pk).update(state=WorkflowState.DRAFT)  # imports change drafts only
        content = (
            f"id,payer,document_type,number,title,effective_date\n"
            f"{policy.pk},aetna,policy,CPB 0826,First title,2026-01-01\n"
            f"{policy.pk},aetna,policy,CPB 0826,Second title,2026-01-01\n"
        ).encode()
        preview = upload(staff_client, "payers_policydocument", content, "policies.csv")
        errors = self.assert_refused(preview)
        assert list(errors) == [2] and "is also on row 1" in errors[2]["id"]
        assert PolicyDocument.objects.get(pk=policy.pk).title == "Paravalvular leak"

    def test_overlapping_coverage_period(self, demo, staff_client):
        content = (
            b"code,payer,coverage_status,prior_auth,effective_start,state\n"
            b"93590,medicare,covered,not_required,2026-01-01,draft\n"
        )
        count = CoverageCriterion.objects.count()
        preview = upload(staff_client, "payers_coveragecriterion", content, "coverage.csv")
        errors = self.assert_refused(preview)
        assert list(errors) == [1] and "overlap" in str(errors[1])
        assert CoverageCriterion.objects.count() == count

    def test_date_that_does_not_parse(self, demo, staff_client):
        content = (
            b"payer,document_type,number,title,effective_date\n"
            b"aetna,policy,CPB 0826,Paravalvular leak,2026-01-01\n"
            b"aetna,policy,CPB 0999,Other,31/02/2026\n"
        )
        preview = upload(staff_client, "payers_policydocument", content, "policies.csv")
        errors = self.assert_refused(preview)
        assert errors == {2: {"effective_date": "'31/02/2026' is not a date like 2026-01-31."}}
        assert not PolicyDocument.objects.exists()

    def test_unknown_payer(self, demo, staff_client):
        content = b"code,payer,category,description,status,priority\n93590,acme-health,other,Ask,open,2\n"
        count = FollowUpGap.objects.count()
        preview = upload(staff_client, "payers_followupgap", content, "gaps.csv")
        errors = self.assert_refused(preview)
        assert errors == {1: {"payer": "No payer with slug 'acme-health'."}}
        assert FollowUpGap.objects.count() == count

    def test_row_changed_since_export_is_refused(self, demo, staff_client):
        exported = csv_of(export(staff_client, "codes_billingcode", "csv"))
        code = BillingCode.objects.get(code="93591")
        code.short_descriptor = "Edited meanwhile"
        code.version += 1
        code.save()
        edited = exported.replace("Percutaneous Aortic Valve Occlusion, First Device", "My edit")
        preview = upload(staff_client, "codes_billingcode", edited.encode(), "codes.csv")
        self.assert_refused(preview, "changed since this file was exported")
        assert BillingCode.objects.get(code="93591").short_descriptor == "Edited meanwhile"

    def test_wrong_kind_of_file(self, demo, staff_client):
        png = b"\x89PNG\r\n\x1a\n\x00\x00binary"
        preview = upload(staff_client, "codes_billingcode", png, "codes.xlsx", fmt="xlsx")
        assert preview.status_code == 200
        assert preview.context.get("confirm_form") is None
        assert BillingCode.objects.count() == 3


def test_documentation_and_benchmark_import_round_trip(catalogue, staff_client):
    """Exports of the payer-side tables re-import as 'skip' (nothing changed)."""
    for admin in ("payers_documentationrequirement", "payers_benchmark", "payers_payer"):
        exported = export(staff_client, admin, "json").content
        preview = upload(staff_client, admin, exported, "rows.json", fmt="json")
        result = preview.context["result"]
        assert not result.has_errors() and not result.has_validation_errors(), admin
        assert result.rows and {row.import_type for row in result.rows} == {"skip"}, admin


class TestExportLimits:
    """An export is built whole in memory before a byte is sent: all 1M coverage criteria would have
    held a worker some 20 minutes and gigabytes. Whole lists stop at ADMIN_EXPORT_MAX_ROWS; filtered
    lists and selected rows export as before."""

    def test_a_whole_list_past_the_limit_exports_nothing_and_says_how_to_narrow_it(
        self, catalogue, staff_client, settings
    ):
        settings.ADMIN_EXPORT_MAX_ROWS = CoverageCriterion.objects.count() - 1
        response = export(staff_client, "payers_coveragecriterion", "csv")
        assert response.status_code == 302 and "Content-Disposition" not in response
        page = staff_client.get(response["Location"])
        assert (
            f"Nothing was exported: an export takes at most {settings.ADMIN_EXPORT_MAX_ROWS:,} coverage criteria "
            "and more match. Narrow the list with its filters or search first" in page.content.decode()
        )

    def test_a_list_within_the_limit_exports_every_row(self, catalogue, staff_client, settings):
        settings.ADMIN_EXPORT_MAX_ROWS = CoverageCriterion.objects.count()
        response = export(staff_client, "payers_coveragecriterion", "csv")
        assert len(csv_of(response).strip().splitlines()) == CoverageCriterion.objects.count() + 1

    def test_a_filtered_list_within_the_limit_exports_its_rows(self, catalogue, staff_client, settings):
        aetna = Payer.objects.get(slug="aetna")
        settings.ADMIN_EXPORT_MAX_ROWS = CoverageCriterion.objects.filter(payer=aetna).count()
        assert CoverageCriterion.objects.count() > settings.ADMIN_EXPORT_MAX_ROWS
        url = reverse("admin:payers_coveragecriterion_export") + f"?payer__id__exact={aetna.pk}"
        form = staff_client.get(url).context["form"]
        data = {name: "on" if form[name].value() is True else form[name].value() for name in form.fields}
        data = {name: value for name, value in data.items() if value not in (None, False)} | {"format": "0"}
        lines = csv_of(staff_client.post(url, data)).strip().splitlines()
        assert len(lines) == settings.ADMIN_EXPORT_MAX_ROWS + 1
        assert all(",aetna," in line for line in lines[1:])

    def test_an_export_of_chosen_keys_reads_only_those_keys(self, catalogue, staff_client):
        """A post naming `export_items` (what the library's "Export selected" action sends) exports those
        rows; the library checked them against a list of every key of the table (a million)."""
        chosen = list(CoverageCriterion.objects.order_by("pk").values_list("pk", flat=True)[:2])
        form = staff_client.get(reverse("admin:payers_coveragecriterion_export")).context["form"]
        data = {name: "on" if form[name].value() is True else form[name].value() for name in form.fields}
        data = {name: value for name, value in data.items() if value not in (None, False)}
        data |= {"format": "0", "export_items": [str(pk) for pk in chosen]}
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.post(reverse("admin:payers_coveragecriterion_export"), data)
        ids = [row.split(",")[0] for row in csv_of(response).strip().splitlines()[1:]]
        assert ids == [str(pk) for pk in chosen]
        table = CoverageCriterion._meta.db_table
        keys_only = re.compile(r'SELECT "(\w+)"\."id"(?: AS "pk")? FROM ', re.S)
        every_key = [
            sql
            for sql in (q["sql"] for q in queries.captured_queries)
            if (match := keys_only.match(sql)) and match[1] == table and "WHERE" not in sql
        ]
        assert not every_key, "the export read every key of the table to check two"
