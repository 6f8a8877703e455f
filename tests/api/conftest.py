"""Fixtures of the API tests: a reader with a token, clients, a dataset where every filter has rows to
keep and rows to drop, and the worlds the coverage check and the CDS Hooks services are asked about."""

import datetime as dt
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.cache import cache
from rest_framework.test import APIClient

from briefs.models import CdsClient, PayerIdentifier
from codes.choices import CodeStatus, CodeSystem, RelationshipKind
from payers.choices import (
    BenchmarkMetric,
    BenchmarkSetting,
    CoverageStatus,
    DocumentationPurpose,
    GapCategory,
    GapPriority,
    GapStatus,
    PayerKind,
    PolicyDocumentType,
    PriorAuth,
)
from policyhub.choices import WorkflowState
from policyhub.models import ApiToken
from tests.api.cds_requests import ISSUER, PAYER_SYSTEM
from tests.factories import (
    BenchmarkFactory,
    BillingCodeFactory,
    CodeBriefFactory,
    CodeDiagnosisFactory,
    CodeRelationshipFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    ModifierFactory,
    ModifierGuidanceFactory,
    PayerFactory,
    PlaceOfServiceFactory,
    PolicyDocumentFactory,
    SiteOfServiceFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def fresh_throttle_counts(request):
    """Throttle counts live in the cache, which may outlive a test's database rollback (Redis).
    Tests of live servers use their own database and cache, and no test database."""
    if not request.node.get_closest_marker("django_db"):
        yield
        return
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_key(reader):
    _, key = ApiToken.objects.issue(user=reader, name="tests")
    return key


@pytest.fixture
def api_client(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key}")
    return client


@pytest.fixture
def anon_client():
    return APIClient()


class Dataset:
    """Named rows of `dataset`; tests compare API keys with these."""


@pytest.fixture
def dataset(db):
    """Two payers, three codes and content of every kind, chosen so each filter keeps some rows and
    drops others. Drafts exist beside published rows and must never show."""
    d = Dataset()
    d.aetna = PayerFactory(name="Aetna", slug="aetna", kind=PayerKind.COMMERCIAL, is_national=True)
    d.medicare = PayerFactory(name="Medicare", slug="medicare", kind=PayerKind.MEDICARE, is_tracked=False)
    d.mitral = BillingCodeFactory(
        code="93590", short_descriptor="Mitral leak closure, first device", category="Structural heart"
    )
    d.addon = BillingCodeFactory(
        code="93592", short_descriptor="Additional occlusion device", category="Structural heart", is_add_on=True
    )
    d.ambulance = BillingCodeFactory(
        system=CodeSystem.HCPCS,
        code="A0021",
        short_descriptor="Ambulance service, outside state",
        category="Transport",
        status=CodeStatus.TERMINATED,
    )
    d.brief = CodeBriefFactory(code=d.mitral, title="Mitral leak closure", service_type="Transcatheter")
    d.draft_brief = CodeBriefFactory(code=d.ambulance, title="Secret draft", state=WorkflowState.DRAFT)
    d.kx = ModifierFactory(code="KX", description="Requirements met", level="HCPCS")
    d.m62 = ModifierFactory(code="62", description="Two surgeons", level="CPT", status=CodeStatus.TERMINATED)
    d.inpatient = PlaceOfServiceFactory(code="21", name="Inpatient Hospital", setting="facility")
    d.office = PlaceOfServiceFactory(code="11", name="Office", setting="non_facility")
    d.i2510 = DiagnosisCodeFactory(code="I2510", description="Atherosclerotic heart disease", is_billable=True)
    d.i25 = DiagnosisCodeFactory(
        code="I25", description="Chronic ischemic heart disease", is_billable=False, status=CodeStatus.TERMINATED
    )
    d.t82 = DiagnosisCodeFactory(code="T82857A", description="Stenosis of cardiac prosthetic devices")
    ModifierGuidanceFactory(code=d.mitral, modifier=None, when_to_use="Single device", display_order=1)
    ModifierGuidanceFactory(code=d.mitral, modifier=d.kx, when_to_use="Criteria documented", display_order=2)
    SiteOfServiceFactory(code=d.mitral, place_of_service=d.inpatient, setting_note="cath lab")
    CodeRelationshipFactory(from_code=d.addon, to_code=d.mitral, kind=RelationshipKind.ADD_ON_TO)
    CodeDiagnosisFactory(code=d.mitral, diagnosis=d.t82, note="prosthetic valve leak")

    d.aetna_policy = PolicyDocumentFactory(
        payer=d.aetna,
        number="CPB 0826",
        title="Transcatheter valve leak closure",
        document_type=PolicyDocumentType.POLICY,
        next_review=dt.date(2025, 3, 1),
    )
    d.lcd = PolicyDocumentFactory(
        payer=d.medicare,
        number="L36668",
        title="Structural heart LCD",
        document_type=PolicyDocumentType.LCD,
        next_review=dt.date(2027, 1, 1),
        effective_date=dt.date(2020, 1, 1),
        retirement_date=dt.date(2024, 1, 1),
    )
    d.aetna_mitral = CoverageCriterionFactory(
        code=d.mitral,
        payer=d.aetna,
        coverage_status=CoverageStatus.COVERED_WITH_CRITERIA,
        prior_auth=PriorAuth.REQUIRED,
        criteria="Symptomatic paravalvular leak",
        policy=d.aetna_policy,
        effective_start=dt.date(2024, 1, 1),
    )
    d.aetna_mitral.diagnosis_codes.add(d.t82)
    d.medicare_mitral_old = CoverageCriterionFactory(
        code=d.mitral,
        payer=d.medicare,
        coverage_status=CoverageStatus.NO_POLICY,
        prior_auth=PriorAuth.NOT_REQUIRED,
        effective_start=dt.date(2020, 1, 1),
        effective_end=dt.date(2023, 12, 31),
        policy=d.lcd,
    )
    d.medicare_addon = CoverageCriterionFactory(
        code=d.addon,
        payer=d.medicare,
        coverage_status=CoverageStatus.COVERED,
        prior_auth=PriorAuth.NOT_REQUIRED,
        effective_start=dt.date(2024, 1, 1),
    )
    d.medicare_ambulance = CoverageCriterionFactory(
        code=d.ambulance, payer=d.medicare, coverage_status=CoverageStatus.COVERED, prior_auth=PriorAuth.VARIES
    )
    d.draft_coverage = CoverageCriterionFactory(
        code=d.ambulance,
        payer=d.aetna,
        coverage_status=CoverageStatus.NOT_COVERED,
        criteria="Secret draft",
        state=WorkflowState.DRAFT,
    )
    d.pending_revision = CoverageCriterionFactory(
        code=d.mitral,
        payer=d.aetna,
        coverage_status=CoverageStatus.NOT_COVERED,
        criteria="Secret revision",
        state=WorkflowState.DRAFT,
        revision_of=d.aetna_mitral,
        effective_start=dt.date(2024, 1, 1),
    )
    d.tee = DocumentationRequirementFactory(
        code=d.mitral, payer=None, kind="imaging", text="TEE report", purpose=DocumentationPurpose.WITH_PA
    )
    d.op_report = DocumentationRequirementFactory(
        code=d.mitral,
        payer=d.medicare,
        kind="procedure_report",
        text="Operative report",
        level="recommended",
        purpose=DocumentationPurpose.WITH_CLAIM,
    )
    d.addon_doc = DocumentationRequirementFactory(
        code=d.addon, payer=d.aetna, kind="device_record", text="Device log", purpose=DocumentationPurpose.RETAIN
    )
    d.draft_doc = DocumentationRequirementFactory(code=d.mitral, text="Secret draft", state=WorkflowState.DRAFT)
    d.work_rvu = BenchmarkFactory(code=d.mitral, payer=None, metric=BenchmarkMetric.WORK_RVU, period="2024 Q3")
    d.aetna_allowed = BenchmarkFactory(
        code=d.addon,
        payer=d.aetna,
        metric=BenchmarkMetric.ALLOWED_AMOUNT,
        setting=BenchmarkSetting.FACILITY,
        value="1234.5000",
        unit="USD",
        period="CY2023",
        source="Aetna fee schedule",
    )
    d.curator = UserFactory(username="curator-ann")
    d.open_gap = FollowUpGapFactory(
        code=d.mitral,
        payer=d.aetna,
        category=GapCategory.COVERAGE_CRITERIA,
        priority=GapPriority.HIGH,
        assignee=d.curator,
        due_date=dt.date(2020, 1, 1),
        description="Aetna criteria missing",
    )
    d.resolved_gap = FollowUpGapFactory(
        code=d.addon,
        category=GapCategory.BENCHMARK,
        status=GapStatus.RESOLVED,
        priority=GapPriority.LOW,
        due_date=dt.date(2030, 1, 1),
        description="Benchmark found",
    )
    return d


# --- The coverage check (test_coverage_check*.py) -----------------------------------------------------


class CheckWorld:
    """A payer, the three valve-leak codes and the catalogue rows the coverage check's rules read."""


@pytest.fixture
def check_world(db):
    """What the coverage-check tests ask about (test_coverage_check*.py)."""
    w = CheckWorld()
    w.payer = PayerFactory(name="Acme Health", slug="acme")
    w.other = PayerFactory(name="Other Plan", slug="other")
    w.mitral = BillingCodeFactory(code="93590", short_descriptor="Mitral leak closure, first device")
    w.aortic = BillingCodeFactory(code="93591", short_descriptor="Aortic leak closure, first device")
    w.addon = BillingCodeFactory(code="93592", short_descriptor="Additional occlusion device", is_add_on=True)
    for primary in (w.mitral, w.aortic):
        CodeRelationshipFactory(from_code=w.addon, to_code=primary, kind=RelationshipKind.ADD_ON_TO)
    w.office = PlaceOfServiceFactory(code="11", name="Office", setting="non_facility")
    w.inpatient = PlaceOfServiceFactory(code="21", name="Inpatient Hospital")
    w.outpatient = PlaceOfServiceFactory(code="22", name="On Campus-Outpatient Hospital")
    for place in (w.inpatient, w.outpatient):
        SiteOfServiceFactory(code=w.mitral, place_of_service=place)
    w.i340 = DiagnosisCodeFactory(code="I340", description="Nonrheumatic mitral (valve) insufficiency")
    w.i350 = DiagnosisCodeFactory(code="I350", description="Nonrheumatic aortic (valve) stenosis")
    w.t82 = DiagnosisCodeFactory(code="T8209", description="Other mechanical complication of heart valve prosthesis")
    w.m62 = ModifierFactory(code="62", description="Two surgeons")
    w.policy = PolicyDocumentFactory(
        payer=w.payer, number="CPB 0826", title="Paravalvular leak closure", url="https://example.org/cpb0826"
    )
    return w


# --- CDS Hooks (test_cds_hooks*.py) --------------------------------------------------------------------


@pytest.fixture
def ec_key():
    """The CDS client's signing key (ES384)."""
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def cds_client(ec_key):
    """An EHR registered with the public half of `ec_key` in its JWKS."""
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    return CdsClient.objects.create(
        name="Example EHR", issuer=ISSUER, jwks={"keys": [{**public, "kid": "ehr-1", "alg": "ES384", "use": "sig"}]}
    )


@pytest.fixture
def crd_world(db):
    """Acme Health, known to EHRs by a payer identifier, covering 93590 (and its add-on 93592) with
    criteria and prior authorization: what the CDS Hooks tests ask about. Returns the payer."""
    payer = PayerFactory(name="Acme Health", slug="acme")
    PayerIdentifier.objects.create(payer=payer, system=PAYER_SYSTEM, value="60054")
    mitral = BillingCodeFactory(code="93590", short_descriptor="Mitral leak closure")
    addon = BillingCodeFactory(code="93592", short_descriptor="Additional device", is_add_on=True)
    CodeRelationshipFactory(from_code=addon, to_code=mitral, kind=RelationshipKind.ADD_ON_TO)
    DiagnosisCodeFactory(code="I340", description="Nonrheumatic mitral (valve) insufficiency")
    PlaceOfServiceFactory(code="22", name="On Campus-Outpatient Hospital")
    policy = PolicyDocumentFactory(payer=payer, number="CPB 0826", title="PVL closure", url="https://example.org/cpb")
    CoverageCriterionFactory(
        code=mitral,
        payer=payer,
        coverage_status=CoverageStatus.COVERED_WITH_CRITERIA,
        prior_auth=PriorAuth.REQUIRED,
        criteria="Symptomatic paravalvular leak",
        policy=policy,
    )
    return payer
