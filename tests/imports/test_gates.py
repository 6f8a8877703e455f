"""The import gates: files cut short, older releases and mass terminations are refused before
anything is kept, naming the file and line; the legitimate paths still load."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from codes.choices import CodeStatus, CodeSystem
from codes.importers.hcpcs import import_hcpcs
from codes.models import BillingCode, CodeSetRelease, DiagnosisCode, PlaceOfService
from tests.imports.checksums import table_checksums
from tests.imports.conftest import run

pytestmark = pytest.mark.django_db

HCPCS_2026 = "hcpcs_2026_jan.csv"
HCPCS_2019 = ("cms-hcpcs-2019", "HCPC2019_CONTR_ANWEB.txt")
HCPCS_2018 = ("cms-hcpcs-2018", "HCPC2018_CONTR_ANWEB_disc.txt")


def refused(command: str, path, *args, match: str) -> str:
    """Run an import that must be refused; returns the message after checking not a row changed."""
    before = table_checksums()
    with pytest.raises(CommandError, match=match) as refusal:
        run(command, path, *args)
    assert table_checksums() == before
    return str(refusal.value)


def cut(source, target, *, keep_bytes: int):
    target.write_bytes(source.read_bytes()[:keep_bytes])
    return target


def test_hcpcs_file_cut_mid_line_is_refused_naming_its_last_line(shared_data, tmp_path):
    """The 2019 fixed-width release cut inside a record: refused with the file and the cut line."""
    source = shared_data.joinpath(*HCPCS_2019)
    data = source.read_bytes()
    path = cut(source, tmp_path / source.name, keep_bytes=data.index(b"\r\n", len(data) // 2) - 40)
    lines = path.read_bytes().count(b"\n") + 1

    message = refused("import_hcpcs", path, match=rf"{path.name}, line {lines}: the last line has no line end")
    assert "cut short" in message
    assert not BillingCode.objects.exists()


def test_order_file_cut_mid_line_keeps_the_last_description_whole(fixtures_dir, tmp_path):
    """An ICD-10-CM order file cut inside its last line: refused, the earlier release left as it was."""
    run("import_icd10cm", fixtures_dir / "icd10cm_order_2030.txt")
    source = fixtures_dir / "icd10cm_order_2031.txt"
    path = cut(source, tmp_path / source.name, keep_bytes=len(source.read_bytes()) - 30)

    refused("import_icd10cm", path, match=rf"{path.name}, line 10: the last line has no line end")
    assert DiagnosisCode.objects.filter(status=CodeStatus.TERMINATED).count() == 0


def test_order_file_with_a_gap_in_its_order_numbers_is_refused(fixtures_dir, tmp_path):
    """Order numbers run one by one: a line lost in the middle names where the numbering jumps."""
    lines = (fixtures_dir / "icd10cm_order_2031.txt").read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "icd10cm_order_2031.txt"
    path.write_text("".join(lines[:4] + lines[5:]), encoding="utf-8")

    refused(
        "import_icd10cm",
        path,
        match=r"line 5, field 'order number': order number 6 follows 4: the numbers run one by one, so lines are "
        "missing",
    )


def test_place_of_service_file_cut_inside_a_quoted_field_is_refused(shared_data, tmp_path):
    """Cut inside code 41's quoted description: refused; 41 keeps its full description."""
    source = shared_data / "place_of_service.csv"
    run("import_pos", source)
    text = source.read_bytes()
    start = text.index(b"\n41,")
    quote = text.index(b'"', start)
    path = cut(source, tmp_path / source.name, keep_bytes=quote + 40)
    line = text[:start].count(b"\n") + 2
    description = PlaceOfService.objects.get(code="41").description

    refused("import_pos", path, match=rf"{path.name}, line {line}: the last line has no line end")
    assert PlaceOfService.objects.get(code="41").description == description


def test_quoted_field_left_open_at_a_line_end_is_refused(shared_data, tmp_path):
    """A quoted field spanning lines, cut right after one of its line ends: the quote never closes."""
    source = shared_data / "place_of_service.csv"
    run("import_pos", source)
    text = source.read_bytes()
    quote = text.index(b'"', text.index(b"\n41,"))
    path = tmp_path / source.name
    path.write_bytes(text[: quote + 30] + b"\n")
    line = path.read_bytes().count(b"\n")

    message = refused("import_pos", path, match=rf"{path.name}, line {line}: the file ends inside a quoted field")
    assert "cut short" in message


def test_release_cut_at_a_line_boundary_stops_before_terminating_and_lists_codes(shared_data, tmp_path):
    """hcpcs_2026_jan.csv cut at a line boundary would terminate thousands of codes: the import stops
    with the counts and the first 20 codes, exit status 1, nothing written; a dry run says the same."""
    source = shared_data / HCPCS_2026
    run("import_hcpcs", source)
    data = source.read_bytes()
    path = cut(source, tmp_path / HCPCS_2026, keep_bytes=data.index(b"\n", len(data) * 6 // 10) + 1)

    message = refused("import_hcpcs", path, match=r"billing codes: \d+ of \d+ active would be terminated")
    assert "more than the 2% allowed" in message and "--accept-terminations" in message
    assert len(message.split("first 20: ")[1].split(".")[0].split()) == 20
    with pytest.raises(CommandError, match="the real import would stop"):
        call_command("import_hcpcs", str(path), "--dry-run", stdout=(out := StringIO()), stderr=StringIO())
    assert "terminated: " in out.getvalue() and "Dry run: nothing was written." in out.getvalue()


def test_accepted_terminations_go_ahead_with_the_release_date(shared_data, tmp_path, settings):
    """--accept-terminations lets a person go ahead; each code the release dropped is terminated on
    the release's effective date (the file has none for them)."""
    source = shared_data / HCPCS_2026
    run("import_hcpcs", source)
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / HCPCS_2026
    path.write_text("".join(lines[:-400]), encoding="utf-8")
    dropped = [line.split(",")[0] for line in lines[-400:] if line.rstrip().endswith(",1")]

    output = run("import_hcpcs", path, "--accept-terminations")

    assert f"{len(dropped)} terminated" in output
    ended = BillingCode.objects.filter(code__in=dropped)
    assert {(code.status, str(code.termination_date)) for code in ended} == {(CodeStatus.TERMINATED, "2026-01-01")}


def test_older_release_is_refused_and_allowed_older_keeps_newer_codes(shared_data):
    """2019 over 2026 is refused; with --allow-older it adds what only 2019 has (its modifiers) and
    leaves every code 2026 loaded (descriptors, status) as it was."""
    run("import_hcpcs", shared_data / HCPCS_2026)
    g0501 = BillingCode.objects.get(code="G0501").long_descriptor
    from_2026 = {code.code: (code.long_descriptor, code.status) for code in BillingCode.objects.all()}

    message = refused(
        "import_hcpcs", shared_data.joinpath(*HCPCS_2019), match=r"HCPC2019_CONTR_ANWEB.txt: this release"
    )
    assert "older than HCPCS 2026 January (effective 2026-01-01)" in message and "--allow-older" in message

    output = run("import_hcpcs", shared_data.joinpath(*HCPCS_2019), "--allow-older")

    # 2026 lists every 2019 code (terminated ones too) but no modifiers: only the modifiers are new.
    assert "billing codes: 0 created, 0 updated, 0 with new descriptors, 6440 unchanged, 0 terminated" in output
    assert "modifiers: 360 created" in output
    assert "6440 billing codes last written by a newer release were left as they are" in output
    assert BillingCode.objects.get(code="G0501").long_descriptor == g0501
    now = {code.code: (code.long_descriptor, code.status) for code in BillingCode.objects.filter(code__in=from_2026)}
    assert now == from_2026


def test_dry_run_counts_are_the_real_runs(shared_data):
    """2018 then 2019: the dry run's counts and listed codes equal what the real run then records."""
    import_hcpcs(shared_data.joinpath(*HCPCS_2018))
    dry = import_hcpcs(shared_data.joinpath(*HCPCS_2019), dry_run=True)
    real = import_hcpcs(shared_data.joinpath(*HCPCS_2019))

    assert dry.summary() == real.summary() == CodeSetRelease.objects.get(name="HCPCS 2019").counts
    assert dry.changes() == real.changes()
    assert dry.summary()["billing codes"]["terminated"] == 32


def test_annual_update_dates_the_codes_it_drops(shared_data):
    """The legitimate 2018 → 2019 update passes the gates; the two codes 2019 drops end on 2019-01-01."""
    run("import_hcpcs", shared_data.joinpath(*HCPCS_2018))
    run("import_hcpcs", shared_data.joinpath(*HCPCS_2019))

    dropped = BillingCode.objects.filter(code__in=["G9976", "G9977"], system=CodeSystem.HCPCS)
    assert {str(code.termination_date) for code in dropped} == {"2019-01-01"}
    assert not BillingCode.objects.filter(status=CodeStatus.TERMINATED, termination_date__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_release_at_once(shared_data):
    """Two processes' worth of imports of one file at the same moment: one loads it, the other waits,
    then reports it already imported and writes nothing; no traceback."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections to one test database need PostgreSQL")
    path = shared_data.joinpath(*HCPCS_2019)
    start = threading.Barrier(2)
    outputs, errors = [], []

    def importer():
        out = StringIO()
        try:
            start.wait()
            call_command("import_hcpcs", str(path), stdout=out, stderr=StringIO())
            outputs.append(out.getvalue())
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=importer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted("Import complete." in output for output in outputs) == [False, True]
    second = next(output for output in outputs if "Import complete." not in output)
    assert "Already imported (release 'HCPCS 2019'" in second and "Nothing changed" in second
    assert CodeSetRelease.objects.count() == 1


def test_bundled_release_cut_short_is_refused_at_its_line(tmp_path, monkeypatch):
    """A damaged package copy of the tabular list (cut mid-file) is refused naming the file and line."""
    from codes.importers import icd10cm

    tabular, code_list = icd10cm.bundled_files()
    cut_tabular = cut(tabular, tmp_path / tabular.name, keep_bytes=200_000)
    monkeypatch.setattr(icd10cm, "bundled_files", lambda: (cut_tabular, code_list))
    line = cut_tabular.read_bytes().count(b"\n") + 1

    message = refused("import_icd10cm", "--limit", "100000", match=rf"{tabular.name}, line {line}: the tabular list")
    assert "cut short" in message
