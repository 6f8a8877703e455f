"""factory_boy factories for every model tests build rows of."""

import factory
from django.contrib.auth import get_user_model

from codes.choices import CodeSystem
from codes.models import BillingCode, CodeBrief, DiagnosisCode, Modifier, PlaceOfService
from payers.choices import BenchmarkMetric, GapCategory, PayerKind
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.models import ApiToken


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-test-123")


class BillingCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingCode

    system = CodeSystem.CPT
    code = factory.Sequence(lambda n: f"{10000 + n:05d}")
    short_descriptor = factory.Sequence(lambda n: f"Procedure {n}")
    category = "Cardiovascular / structural heart"


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


class FollowUpGapFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpGap

    code = factory.SubFactory(BillingCodeFactory)
    category = GapCategory.OTHER
    description = "Something is missing"


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
