"""import_pos, import_rvu and import_mcd: places of service, fee-schedule RVUs, MCD documents."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from codes.choices import CodeStatus, CodeSystem, SettingType
from codes.models import BillingCode, CodeSetRelease, PlaceOfService
from payers.choices import BenchmarkMetric, BenchmarkSetting, PayerKind, PolicyDocumentType
from payers.models import Benchmark, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from tests.factories import BillingCodeFactory
from tests.imports.conftest import run, snapshot

pytestmark = pytest.mark.django_db


def benchmark(code, metric, setting=BenchmarkSetting.ANY):
    return Benchmark.objects.get(code__code=code, metric=metric, setting=setting, payer=None)


def test_places_of_service_load_with_setting_and_curly_apostrophes(fixtures_dir):
    """POS codes keep two digits, their facility setting and the file's typography."""
    output = run("import_pos", fixtures_dir / "place_of_service.csv")

    assert "places of service: 4 created" in output
    assert PlaceOfService.objects.get(code="11").setting == SettingType.NON_FACILITY
    assert PlaceOfService.objects.get(code="02").name == "Telehealth Provided Other than in Patient\u2019s Home"
    before = snapshot()
    assert "4 unchanged" in run("import_pos", fixtures_dir / "place_of_service.csv")
    assert snapshot() == before


def test_bad_place_of_service_setting_names_line_and_field(tmp_path):
    """An unknown setting fails on its line; nothing is written."""
    path = tmp_path / "pos.csv"
    path.write_text("code,name,pfs_setting\n11,Office,Non-Facility\n12,Home,Sometimes\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 3, field 'pfs_setting': 'Sometimes' is neither"):
        run("import_pos", path)
    assert PlaceOfService.objects.count() == 0


def test_rvus_become_national_benchmarks_and_code_flags(fixtures_dir):
    """93590: work 21.70, facility total 31.26, global 000; 93592 is an add-on (ZZZ); a setting the file
    marks NA gets no benchmark; component rows (26) are reported as rejected, not stored."""
    curated = BillingCodeFactory(code="93590", short_descriptor="Percutaneous mitral valve occlusion")
    history_before = curated.history.count()

    output = run("import_rvu", fixtures_dir / "pfs_rvu_2024_jul_fixture.csv")

    assert "1 rows for a code with modifier 26" in output
    assert benchmark("93590", BenchmarkMetric.WORK_RVU).value == Decimal("21.70")
    # Reference data stays outside review: published by the import, naming its release.
    assert set(Benchmark.objects.values_list("state", flat=True)) == {WorkflowState.PUBLISHED}
    assert not Benchmark.objects.filter(release__isnull=True).exists()
    total = benchmark("93590", BenchmarkMetric.TOTAL_RVU, BenchmarkSetting.FACILITY)
    assert total.value == Decimal("31.26")
    assert (total.unit, total.period, total.period_start, total.period_end) == (
        "RVU",
        "2024 Q3",
        date(2024, 7, 1),
        date(2024, 9, 30),
    )
    assert total.source == "CMS PFS PPRRVU July 2024"
    assert total.release == CodeSetRelease.objects.get(kind="rvu")
    payment = benchmark("93590", BenchmarkMetric.PAYMENT_AMOUNT, BenchmarkSetting.FACILITY)
    assert payment.value == Decimal("1040.57")  # 31.26 x 33.2875
    assert not Benchmark.objects.filter(code__code="93590", setting=BenchmarkSetting.NON_FACILITY).exists()
    assert Benchmark.objects.filter(code__code="93306", setting=BenchmarkSetting.NON_FACILITY).count() == 3
    curated.refresh_from_db()
    assert curated.global_days == "000" and curated.mult_proc == "2" and curated.co_surg == "1"
    assert curated.short_descriptor == "Percutaneous mitral valve occlusion"
    assert curated.history.count() == history_before + 1  # the import's change, recorded
    add_on = BillingCode.objects.get(code="93592")
    assert add_on.global_days == "ZZZ" and add_on.is_add_on is True
    assert add_on.system == CodeSystem.CPT and add_on.short_descriptor == ""
    assert BillingCode.objects.get(code="A0021").short_descriptor == "Outside state ambulance serv"


def test_rvu_reimport_writes_nothing(fixtures_dir):
    """The same RVU file again: everything unchanged, no row or history written."""
    run("import_rvu", fixtures_dir / "pfs_rvu_2024_jul_fixture.csv")
    before = snapshot()
    output = run("import_rvu", fixtures_dir / "pfs_rvu_2024_jul_fixture.csv")
    assert "benchmarks: 0 created, 0 updated" in output
    assert snapshot() == before


RVU_93590 = (
    "93590,,A,,21.70,7.80,NA,7.80,,1.76,31.26,31.26,0,000,0.00,0.00,0.00,2,0,2,1,0,,33.2875,09,0,99,"
    "2024-07-01,2024-09-30,"
)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (",21.70,", ",21.7x,", r"line 2, field 'work_rvu': '21.7x' is not a number"),
        (",000,", ",0001,", r"line 2, field 'glob_days': '0001' is not one of"),
        ("93590,", "9359,", r"line 2, field 'hcpcs': '9359' is neither"),
        ("2024-07-01", "07/32/2024", r"line 2, field 'effective_start': '07/32/2024' is not a date"),
        (",2024-09-30,", "", r"line 2: the row has 28 values but the header names 30 columns"),
    ],
    ids=["number", "global-days", "code", "date", "truncated"],
)
def test_bad_rvu_rows_are_refused(tmp_path, fixtures_dir, old, new, expected):
    """A bad value names its line and column; the database is unchanged."""
    header = (fixtures_dir / "pfs_rvu_2024_jul_fixture.csv").read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "rvu.csv"
    path.write_text(f"{header}\n{RVU_93590.replace(old, new, 1)}\n", encoding="utf-8")
    before = snapshot()
    with pytest.raises(CommandError, match=expected):
        run("import_rvu", path)
    assert snapshot() == before


def test_rvu_duplicate_code_and_wrong_file_are_refused(tmp_path, fixtures_dir):
    """A code listed twice, or a file of another kind, fails with where and why."""
    text = (fixtures_dir / "pfs_rvu_2024_jul_fixture.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "rvu.csv"
    path.write_text("\n".join([*text, text[1]]) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 7: duplicate billing code 93590 \(first on line 2\)"):
        run("import_rvu", path)
    with pytest.raises(CommandError, match=r"line 1: the header lacks the column\(s\) hcpcs, modifier"):
        run("import_rvu", fixtures_dir / "place_of_service.csv")
    assert Benchmark.objects.count() == 0 and BillingCode.objects.count() == 0


def test_mcd_documents_become_mac_policy_documents_with_versions(fixtures_dir):
    """Each contractor becomes a MAC payer; versions sit side by side with their dates; a jointly
    published DME article belongs to each of its contractors."""
    output = run("import_mcd", fixtures_dir / "medicare_coverage_documents_fixture.csv")

    assert "payers: 3 created" in output and "policy documents: 5 created" in output
    noridian = Payer.objects.get(name="Noridian Healthcare Solutions, LLC")
    assert noridian.kind == PayerKind.MEDICARE_CONTRACTOR and noridian.slug == "noridian-healthcare-solutions-llc"
    old, current = PolicyDocument.objects.filter(payer=noridian, number="L36668").order_by("document_version")
    assert (old.document_version, old.retirement_date) == (44, date(2025, 8, 13))
    assert (current.document_version, current.effective_date, current.retirement_date) == (
        45,
        date(2025, 8, 14),
        None,
    )
    assert current.document_type == PolicyDocumentType.LCD
    assert current.contractor == "Noridian Healthcare Solutions, LLC (MAC - Part A, MAC - Part B)"
    assert current.source_id == "36668" and "ver=45" in current.url
    joint = PolicyDocument.objects.filter(number="A52464")
    assert sorted(doc.payer.name for doc in joint) == ["CGS Administrators, LLC", "Noridian Healthcare Solutions, LLC"]
    assert all(doc.document_type == PolicyDocumentType.ARTICLE for doc in joint)
    # Reference data from a release: published on import (outside review), readers see it at once.
    assert PolicyDocument.objects.published().count() == 5
    before = snapshot()
    assert "5 unchanged" in run("import_mcd", fixtures_dir / "medicare_coverage_documents_fixture.csv")
    assert snapshot() == before


def test_mcd_bad_dates_are_refused(tmp_path, fixtures_dir):
    """A date that does not parse, or a retirement before the effective date, names line and field."""
    lines = (fixtures_dir / "medicare_coverage_documents_fixture.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "mcd.csv"
    path.write_text("\n".join([lines[0], lines[1].replace("01/01/2025", "2025-13-01"), ""]), encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 2, field 'effective_date': '2025-13-01' is not a date"):
        run("import_mcd", path)
    path.write_text("\n".join([lines[0], lines[2].replace("N/A", "01/01/2020"), ""]), encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 2, field 'retirement_date': the document retires"):
        run("import_mcd", path)
    assert PolicyDocument.objects.count() == 0 and Payer.objects.count() == 0


@pytest.mark.shared_data
def test_real_rvu_file_for_the_structural_heart_codes(shared_data):
    """The July 2024 PPRRVU file: 93590 work 21.70, facility total 31.26, global 000; 93592 ZZZ."""
    output = run("import_rvu", shared_data / "pfs_rvu_2024_jul.csv")

    assert "rejected: 2194" in output
    assert benchmark("93590", BenchmarkMetric.WORK_RVU).value == Decimal("21.70")
    assert benchmark("93590", BenchmarkMetric.TOTAL_RVU, BenchmarkSetting.FACILITY).value == Decimal("31.26")
    assert BillingCode.objects.get(code="93590").global_days == "000"
    assert BillingCode.objects.get(code="93592").global_days == "ZZZ"
    assert BillingCode.objects.get(code="93592").is_add_on is True
    assert BillingCode.objects.count() == 16470


@pytest.mark.shared_data
def test_real_pos_and_mcd_files(shared_data):
    """The CMS POS set (52 codes) and the MCD metadata (3,133 rows, 7 contractors) load whole."""
    run("import_pos", shared_data / "place_of_service.csv")
    assert PlaceOfService.objects.count() == 52
    output = run("import_mcd", shared_data / "medicare_coverage_documents.csv")
    assert "payers: 7 created" in output
    # 3,133 rows, 141 of them published jointly by the two DME MACs.
    assert PolicyDocument.objects.count() == 3133 + 141
    assert Payer.objects.filter(kind=PayerKind.MEDICARE_CONTRACTOR).count() == 7
    assert not PolicyDocument.objects.filter(retirement_date__lt=date(1990, 1, 1)).exists()
    assert BillingCode.objects.filter(status=CodeStatus.TERMINATED).count() == 0
