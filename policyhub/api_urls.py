"""The read-only REST API under /api/: version 1 resources, the OpenAPI schema and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from briefs.api.coverage_check import CoverageCheckView
from briefs.api.views import CodeViewSet
from codes.api.views import DiagnosisCodeViewSet, ModifierViewSet, PlaceOfServiceViewSet
from payers.api.views import (
    BenchmarkViewSet,
    CoverageCriterionViewSet,
    DocumentationRequirementViewSet,
    FollowUpGapViewSet,
    PayerViewSet,
    PolicyDocumentViewSet,
)
from policyhub.api_changes import ChangeViewSet

app_name = "api"


class ApiRouter(DefaultRouter):
    # `?format=json` is enough; suffixes (`.json`) would clash with dotted ICD-10-CM codes.
    include_format_suffixes = False


router = ApiRouter()
router.register("codes", CodeViewSet, basename="code")
router.register("modifiers", ModifierViewSet, basename="modifier")
router.register("places-of-service", PlaceOfServiceViewSet, basename="place-of-service")
router.register("diagnosis-codes", DiagnosisCodeViewSet, basename="diagnosis-code")
router.register("payers", PayerViewSet, basename="payer")
router.register("payer-policies", PolicyDocumentViewSet, basename="payer-policy")
router.register("coverage-criteria", CoverageCriterionViewSet, basename="coverage-criterion")
router.register("documentation-requirements", DocumentationRequirementViewSet, basename="documentation-requirement")
router.register("benchmarks", BenchmarkViewSet, basename="benchmark")
router.register("gaps", FollowUpGapViewSet, basename="gap")
router.register("changes", ChangeViewSet, basename="change")

urlpatterns = [
    path("v1/coverage-check/", CoverageCheckView.as_view(), name="coverage-check"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
