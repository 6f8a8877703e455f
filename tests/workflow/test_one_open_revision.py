"""At most one open (draft or in-review) revision per published item, enforced by the database, so
concurrent starts cannot make two."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from payers.models import CoverageCriterion
from policyhub.choices import WorkflowState
from policyhub.revisions import start_revision
from policyhub.workflow import WorkflowError
from tests.factories import CodeBriefFactory, CoverageCriterionFactory

THREADS = 20


def test_a_second_open_revision_is_refused_by_the_database(db):
    """Even written without the workflow's check, a second draft revision of one item is refused."""
    published = CodeBriefFactory(state=WorkflowState.PUBLISHED)
    CodeBriefFactory(code=published.code, state=WorkflowState.DRAFT, revision_of=published)
    with pytest.raises(IntegrityError), transaction.atomic():
        CodeBriefFactory(code=published.code, state=WorkflowState.IN_REVIEW, revision_of=published)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_make_exactly_one_revision(editor):
    published = CoverageCriterionFactory(state=WorkflowState.PUBLISHED, criteria="In force")
    barrier = threading.Barrier(THREADS)
    outcomes = []

    def start(n: int):
        try:
            item = CoverageCriterion.objects.get(pk=published.pk)
            barrier.wait()
            start_revision(item=item, by=editor, changes={"criteria": f"Edit {n}"})
            outcomes.append("started")
        except WorkflowError as error:
            outcomes.append(str(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Every start ended in a revision or a WorkflowError: no thread died of another exception.
    assert len(outcomes) == THREADS, outcomes
    assert outcomes.count("started") == 1, outcomes
    assert all("already has" in outcome for outcome in outcomes if outcome != "started")
    assert CoverageCriterion.objects.filter(revision_of=published).count() == 1
