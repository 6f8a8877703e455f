"""factory_boy factories for every model tests build rows of."""

import hashlib

import factory
from django.contrib.auth import get_user_model
from django_tasks_db.models import DBTaskResult

from briefs.choices import AssertionChannel
from briefs.models import CdsClient, CoverageAssertion, PayerIdentifier
from codes.choices import CodeSystem, RelationshipKind, ReleaseKind
from codes.models import (
    BillingCode,
    CodeBrief,
    CodeCategory,
    CodeDiagnosis,
    CodeRelationship,
    CodeSetRelease,
    DiagnosisCode,
    Modifier,
    ModifierGuidance,
    PlaceOfService,
    SiteOfService,
)
from payers.choices import BenchmarkMetric, GapCategory, PayerKind
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.models import ApiToken, WebhookDelivery, WebhookEndpoint
from policyhub.webhooks import deliver_changes


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-test-123")


class BillingCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingCode
        skip_postgeneration_save = True

    system = CodeSystem.CPT
    code = factory.Sequence(lambda n: f"{10000 + n:05d}")
    short_descriptor = factory.Sequence(lambda n: f"Procedure {n}")
    category = "Cardiovascular / structural heart"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # Codes are filed under categories of the controlled list (the database refuses any other):
        # a test's category joins the list before the code is saved.
        if kwargs.get("category"):
            CodeCategory.objects.get_or_create(name=kwargs["category"])
        return super()._create(model_class, *args, **kwargs)


class CodeBriefFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CodeBrief

    code = factory.SubFactory(BillingCodeFactory)
    title = factory.LazyAttribute(lambda o: o.code.short_descriptor)
    lead = "A lead paragraph."
    state = WorkflowState.PUBLISHED


class ModifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Modifier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"Q{n % 10}")
    description = "A modifier"


class PlaceOfServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaceOfService
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{n % 100:02d}")
    name = factory.Sequence(lambda n: f"Place {n}")
    setting = "facility"


class DiagnosisCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DiagnosisCode
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"I{25 + n % 70:02d}{n % 10}")
    description = factory.Sequence(lambda n: f"Diagnosis {n}")


class CodeSetReleaseFactory(factory.django.DjangoModelFactory):
    """A release as an import records it: its kind, a name and the SHA-256 of its (here imaginary) file."""

    class Meta:
        model = CodeSetRelease

    kind = ReleaseKind.HCPCS
    name = factory.LazyAttributeSequence(lambda o, n: f"{ReleaseKind(o.kind).name} release {n}")
    checksum = factory.Sequence(lambda n: hashlib.sha256(f"release file {n}".encode()).hexdigest())


class ModifierGuidanceFactory(factory.django.DjangoModelFactory):
    """When to report a modifier with a code; `modifier=None` makes the code's one "no modifier" (00) row."""

    class Meta:
        model = ModifierGuidance

    code = factory.SubFactory(BillingCodeFactory)
    modifier = factory.SubFactory(ModifierFactory)
    when_to_use = "When the payer's requirements are met"
    state = WorkflowState.PUBLISHED


class SiteOfServiceFactory(factory.django.DjangoModelFactory):
    """A typical place of service of a code."""

    class Meta:
        model = SiteOfService

    code = factory.SubFactory(BillingCodeFactory)
    place_of_service = factory.SubFactory(PlaceOfServiceFactory)
    state = WorkflowState.PUBLISHED


class CodeRelationshipFactory(factory.django.DjangoModelFactory):
    """from_code <kind> to_code between two new codes; "see also" unless a test asks for another kind."""

    class Meta:
        model = CodeRelationship

    from_code = factory.SubFactory(BillingCodeFactory)
    to_code = factory.SubFactory(BillingCodeFactory)
    kind = RelationshipKind.SEE_ALSO
    state = WorkflowState.PUBLISHED


class CodeDiagnosisFactory(factory.django.DjangoModelFactory):
    """An ICD-10-CM code associated with a billing code (the brief's diagnosis coding section)."""

    class Meta:
        model = CodeDiagnosis

    code = factory.SubFactory(BillingCodeFactory)
    diagnosis = factory.SubFactory(DiagnosisCodeFactory)
    state = WorkflowState.PUBLISHED


class PayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payer
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Payer {n}")
    slug = factory.Sequence(lambda n: f"payer-{n}")
    kind = PayerKind.COMMERCIAL


class PolicyDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyDocument

    payer = factory.SubFactory(PayerFactory)
    state = WorkflowState.PUBLISHED
    number = factory.Sequence(lambda n: f"POL-{n:04d}")
    title = factory.Sequence(lambda n: f"Policy {n}")


class CoverageCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoverageCriterion

    code = factory.SubFactory(BillingCodeFactory)
    payer = factory.SubFactory(PayerFactory)
    state = WorkflowState.PUBLISHED


class DocumentationRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentationRequirement

    code = factory.SubFactory(BillingCodeFactory)
    kind = "imaging"
    text = "Transesophageal echocardiography report"
    state = WorkflowState.PUBLISHED


class BenchmarkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Benchmark

    code = factory.SubFactory(BillingCodeFactory)
    metric = BenchmarkMetric.WORK_RVU
    value = "21.7000"
    unit = "RVU"
    period = "2024 Q3"
    source = "CMS PFS PPRRVU July 2024"
    state = WorkflowState.PUBLISHED


class FollowUpGapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpGap

    code = factory.SubFactory(BillingCodeFactory)
    category = GapCategory.OTHER
    description = "Something is missing"
    state = WorkflowState.PUBLISHED


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """A token issued the way the admin and `create_api_token` issue one (hashed key)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"sync job {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token, _key = model_class.objects.issue(user=kwargs["user"], name=kwargs.get("name", ""))
        return token


class AccessAttemptFactory(factory.django.DjangoModelFactory):
    """A failed-login record of django-axes (what a lockout counts)."""

    class Meta:
        model = "axes.AccessAttempt"

    username = "reader"
    ip_address = "10.0.0.1"
    user_agent = "pytest"
    get_data = ""
    post_data = "username=reader"
    http_accept = "text/html"
    path_info = "/accounts/login/"
    failures_since_start = 1


class AccessFailureLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "axes.AccessFailureLog"

    username = "reader"
    ip_address = "10.0.0.1"
    user_agent = "pytest"
    http_accept = "text/html"
    path_info = "/accounts/login/"


class AccessLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "axes.AccessLog"

    username = "reader"
    ip_address = "10.0.0.1"
    user_agent = "pytest"
    http_accept = "text/html"
    path_info = "/accounts/login/"


class CdsClientFactory(factory.django.DjangoModelFactory):
    """A CDS client with a (public) PEM key; tests that sign JWTs register their own key."""

    class Meta:
        model = CdsClient

    name = factory.Sequence(lambda n: f"EHR {n}")
    issuer = factory.Sequence(lambda n: f"https://ehr{n}.example.org/")
    public_key_pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH8ZA//FIsIhH/HbETMwWGOzeB6ro\n"
        "e9V5q5bGDKp0nq8XXNN/FbA4ZUdNen1iyS11FQ6bJbmsVkEywMDyI8zYdQ==\n"
        "-----END PUBLIC KEY-----\n"
    )


class PayerIdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayerIdentifier

    payer = factory.SubFactory(PayerFactory)
    system = "http://example.org/payer-ids"
    value = factory.Sequence(lambda n: f"{60000 + n}")


class CoverageAssertionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CoverageAssertion

    channel = AssertionChannel.REST
    request = factory.LazyFunction(lambda: {"payer": "aetna", "items": [{"code": "93590"}]})
    response = factory.LazyFunction(lambda: {"items": []})


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"downstream {n}")
    url = factory.Sequence(lambda n: f"https://downstream{n}.example.org/hook")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    first_position = 1
    last_position = 2
    entries = 2
    attempt = 1
    outcome = "succeeded"
    response_status = 200
    duration_ms = 12


class DBTaskResultFactory(factory.django.DjangoModelFactory):
    """A queued webhook delivery, made the way the application makes one: by enqueueing the task."""

    class Meta:
        model = DBTaskResult

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.get(pk=deliver_changes.enqueue(WebhookEndpointFactory().pk).id)
