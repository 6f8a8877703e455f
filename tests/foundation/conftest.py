"""Fixtures of the foundation tests; `demo`, `staff_client` and the users come from tests/conftest.py."""

import pytest
from django.contrib.auth.models import Group

from codes.choices import ReleaseKind
from codes.models import BillingCode, DiagnosisCode
from payers.models import CoverageCriterion, Payer
from tests.factories import (
    BenchmarkFactory,
    CodeDiagnosisFactory,
    CodeSetReleaseFactory,
    DocumentationRequirementFactory,
    PolicyDocumentFactory,
)


@pytest.fixture
def curated(demo):
    """The demo data plus at least one row of every model the demo does not fill."""
    header = DiagnosisCode.objects.create(
        code="I251", description="Atherosclerotic heart disease of native coronary artery", is_billable=False
    )
    leaf = DiagnosisCode.objects.create(
        code="I2510", description="Atherosclerotic heart disease of native coronary artery without angina pectoris"
    )
    DiagnosisCode.objects.create(
        code="I25110",
        description="Atherosclerotic heart disease of native coronary artery with unstable angina pectoris",
    )
    code = BillingCode.objects.get(code="93590")
    CodeDiagnosisFactory(code=code, diagnosis=leaf)
    CodeSetReleaseFactory(kind=ReleaseKind.ICD10CM, name="ICD-10-CM FY2026")
    aetna = Payer.objects.get(slug="aetna")
    policy = PolicyDocumentFactory(payer=aetna, number="CPB-0826", title="Paravalvular leak closure")
    criterion = CoverageCriterion.objects.get(code=code, payer=aetna)
    criterion.policy = policy
    criterion.save()
    criterion.diagnosis_codes.add(leaf)
    DocumentationRequirementFactory(code=code, payer=aetna, policy=policy)
    BenchmarkFactory(code=code, payer=None)
    Group.objects.create(name="Reviewers")
    return {"code": code, "aetna": aetna, "policy": policy, "criterion": criterion, "header": header, "leaf": leaf}
