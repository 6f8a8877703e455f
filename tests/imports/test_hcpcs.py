"""import_hcpcs: the CMS Alpha-Numeric HCPCS file as CMS ships it, its workbook twin, and CSV."""

import pytest
from django.core.management.base import CommandError

from codes.choices import CodeStatus, CodeSystem, ReleaseKind
from codes.models import BillingCode, CodeCategory, CodeSetRelease, Modifier
from tests.imports.conftest import run, snapshot

pytestmark = pytest.mark.django_db

FIXTURE_2030 = "hcpcs/HCPC2030_CONTR_ANWEB_fixture.txt"
FIXTURE_2031 = "hcpcs/HCPC2031_CONTR_ANWEB_fixture.txt"


def lines_of(path):
    return path.read_bytes().split(b"\r\n")


def write_variant(tmp_path, source, lines, name="HCPC2030_CONTR_ANWEB_bad.txt"):
    path = tmp_path / name
    path.write_bytes(b"\r\n".join(lines))
    return path


def test_fixed_width_release_loads_codes_modifiers_and_reassembled_descriptions(fixtures_dir):
    """The 2030 fixture loads every code and modifier once, with continuation records joined,
    ISO-8859-1 characters intact, the disclaimer skipped and a terminated code kept as terminated."""
    output = run("import_hcpcs", fixtures_dir / FIXTURE_2030)

    assert "billing codes: 6 created" in output
    assert "modifiers: 3 created" in output
    j7100 = BillingCode.objects.get(code="J7100")
    assert j7100.system == CodeSystem.HCPCS
    assert j7100.long_descriptor == (
        "Infusion, dextran 40, 500 ml, solution diluted in a salted and sugared liquid with a long "
        "continuation to read over two records, for the réservoir at 37 °C (µg per ml)"
    )
    assert j7100.short_descriptor == "Dextran 40"
    old = BillingCode.objects.get(code="A9999")
    assert old.status == CodeStatus.TERMINATED
    assert str(old.termination_date) == "2028-12-31"
    assert old.action_code == "D"
    assert str(old.action_effective_date) == "2029-01-01"
    assert BillingCode.objects.get(code="A0021").coverage_code == "I"
    modifier = Modifier.objects.get(code="AD")
    assert modifier.long_description == (
        "Medical supervision by a physician: more than four concurrent anesthesia procedures"
    )
    assert modifier.description == "Md supervision, >4 anes proc"
    release = CodeSetRelease.objects.get(kind=ReleaseKind.HCPCS)
    assert release.name == "HCPCS 2030"
    assert str(release.effective_date) == "2030-01-01"
    assert len(release.checksum) == 64
    assert release.counts["billing codes"]["created"] == 6
    assert j7100.release == release
    assert j7100.history.count() == 1


def test_next_release_reports_adds_changes_and_terminations(fixtures_dir):
    """2030 then 2031: one code added, one descriptor changed, a code terminated by its date and one
    dropped from the file terminated, never deleted; a dropped modifier is terminated too."""
    run("import_hcpcs", fixtures_dir / FIXTURE_2030)
    output = run("import_hcpcs", fixtures_dir / FIXTURE_2031, "-v", "2")

    assert "billing codes: 1 created, 2 updated, 1 with new descriptors, 2 unchanged, 2 terminated" in output, output
    assert "modifiers: 0 created, 0 updated, 0 with new descriptors, 2 unchanged, 1 terminated" in output
    assert "terminated: A4206 Q0001" in output
    assert BillingCode.objects.filter(system=CodeSystem.HCPCS).count() == 7
    assert BillingCode.objects.get(code="Q0001").status == CodeStatus.TERMINATED
    assert BillingCode.objects.get(code="A4206").status == CodeStatus.TERMINATED
    assert Modifier.objects.get(code="ZZ").status == CodeStatus.TERMINATED
    changed = BillingCode.objects.get(code="V5010")
    assert changed.long_descriptor == "Assessment for hearing aid, revised wording"
    assert changed.version == 2
    assert changed.history.first().history_change_reason.startswith("Imported from HCPCS 2031")
    release_2031 = CodeSetRelease.objects.get(name="HCPCS 2031")
    assert release_2031.counts["billing codes"]["terminated"] == 2
    assert changed.release == release_2031
    # Unchanged codes keep the release that last changed them.
    assert BillingCode.objects.get(code="A0021").release.name == "HCPCS 2030"


def test_reimporting_an_unchanged_release_writes_nothing(fixtures_dir):
    """The same file again is compared, reported as unchanged, and leaves every row and history as is."""
    run("import_hcpcs", fixtures_dir / FIXTURE_2030)
    before = snapshot()

    output = run("import_hcpcs", fixtures_dir / FIXTURE_2030)

    assert "6 unchanged" in output and "Nothing changed" in output
    assert snapshot() == before


def test_dry_run_reports_and_writes_nothing(fixtures_dir):
    """--dry-run prints the same counts as a real import and leaves the database empty."""
    before = snapshot()
    output = run("import_hcpcs", fixtures_dir / FIXTURE_2030, "--dry-run")

    assert "billing codes: 6 created" in output and "Dry run: nothing was written." in output
    assert snapshot() == before


def test_curated_fields_survive_a_release(fixtures_dir):
    """A release owns the CMS fields only: a curator's category stays."""
    run("import_hcpcs", fixtures_dir / FIXTURE_2030)
    CodeCategory.objects.create(name="Hearing")
    BillingCode.objects.filter(code="V5010").update(category="Hearing")
    run("import_hcpcs", fixtures_dir / FIXTURE_2031)
    assert BillingCode.objects.get(code="V5010").category == "Hearing"


def test_workbook_twin_loads_like_the_text_file(fixtures_dir, tmp_path):
    """The .xlsx layout (disclaimer rows, header row 'HCPC', continuation rows) gives the same codes."""
    from openpyxl import Workbook

    from codes.importers.hcpcs_files import HcpcsFile

    text = HcpcsFile.open(fixtures_dir / FIXTURE_2030)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["***Disclaimers"])
    sheet.append([])
    header = ["HCPC", "SEQNUM", "RECID", "LONG DESCRIPTION", "SHORT DESCRIPTION", "COV"]
    header += ["TOS1", "TOS2", "TOS3", "TOS4", "TOS5", "ADD DT", "ACT EFF DT", "TERM DT", "ACTION CD"]
    sheet.append(header)
    for _number, line in enumerate(lines_of(fixtures_dir / FIXTURE_2030)[6:], start=1):
        line = line.decode("latin-1")
        if not line.strip():
            continue
        sheet.append(
            [line[:5], line[5:10], line[10], line[11:91].strip(), line[91:119].strip(), line[229].strip()]
            + [line[260:261].strip(), "", "", "", ""]
            + [line[268:276].strip(), line[276:284].strip(), line[284:292].strip(), line[292].strip()]
        )
    path = tmp_path / "HCPC2030_CONTR_ANWEB.xlsx"
    workbook.save(path)

    output = run("import_hcpcs", path)

    assert "billing codes: 6 created" in output and "modifiers: 3 created" in output
    expected = {entry.code: entry.long_description for entry in text.entries()}
    assert {code.code: code.long_descriptor for code in BillingCode.objects.all()} == {
        code: text for code, text in expected.items() if len(code) == 5
    }


def test_csv_release_with_header_row(fixtures_dir):
    """A third-party CSV loads codes with add and termination dates; it leaves modifiers alone."""
    run("import_hcpcs", fixtures_dir / FIXTURE_2030)
    output = run("import_hcpcs", fixtures_dir / "hcpcs_2030_jan_fixture.csv")

    assert "The file lists no modifiers" in output
    assert BillingCode.objects.get(code="A4397").status == CodeStatus.TERMINATED
    assert BillingCode.objects.get(code="G0501").add_date.year == 2017
    assert Modifier.objects.filter(status=CodeStatus.ACTIVE).count() == 3
    # The CSV has no action columns, so the fixed-width file's action codes stay.
    assert BillingCode.objects.get(code="A0021").action_code == "N"


def _bad(lines, index, new):
    lines = list(lines)
    lines[index] = new
    return lines


DISCLAIMER_LINES = 6  # the first record is line 7


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("utf8", r"line 3: the text is UTF-8 encoded"),
        ("utf16", r"UTF-16"),
        ("truncated", r"line 13: the record is 200 characters long; a type 3 record runs to the action code"),
        ("shuffled", r"line 18: continuation record \(type 4\) for J7100 does not follow"),
        ("unsorted", r"line 13: code A0021 follows A4206"),
        ("record_type", r"line 13, field 'record identification code': unknown record type '5'"),
        ("duplicate", r"line 14: duplicate code A4206 \(first on line 13\)"),
        ("bad_date", r"line 12, field 'code added date': '19851301' is not a date \(expected YYYYMMDD\)"),
        ("bad_code", r"line 12, field 'HCPCS code': 'AA021' is not a letter and four digits"),
        ("empty", r"the file is empty"),
        ("wrong_kind", r"no HCPCS record in the first 50 lines"),
    ],
)
def test_bad_input_is_refused_with_its_line_and_leaves_the_database_unchanged(fixtures_dir, tmp_path, case, expected):
    """Each kind of broken file fails with the line (and field) at fault; nothing is written."""
    run("import_hcpcs", fixtures_dir / FIXTURE_2030)
    lines = lines_of(fixtures_dir / FIXTURE_2030)
    first = DISCLAIMER_LINES  # index of line 7
    a0021, a4206, j7100_more = first + 5, first + 6, first + 9
    if case == "utf8":
        path = write_variant(tmp_path, None, [line.decode("latin-1").encode("utf-8") for line in lines])
    elif case == "utf16":
        path = tmp_path / "HCPC2030_utf16.txt"
        path.write_bytes(b"\r\n".join(lines).decode("latin-1").encode("utf-16"))
    elif case == "truncated":
        path = write_variant(tmp_path, None, _bad(lines, a4206, lines[a4206][:200]))
    elif case == "shuffled":
        moved = list(lines)
        moved.insert(first + 11, moved.pop(j7100_more))
        path = write_variant(tmp_path, None, moved)
    elif case == "unsorted":
        swapped = list(lines)
        swapped[a0021], swapped[a4206] = swapped[a4206], swapped[a0021]
        path = write_variant(tmp_path, None, swapped)
    elif case == "record_type":
        path = write_variant(tmp_path, None, _bad(lines, a4206, lines[a4206][:10] + b"5" + lines[a4206][11:]))
    elif case == "duplicate":
        path = write_variant(tmp_path, None, [*lines[: a4206 + 1], lines[a4206], *lines[a4206 + 1 :]])
    elif case == "bad_date":
        line = lines[a0021]
        path = write_variant(tmp_path, None, _bad(lines, a0021, line[:268] + b"19851301" + line[276:]))
    elif case == "bad_code":
        path = write_variant(tmp_path, None, _bad(lines, a0021, b"AA" + lines[a0021][2:]))
    elif case == "empty":
        path = tmp_path / "HCPC2030_empty.txt"
        path.write_bytes(b"")
    else:
        path = tmp_path / "HCPC2030_wrong.txt"
        path.write_bytes((fixtures_dir / "icd10cm_order_2030.txt").read_bytes() * 6)
    before = snapshot()

    with pytest.raises(CommandError, match=expected):
        run("import_hcpcs", path)

    assert snapshot() == before


def test_missing_effective_date_is_asked_for(tmp_path, fixtures_dir):
    """A file whose name does not tell its release needs --effective-date."""
    path = tmp_path / "codes.txt"
    path.write_bytes((fixtures_dir / FIXTURE_2030).read_bytes())
    with pytest.raises(CommandError, match="pass --effective-date"):
        run("import_hcpcs", path)
    output = run("import_hcpcs", path, "--effective-date", "2030-01-01")
    assert "HCPCS 2030-01-01" in output


@pytest.mark.shared_data
def test_cms_2018_then_2019_reports_the_annual_update(shared_data):
    """The real 2019 release after 2018: 237 codes added, 119 new descriptors, 32 codes terminated
    (30 by their termination date, 2 dropped from the file); 7 modifiers added, 4 terminated."""
    run("import_hcpcs", shared_data / "cms-hcpcs-2018" / "HCPC2018_CONTR_ANWEB_disc.txt")
    assert BillingCode.objects.count() == 6205 and Modifier.objects.count() == 354

    output = run("import_hcpcs", shared_data / "cms-hcpcs-2019" / "HCPC2019_CONTR_ANWEB.txt")

    assert "billing codes: 237 created, 437 updated, 119 with new descriptors, 5736 unchanged, 32 terminated" in output
    assert "modifiers: 7 created, 15 updated, 3 with new descriptors, 335 unchanged, 4 terminated" in output
    assert BillingCode.objects.count() == 6442  # 6440 in the file and the 2 it dropped, kept as terminated
    assert Modifier.objects.count() == 361
    assert BillingCode.objects.filter(code__in=["G9976", "G9977"], status=CodeStatus.TERMINATED).count() == 2
    release = CodeSetRelease.objects.get(name="HCPCS 2019")
    assert release.counts["billing codes"]["descriptor changes"] == 119
    g8891 = BillingCode.objects.get(code="G8891")
    assert "(e.g., patients with palliative goals for whom treatment of hypertension" in g8891.long_descriptor


@pytest.mark.shared_data
def test_cms_2019_workbook_holds_every_code_of_the_release(shared_data):
    """The .xlsx twin of 2019 loads its 6,440 codes and 360 modifiers, each exactly once."""
    output = run("import_hcpcs", shared_data / "cms-hcpcs-2019" / "HCPC2019_CONTR_ANWEB.xlsx")
    assert "billing codes: 6440 created" in output and "modifiers: 360 created" in output
