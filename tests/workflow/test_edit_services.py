"""The edit rules hold for any caller, not only the admin: `revisions.save_edit` and `revisions.revert`."""

import pytest

from codes.models import CodeBrief
from policyhub.choices import WorkflowState
from policyhub.revisions import revert, save_edit
from tests.factories import CodeBriefFactory

pytestmark = pytest.mark.django_db


def test_saving_published_content_starts_a_revision(editor):
    """An edit of a published brief leaves it as it was and puts the new text in a draft revision."""
    published = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="Old headline")

    revision = save_edit(item=published, by=editor, changes={"headline": "New headline"}, reason="Clearer")

    assert revision.pk != published.pk
    assert (revision.state, revision.revision_of_id, revision.headline) == (
        WorkflowState.DRAFT,
        published.pk,
        "New headline",
    )
    assert CodeBrief.objects.get(pk=published.pk).headline == "Old headline"


def test_saving_a_draft_changes_it_in_place(editor):
    """A draft is edited directly and its version goes up."""
    draft = CodeBriefFactory(state=WorkflowState.DRAFT, headline="Old headline")
    version = draft.version

    saved = save_edit(item=draft, by=editor, changes={"headline": "New headline"})

    stored = CodeBrief.objects.get(pk=draft.pk)
    assert saved.pk == draft.pk
    assert (stored.headline, stored.version) == ("New headline", version + 1)


def test_reverting_a_draft_restores_the_old_values_as_a_new_change(editor):
    """Revert writes the old values as a new version; the history keeps every step."""
    draft = CodeBriefFactory(state=WorkflowState.DRAFT, headline="First")
    first = draft.history.latest()
    save_edit(item=draft, by=editor, changes={"headline": "Second"})

    reverted = revert(item=draft, by=editor, values={"headline": "First"}, version_date=first.history_date)

    assert CodeBrief.objects.get(pk=draft.pk).headline == "First"
    assert reverted.history.count() == 3
    assert reverted.history.latest().history_change_reason.startswith("Reverted to the version of")


def test_reverting_to_the_current_values_changes_nothing(editor):
    draft = CodeBriefFactory(state=WorkflowState.DRAFT, headline="Same")

    assert revert(item=draft, by=editor, values={"headline": "Same"}, version_date=draft.updated_at) is None
    assert draft.history.count() == 1


def test_reverting_published_content_starts_a_revision(editor):
    """A published brief keeps its text until a reviewer approves the reverting revision."""
    published = CodeBriefFactory(state=WorkflowState.PUBLISHED, headline="Current")

    revision = revert(item=published, by=editor, values={"headline": "Older"}, version_date=published.updated_at)

    assert (revision.revision_of_id, revision.headline) == (published.pk, "Older")
    assert CodeBrief.objects.get(pk=published.pk).headline == "Current"
