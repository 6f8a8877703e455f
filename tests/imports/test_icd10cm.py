"""import_icd10cm: the CMS order file, and the release bundled in simple-icd-10-cm."""

import pytest
from django.core.management.base import CommandError

from codes.choices import CodeStatus
from codes.importers.icd10cm import read_bundled
from codes.models import CodeSetRelease, DiagnosisCode
from codes.selectors import search_diagnosis_codes
from tests.imports.conftest import run, snapshot

pytestmark = pytest.mark.django_db


def test_order_file_keeps_header_rows_as_not_billable(fixtures_dir):
    """Every record of the order file is a code, headers included, with its order number."""
    output = run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")

    assert "diagnosis codes: 10 created" in output
    header = DiagnosisCode.objects.get(code="I25")
    assert header.is_billable is False and header.order_number == 4
    leaf = DiagnosisCode.objects.get(code="I2510")
    assert leaf.is_billable is True
    assert leaf.short_description == "Athscl heart disease of native coronary artery w/o ang pctrs"
    assert leaf.description == "Atherosclerotic heart disease of native coronary artery without angina pectoris"
    release = CodeSetRelease.objects.get(kind="icd10cm")
    assert release.name == "ICD-10-CM FY2030" and str(release.effective_date) == "2029-10-01"
    assert leaf.release == release and leaf.history.count() == 1


def test_newer_release_terminates_missing_codes_and_reports_changes(fixtures_dir):
    """FY2031 drops Z99.89 (terminated, not deleted), rewords I34.0 and adds QA00."""
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    output = run("import_icd10cm", fixtures_dir / "icd10cm_order_2031.txt")

    assert "diagnosis codes: 1 created, 1 updated, 1 with new descriptors, 8 unchanged, 1 terminated" in output
    assert DiagnosisCode.objects.get(code="Z9989").status == CodeStatus.TERMINATED
    assert DiagnosisCode.objects.get(code="I340").description.endswith("(revised)")
    assert DiagnosisCode.objects.get(code="QA00").display_code == "QA0.0"
    assert DiagnosisCode.objects.count() == 11


def test_reimport_and_dry_run_write_nothing(fixtures_dir):
    """An unchanged release imported again, or any release in a dry run, leaves the database as is."""
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    before = snapshot()
    assert "10 unchanged" in run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    assert "1 terminated" in run("import_icd10cm", fixtures_dir / "icd10cm_order_2031.txt", "--dry-run")
    assert snapshot() == before


def test_curated_codes_outside_any_release_are_left_alone(fixtures_dir):
    """A diagnosis code a curator typed (no release) is not terminated by a release that lacks it."""
    DiagnosisCode.objects.create(code="M9999", description="Curated only")
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    assert DiagnosisCode.objects.get(code="M9999").status == CodeStatus.ACTIVE


def order_line(number, code, flag, short, long):
    return f"{number:05d} {code:<7} {flag} {short:<60} {long}"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [order_line(1, "A00", 0, "Cholera", "Cholera"), order_line(1, "A000", 1, "Cholera", "Cholera")],
            r"line 2, field 'order number': order number 1 follows 1",
        ),
        (
            [order_line(1, "A00", 0, "Cholera", "Cholera"), order_line(2, "A00", 1, "Cholera", "Cholera")],
            r"line 2: duplicate diagnosis code A00 \(first on line 1\)",
        ),
        (
            [order_line(1, "A00", 0, "Cholera", "Cholera"), order_line(2, "A000", 2, "Cholera", "Cholera")],
            r"line 2, field 'billable flag': '2' is neither 1",
        ),
        (
            [order_line(1, "A00", 0, "Cholera", "Cholera"), order_line(2, "A000", 1, "Cholera", "Cholera")[:40]],
            r"line 2: the line does not follow the order-file layout",
        ),
        (
            [order_line(1, "A00", 0, "Cholera", "Cholera"), order_line(2, "a0.00", 1, "Cholera", "Cholera")],
            r"line 2, field 'code': 'a0.00' is not an ICD-10-CM code",
        ),
        (["code,short_description", "A00,Cholera"], r"line 1: not an ICD-10-CM order file"),
        ([], r"the file is empty"),
    ],
    ids=["shuffled", "duplicate", "flag", "truncated", "code", "wrong-kind", "empty"],
)
def test_bad_order_file_is_refused_with_its_line(tmp_path, fixtures_dir, lines, expected):
    """Broken order files fail with the line and field at fault and change nothing."""
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    path = tmp_path / "icd10cm_order_2031.txt"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    before = snapshot()
    with pytest.raises(CommandError, match=expected):
        run("import_icd10cm", path)
    assert snapshot() == before


def test_non_utf8_order_file_names_the_byte(tmp_path):
    """An order file in another encoding is refused with the line and column of the first bad byte."""
    path = tmp_path / "icd10cm_order_2031.txt"
    path.write_bytes((order_line(1, "A00", 0, "Cholera", "Choléra") + "\n").encode("latin-1"))
    with pytest.raises(CommandError, match=r"line 1: byte 0xE9 at column \d+ is not valid utf-8"):
        run("import_icd10cm", path)
    assert DiagnosisCode.objects.count() == 0


def test_bundled_release_slice_loads_without_a_path():
    """Without a path the package's release loads; --limit loads a slice and terminates nothing."""
    output = run("import_icd10cm", "--limit", "300")

    assert "diagnosis codes: 300 created" in output and "no code was terminated" in output
    cholera = DiagnosisCode.objects.get(code="A000")
    assert cholera.description == "Cholera due to Vibrio cholerae 01, biovar cholerae"
    assert cholera.order_number == 2
    assert DiagnosisCode.objects.get(code="A00").is_billable is False
    assert CodeSetRelease.objects.get(kind="icd10cm").source_file.startswith("simple-icd-10-cm")


@pytest.mark.full_release
def test_bundled_release_reads_every_code_once():
    """The bundled FY2026 release holds 98,186 codes, 74,719 billable, seventh characters derived."""
    codes = {}
    billable = 0
    for entry in read_bundled():
        assert entry.code not in codes
        codes[entry.code] = entry
        billable += entry.is_billable
    assert len(codes) == 98186 and billable == 74719
    assert codes["S0000XA"].description == "Unspecified superficial injury of scalp, initial encounter"
    assert codes["S0000"].is_billable is False
    assert codes["I2510"].is_billable is True
    assert "QA0" in codes


@pytest.mark.full_release
def test_full_bundled_release_lands_every_code_exactly_once():
    """The whole FY2026 release in the database: each code once, headers not billable, one history
    row per code; the same release again is compared and writes nothing."""
    output = run("import_icd10cm")

    assert "diagnosis codes: 98186 created" in output
    assert DiagnosisCode.objects.count() == DiagnosisCode.objects.values("code").distinct().count() == 98186
    assert DiagnosisCode.objects.filter(is_billable=True).count() == 74719
    assert DiagnosisCode.history.count() == 98186
    assert DiagnosisCode.objects.get(code="S0000XA").description == (
        "Unspecified superficial injury of scalp, initial encounter"
    )
    before = snapshot()
    assert "98186 unchanged" in run("import_icd10cm")
    assert snapshot() == before
    # Among them, the pickers find a code by its start and by words of its description.
    found = search_diagnosis_codes(DiagnosisCode.objects.all(), "I34.0").values_list("code", flat=True)
    assert list(found) == ["I340"]
    found = search_diagnosis_codes(DiagnosisCode.objects.all(), "insufficiency nonrheumatic mitral")
    assert list(found.values_list("code", flat=True)) == ["I340"]
