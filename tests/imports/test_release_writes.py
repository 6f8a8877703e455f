"""How release imports write: rows as the model would create them, and history that mirrors each row.

The importers write without model instances (COPY / executemany) and copy history rows in SQL, so
these tests hold them to what a save through the ORM and simple-history would have produced.
"""

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.utils import timezone

from codes.choices import CodeStatus
from codes.importers import bulk_sync
from codes.importers.hcpcs import import_hcpcs
from codes.importers.icd10cm import import_icd10cm
from codes.importers.writers import insert_rows
from codes.models import BillingCode, DiagnosisCode, Modifier
from policyhub.versioning import UNINTERESTING_FIELDS

pytestmark = pytest.mark.django_db

ORDER_2030 = "icd10cm_order_2030.txt"
ORDER_2031 = "icd10cm_order_2031.txt"


def row_values(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def history_values(record, model) -> dict:
    return {field.attname: getattr(record, field.attname) for field in model._meta.concrete_fields}


def test_created_rows_carry_the_models_defaults_and_one_matching_history_row(fixtures_dir):
    """Every field the file does not give is what `DiagnosisCode()` would hold; the '+' history row
    is the row itself, with the importing user, the release as reason and the row's own time."""
    user = User.objects.create_user("analyst")
    run = import_icd10cm(fixtures_dir / ORDER_2030, user=user)

    code = DiagnosisCode.objects.get(code="I2510")
    assert code.version == DiagnosisCode().version == 1
    assert code.status == CodeStatus.ACTIVE
    assert code.created_at == code.updated_at and code.created_at <= timezone.now()
    assert code.changed_by == user and code.release == run.release
    (record,) = code.history.all()
    assert record.history_type == "+"
    assert record.history_user == user
    assert record.history_change_reason == run.reason
    assert history_values(record, DiagnosisCode) == row_values(code)
    assert DiagnosisCode.history.count() == DiagnosisCode.objects.count() == 10


def test_changed_and_terminated_rows_get_a_history_row_of_their_new_state(fixtures_dir):
    """The next release's change and termination each add a '~' row equal to the row after it,
    and the history page's field-level difference names what the release changed."""
    import_icd10cm(fixtures_dir / ORDER_2030)
    import_icd10cm(fixtures_dir / ORDER_2031)

    for code, changed in (("I340", {"description"}), ("Z9989", {"status", "termination_date"})):
        row = DiagnosisCode.objects.get(code=code)
        newest, previous = row.history.order_by("-history_date", "-history_id")[:2]
        assert (newest.history_type, previous.history_type) == ("~", "+")
        assert history_values(newest, DiagnosisCode) == row_values(row)
        assert row.version == 2
        delta = newest.diff_against(previous)
        assert set(delta.changed_fields) - UNINTERESTING_FIELDS - {"release"} == changed
    untouched = DiagnosisCode.objects.get(code="I2510")
    assert untouched.history.count() == 1 and untouched.version == 1


def test_history_of_created_rows_is_complete_across_history_batches(fixtures_dir, monkeypatch):
    """Creation history is written in large batches; every row gets exactly one, whatever the size."""
    monkeypatch.setattr(bulk_sync, "HISTORY_BATCH_SIZE", 3)
    monkeypatch.setattr(bulk_sync, "BATCH_SIZE", 2)
    import_hcpcs(fixtures_dir / "hcpcs/HCPC2030_CONTR_ANWEB_fixture.txt")

    for model in (BillingCode, Modifier):
        ids = list(model.objects.values_list("id", flat=True))
        recorded = sorted(model.history.filter(history_type="+").values_list("id", flat=True))
        assert recorded == sorted(ids)
    assert BillingCode.objects.count() == 6


def test_a_dry_run_leaves_no_history_behind(fixtures_dir):
    import_icd10cm(fixtures_dir / ORDER_2030, dry_run=True)
    assert DiagnosisCode.objects.count() == 0 and DiagnosisCode.history.count() == 0


def test_a_record_naming_a_field_the_model_lacks_is_refused():
    """A typo in an importer's record is a programming error that must not pass silently."""
    with pytest.raises(FieldDoesNotExist, match="no field descripton"):
        insert_rows(DiagnosisCode, [{"code": "A00", "descripton": "Cholera"}], when=timezone.now())
    assert not DiagnosisCode.objects.exists()


def test_rows_added_after_an_import_take_new_ids(fixtures_dir):
    """The import takes its ids from the table's sequence, so a curator's next row cannot collide."""
    import_icd10cm(fixtures_dir / ORDER_2030)
    highest = max(DiagnosisCode.objects.values_list("id", flat=True))
    added = DiagnosisCode.objects.create(code="M9999", description="Added by a curator")
    assert added.id > highest
    import_icd10cm(fixtures_dir / ORDER_2031)
    assert DiagnosisCode.objects.get(code="QA00").id > added.id


@pytest.mark.skipif(connection.vendor != "postgresql", reason="table locks are PostgreSQL's; SQLite locks the file")
def test_an_import_keeps_other_writers_off_the_tables_it_writes(fixtures_dir, monkeypatch):
    """While rows are written, the table is locked against writes (readers are not blocked)."""
    held = []

    def spy(model, rows, *, when):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = %s::regclass AND granted",
                [model._meta.db_table],
            )
            held.extend(row[0] for row in cursor.fetchall())
        return original(model, rows, when=when)

    original = bulk_sync.insert_rows
    monkeypatch.setattr(bulk_sync, "insert_rows", spy)
    import_icd10cm(fixtures_dir / ORDER_2030)
    assert "ExclusiveLock" in held
