"""Reads of the code catalogue, shared by pages and API: each list's related rows are joined here."""

from django.db.models import Prefetch, Q, QuerySet

from codes.models import (
    BillingCode,
    CodeBrief,
    CodeCategory,
    CodeDiagnosis,
    CodeRelationship,
    DiagnosisCode,
    Modifier,
    ModifierGuidance,
    PlaceOfService,
    SiteOfService,
)
from policyhub.choices import WorkflowState


def billing_code_list() -> QuerySet[BillingCode]:
    return BillingCode.objects.order_by("code", "system")


def published_brief_prefetch(to_attr: str = "published_briefs") -> Prefetch:
    return Prefetch("briefs", queryset=CodeBrief.objects.published().current(), to_attr=to_attr)


def catalogue_prefetches() -> list:
    """Everything of a code's brief that the catalogue itself holds."""
    return [
        published_brief_prefetch(),
        Prefetch("modifier_guidance", queryset=ModifierGuidance.objects.select_related("modifier")),
        Prefetch("sites_of_service", queryset=SiteOfService.objects.select_related("place_of_service")),
        Prefetch("relationships_from", queryset=CodeRelationship.objects.select_related("to_code")),
        Prefetch("relationships_to", queryset=CodeRelationship.objects.select_related("from_code")),
        Prefetch("code_diagnoses", queryset=CodeDiagnosis.objects.select_related("diagnosis")),
    ]


def diagnosis_code_list() -> QuerySet[DiagnosisCode]:
    return DiagnosisCode.objects.order_by("code")


def modifier_list() -> QuerySet[Modifier]:
    return Modifier.objects.order_by("code")


def place_of_service_list() -> QuerySet[PlaceOfService]:
    return PlaceOfService.objects.order_by("code")


def recently_changed_briefs(limit: int = 8) -> QuerySet[CodeBrief]:
    """Published briefs, most recently changed first (the overview page's "what's new")."""
    return CodeBrief.objects.published().current().select_related("code").order_by("-updated_at", "-pk")[:limit]


def brief_preview(code: BillingCode) -> CodeBrief | None:
    """The newest draft or in-review version of a code's brief, for editors to preview; None if there is none.

    That is either a pending revision of the published brief or, for a code never published, the brief itself.
    """
    return (
        CodeBrief.objects.filter(Q(code=code) | Q(revision_of__code=code))
        .filter(state__in=[WorkflowState.DRAFT, WorkflowState.IN_REVIEW])
        .order_by("-updated_at", "-pk")
        .first()
    )


def code_categories() -> list[str]:
    """The categories codes are filed under (the controlled list), for filter menus."""
    return list(CodeCategory.objects.order_by("name").values_list("name", flat=True))
