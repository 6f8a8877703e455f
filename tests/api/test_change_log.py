"""The change log: written with every change of published data, numbered in commit order."""

import threading

import pytest
import tablib
from django.db import connection, transaction

from codes.models import DiagnosisCode
from codes.resources import DiagnosisCodeResource
from payers.models import Payer
from policyhub import revisions, workflow
from policyhub.changelog import ChangeLogEntry, assign_positions, newest_change
from policyhub.roles import EDITOR, REVIEWER, assign_role, sync_roles
from tests.factories import CoverageCriterionFactory, PayerFactory
from tests.imports.conftest import FIXTURES, run

FEED = "/api/v1/changes/"


def _entries(after: int) -> list[tuple]:
    assign_positions()  # as every read of the log does
    return list(
        ChangeLogEntry.objects.filter(position__gt=after).order_by("position").values_list("resource", "key", "action")
    )


@pytest.mark.django_db
def test_import_writes_one_entry_per_changed_row():
    """An ICD-10-CM release writes an entry per code it creates, rewords or terminates; an
    unchanged release writes none."""
    run("import_icd10cm", FIXTURES / "icd10cm_order_2030.txt")
    assert len(_entries(0)) == DiagnosisCode.objects.count() == 10
    start = newest_change()[0]
    run("import_icd10cm", FIXTURES / "icd10cm_order_2031.txt")
    assert sorted(_entries(start)) == [
        ("diagnosis-codes", "I340", "upserted"),
        ("diagnosis-codes", "QA00", "upserted"),
        ("diagnosis-codes", "Z9989", "upserted"),
    ]
    start = newest_change()[0]
    run("import_icd10cm", FIXTURES / "icd10cm_order_2031.txt")
    assert _entries(start) == []


@pytest.mark.django_db
def test_an_admin_import_writes_an_entry_per_row_and_its_preview_none():
    """Admin imports record their rows once at the end of the import, inside its transaction: each
    imported code is in the log after the import, and a preview (dry run) leaves nothing."""
    dataset = tablib.Dataset(headers=["code", "description", "is_billable"])
    for code in ("I340", "I350", "T82857A"):
        dataset.append([code, f"Diagnosis {code}", "1"])
    start = newest_change()[0]
    preview = DiagnosisCodeResource().import_data(dataset, dry_run=True)
    assert preview.totals["new"] == 3 and _entries(start) == []
    result = DiagnosisCodeResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert sorted(_entries(start)) == [("diagnosis-codes", code, "upserted") for code in ("I340", "I350", "T82857A")]


@pytest.fixture
def curators(django_user_model):
    sync_roles()
    users = []
    for name, role in (("erin", EDITOR), ("rita", REVIEWER)):
        user = django_user_model.objects.create_user(username=name, password="pw-curator-123")
        assign_role(user=user, role=role)
        users.append(user)
    return users


@pytest.mark.django_db
def test_workflow_publishes_and_retires_through_the_log(curators):
    """Drafts write nothing; approving a revision upserts the published row (never the revision);
    retiring removes it."""
    editor, reviewer = curators
    criterion = CoverageCriterionFactory()
    start = newest_change()[0]
    revision = revisions.start_revision(item=criterion, by=editor, changes={"criteria": "Reworded"})
    workflow.submit_for_review(item=revision, by=editor)
    assert _entries(start) == []
    workflow.approve(item=revision, by=reviewer)
    assert _entries(start) == [("coverage-criteria", str(criterion.pk), "upserted")]
    criterion.refresh_from_db()
    workflow.retire(item=criterion, by=reviewer)
    assert _entries(start)[1:] == [("coverage-criteria", str(criterion.pk), "removed")]


@pytest.mark.django_db
def test_links_added_or_removed_without_a_save_change_the_linking_row():
    """`criterion.diagnosis_codes.add(dx)` saves neither row, yet the criterion's answer changes:
    from either side, by add, remove or clear; a draft's links write nothing."""
    criterion = CoverageCriterionFactory()
    draft = CoverageCriterionFactory(state="draft")
    dx = DiagnosisCode.objects.create(code="I350", description="Aortic stenosis")
    start = newest_change()[0]
    mine = ("coverage-criteria", str(criterion.pk), "upserted")

    criterion.diagnosis_codes.add(dx)
    draft.diagnosis_codes.add(dx)
    assert _entries(start) == [mine]
    start = newest_change()[0]
    dx.coverage_criteria.remove(criterion)
    assert _entries(start) == [mine]
    criterion.diagnosis_codes.add(dx)
    start = newest_change()[0]
    dx.coverage_criteria.clear()
    assert _entries(start) == [mine]
    criterion.diagnosis_codes.set([dx])
    start = newest_change()[0]
    criterion.diagnosis_codes.clear()
    assert _entries(start) == [mine]


@pytest.mark.django_db
def test_rolled_back_change_leaves_no_entry():
    """The entry commits with the change or not at all."""
    payer = PayerFactory()
    start = newest_change()[0]
    with pytest.raises(RuntimeError), transaction.atomic():
        payer.name = "Renamed, then rolled back"
        payer.save()
        raise RuntimeError
    assert _entries(start) == []
    assert ChangeLogEntry.objects.filter(position__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_transaction_committing_late_is_delivered_once(api_client):
    """A slow transaction writes first and commits after a fast one: the fast change is served at
    once, the slow one only after its commit, above the position the client already holds, and
    each exactly once. (PostgreSQL numbers entries after commit; SQLite's write lock at BEGIN
    would make the fast writer wait instead.)"""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite orders writers by its write lock: no transaction can commit late")
    slow_payer, fast_payer = PayerFactory(slug="slow"), PayerFactory(slug="fast")
    start = api_client.get(FEED).json()["change_position"]
    written, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                payer = Payer.objects.get(pk=slow_payer.pk)
                payer.name = "Slow Health"
                payer.save()
                written.set()
                assert release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert written.wait(30)
    fast_payer.name = "Fast Health"
    fast_payer.save()

    first = api_client.get(FEED, {"after": start}).json()
    assert [(row["key"], row["action"]) for row in first["results"]] == [("fast", "upserted")]
    held = first["change_position"]
    release.set()
    thread.join(30)

    second = api_client.get(FEED, {"after": held}).json()
    assert [row["key"] for row in second["results"]] == ["slow"]
    assert second["results"][0]["position"] > held
    assert api_client.get(FEED, {"after": second["change_position"]}).json()["results"] == []
    slow_entry, fast_entry = (ChangeLogEntry.objects.filter(key=key).latest("id") for key in ("slow", "fast"))
    assert slow_entry.id < fast_entry.id  # written first, committed last: ids alone would have skipped it
    assert slow_entry.position > fast_entry.position
