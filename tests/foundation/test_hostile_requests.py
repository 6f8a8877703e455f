"""Hand-made requests get a clear 400 or message, never a 500: a NUL character (U+0000) in a page's
address, filters or form, and an admin action's selection that names no row.

On PostgreSQL, which refuses NUL in text, a code's page, the admin's list filters and the review
queue answered 500 to such a request, and an admin action ticked with "abc" did everywhere.
"""

import pytest
from django.contrib.admin import helpers
from django.test import Client
from django.test.client import encode_multipart
from django.utils.http import urlencode

from payers.models import CoverageCriterion
from policyhub.choices import WorkflowState
from policyhub.roles import EDITOR, REVIEWER, assign_role
from policyhub.workflow import submit_for_review
from tests.factories import BillingCodeFactory, CoverageCriterionFactory, UserFactory
from tests.workflow.adminpages import admin_url, messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def code():
    return BillingCodeFactory(code="93590")


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("/codes/93%0090/", "the address"),
        ("/codes/?q=93%00", "“q”"),
        ("/gaps/?status=%00open", "“status”"),
        ("/admin/review/93%0090/", "the address"),
        ("/admin/payers/followupgap/?status__exact=%00", "“status__exact”"),
        ("/admin/codes/billingcode/?system__exact=HCPCS%00", "“system__exact”"),
    ],
)
def test_a_nul_character_in_a_page_request_answers_400_saying_where(staff_user, code, url, where):
    client = Client(raise_request_exception=False)
    client.force_login(staff_user)
    response = client.get(url)
    assert response.status_code == 400
    page = response.content.decode()
    assert f"A NUL character (U+0000) came in {where}." in page
    assert "Search the codes" in page  # the site's own layout, not a bare error


def test_the_api_keeps_its_own_answer_per_parameter(reader_client, code):
    response = reader_client.get("/api/v1/coverage-criteria/?payer=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"] == {"payer": ["Null characters are not allowed."]}


@pytest.mark.parametrize("multipart", [False, True])
def test_a_nul_character_in_an_admin_action_comment_changes_nothing(multipart):
    """The comment reaches no form that would clean it: PostgreSQL refused it when saving, a 500."""
    editor, reviewer = UserFactory(username="erin"), UserFactory(username="rita")
    assign_role(user=editor, role=EDITOR)
    assign_role(user=reviewer, role=REVIEWER)
    item = CoverageCriterionFactory(state=WorkflowState.DRAFT)
    submit_for_review(item=item, by=editor)
    client = Client(raise_request_exception=False)
    client.force_login(reviewer)
    data = {"action": "workflow_send_back", helpers.ACTION_CHECKBOX_NAME: [item.pk], "comment": "Fix\x00", "post": "1"}
    url = admin_url(CoverageCriterion, "changelist")
    if multipart:
        boundary = "BoUnDaRy"
        response = client.post(
            url, encode_multipart(boundary, data), content_type=f"multipart/form-data; boundary={boundary}"
        )
    else:
        response = client.post(url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "A NUL character (U+0000) came in “comment”." in response.content.decode()
    assert CoverageCriterion.objects.get(pk=item.pk).state == WorkflowState.IN_REVIEW


def test_an_admin_action_on_a_selection_that_names_no_row_does_nothing_and_says_why(staff_client):
    item = CoverageCriterionFactory(state=WorkflowState.DRAFT)
    response = staff_client.post(
        admin_url(CoverageCriterion, "changelist"),
        {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: [item.pk, "abc"], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response) == (
        "Nothing was done. The selection holds “abc”, which is not a coverage criterion of this list: "
        "reload the list and select again."
    )
    assert CoverageCriterion.objects.filter(pk=item.pk).exists()


def test_other_bad_requests_get_the_plain_400_page(staff_user):
    """Django answers an unknown Host with the same template, without a place to name."""
    client = Client(HTTP_HOST="not-ours.example", raise_request_exception=False)
    response = client.get("/codes/")
    page = response.content.decode()
    assert response.status_code == 400
    assert "PolicyHub could not read this request" in page and "NUL" not in page


def test_history_pages_of_a_key_that_cannot_exist_answer_as_a_missing_row(staff_client):
    """`…/abc/history/` and `…/1/history/abc/` raised in simple-history's query: a 500."""
    item = CoverageCriterionFactory()
    response = staff_client.get(admin_url(CoverageCriterion, "history", "abc"), follow=True)
    assert response.status_code == 200
    assert "coverage criterion with ID “abc” doesn’t exist" in messages_of(response)
    url = admin_url(CoverageCriterion, "changelist") + f"{item.pk}/history/abc/"
    assert Client(raise_request_exception=False).get(url).status_code == 302  # login first
    assert staff_client.get(url).status_code == 404
    assert staff_client.post(url, {}).status_code == 404


def test_a_form_posted_with_a_reference_that_cannot_be_a_key_is_shown_again_with_the_error(staff_client):
    """The criterion's code picker (autocomplete) labelled its selection with a query that raised on "abc"."""
    response = staff_client.post(admin_url(CoverageCriterion, "add"), {"code": "abc", "payer": "abc"})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Select a valid choice" in errors["code"][0] and "Select a valid choice" in errors["payer"][0]
    assert not CoverageCriterion.objects.exists()
