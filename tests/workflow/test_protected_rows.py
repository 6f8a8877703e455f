"""Rows that published content refers to cannot be deleted; the admin says which content uses them."""

import pytest

from codes.models import BillingCode, DiagnosisCode
from payers.models import Payer, PolicyDocument
from policyhub.choices import WorkflowState
from tests.factories import (
    CodeBriefFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    PayerFactory,
    PolicyDocumentFactory,
)
from tests.workflow.adminpages import admin_url

pytestmark = pytest.mark.django_db


def delete_page(client, obj):
    return client.post(admin_url(obj, "delete"), {"post": "yes"})


def bulk_delete(client, model, *objs):
    return client.post(
        admin_url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk for obj in objs], "post": "yes"},
    )


class TestPublishedReferences:
    def test_a_diagnosis_code_of_a_published_criterion_cannot_be_deleted(self, staff_client):
        diagnosis = DiagnosisCodeFactory(code="I340")
        criterion = CoverageCriterionFactory(state=WorkflowState.PUBLISHED)
        criterion.diagnosis_codes.add(diagnosis)

        response = delete_page(staff_client, diagnosis)
        assert response.status_code == 200
        page = response.content.decode()
        assert "is used by the published coverage criterion" in page
        assert DiagnosisCode.objects.filter(pk=diagnosis.pk).exists()
        bulk = bulk_delete(staff_client, DiagnosisCode, diagnosis)
        assert "is used by the published coverage criterion" in bulk.content.decode()
        assert DiagnosisCode.objects.filter(pk=diagnosis.pk).exists()
        assert list(criterion.diagnosis_codes.all()) == [diagnosis]

    def test_a_diagnosis_code_only_drafts_use_can_be_deleted(self, staff_client):
        diagnosis = DiagnosisCodeFactory(code="I341")
        CoverageCriterionFactory(state=WorkflowState.DRAFT).diagnosis_codes.add(diagnosis)
        assert delete_page(staff_client, diagnosis).status_code == 302
        assert not DiagnosisCode.objects.filter(pk=diagnosis.pk).exists()

    def test_a_payer_or_policy_of_published_documentation_cannot_be_deleted(self, staff_client):
        payer = PayerFactory()
        policy = PolicyDocumentFactory(payer=payer)
        requirement = DocumentationRequirementFactory(state=WorkflowState.PUBLISHED, payer=payer, policy=policy)
        assert (
            "is used by the published documentation requirement"
            in delete_page(staff_client, requirement.payer).content.decode()
        )
        bulk_delete(staff_client, Payer, requirement.payer)
        assert Payer.objects.filter(pk=requirement.payer_id).exists()
        bulk_delete(staff_client, PolicyDocument, policy)
        assert PolicyDocument.objects.filter(pk=policy.pk).exists()
        requirement.refresh_from_db()
        assert requirement.policy == policy

    def test_a_code_with_a_published_brief_cannot_be_deleted(self, staff_client):
        brief = CodeBriefFactory(state=WorkflowState.PUBLISHED)
        assert "is used by the published code brief" in delete_page(staff_client, brief.code).content.decode()
        bulk_delete(staff_client, BillingCode, brief.code)
        assert BillingCode.objects.filter(pk=brief.code_id).exists()

    def test_a_refusal_names_a_few_published_rows_not_every_row_that_refers(self, staff_client):
        """A payer that 40,000 criteria use took 48 s and a 6 MB page listing each of them; the
        refusal needs only a few of the published ones to say why."""
        payer = PayerFactory()
        CoverageCriterionFactory.create_batch(12, payer=payer, state=WorkflowState.PUBLISHED)
        page = delete_page(staff_client, payer).content.decode()
        assert page.count("is used by the published coverage criterion") == 5
        assert page.count("<li>") <= 6, "every criterion of the payer was listed"
        assert Payer.objects.filter(pk=payer.pk).exists()
