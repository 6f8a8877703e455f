"""Who may maintain the CDS Hooks set-up and read coverage assertions."""

import pytest

from policyhub.roles import EDITOR, REVIEWER, VIEWER

pytestmark = pytest.mark.django_db


def test_editors_map_payer_identifiers_and_reviewers_register_cds_clients(make_user):
    editor, reviewer, viewer = make_user("ed", EDITOR), make_user("rev", REVIEWER), make_user("vi", VIEWER)
    assert editor.has_perm("briefs.add_payeridentifier") and editor.has_perm("briefs.view_coverageassertion")
    assert not editor.has_perm("briefs.change_cdsclient")
    assert reviewer.has_perm("briefs.add_cdsclient") and reviewer.has_perm("briefs.delete_payeridentifier")
    for user in (editor, reviewer, viewer):
        assert not user.has_perm("briefs.change_coverageassertion")
        assert not user.has_perm("briefs.delete_coverageassertion")
    assert not viewer.has_perm("briefs.view_cdsclient")
