"""Reads of the code catalogue, shared by pages and API: each list's related rows are joined here."""

import re

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.text import smart_split, unescape_string_literal

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


def billing_codes_with_titles() -> QuerySet[BillingCode]:
    """`billing_code_list()` with `title`, the title of each code's published brief (or None), read
    in the same statement: the API's codes list shows it on every row."""
    brief = CodeBrief.objects.published().current().filter(code=OuterRef("pk")).order_by("-updated_at")
    return billing_code_list().annotate(title=Subquery(brief.values("title")[:1]))


def published_brief_prefetch(to_attr: str = "published_briefs") -> Prefetch:
    return Prefetch("briefs", queryset=CodeBrief.objects.published().current(), to_attr=to_attr)


def catalogue_prefetches() -> list:
    """Everything of a code's brief that the catalogue itself holds: published rows only (a published
    row's pending revision is a separate draft row, so `published()` alone leaves revisions out)."""
    return [
        published_brief_prefetch(),
        Prefetch("modifier_guidance", queryset=ModifierGuidance.objects.published().select_related("modifier")),
        Prefetch("sites_of_service", queryset=SiteOfService.objects.published().select_related("place_of_service")),
        Prefetch("relationships_from", queryset=CodeRelationship.objects.published().select_related("to_code")),
        Prefetch("relationships_to", queryset=CodeRelationship.objects.published().select_related("from_code")),
        Prefetch("code_diagnoses", queryset=CodeDiagnosis.objects.published().select_related("diagnosis")),
    ]


def diagnosis_code_list() -> QuerySet[DiagnosisCode]:
    return DiagnosisCode.objects.order_by("code")


# What the start of an ICD-10-CM code looks like as typed (the dot dropped): a letter, then letters
# or digits. "mitral" has that shape too, so a term is taken for a code only with a digit in it
# (every code of three characters or more has one) or when it is one or two characters ("I", "QA").
DIAGNOSIS_CODE_START = re.compile(r"^[A-Z][0-9A-Z]{0,6}$")


def looks_like_diagnosis_code(term: str) -> bool:
    code = DiagnosisCode.normalise(term)
    return bool(DIAGNOSIS_CODE_START.match(code)) and (len(code) <= 2 or any(c.isdigit() for c in code))


def search_diagnosis_codes(queryset: QuerySet[DiagnosisCode], term: str) -> QuerySet[DiagnosisCode]:
    """The diagnosis pickers' and the API's search: a code or its start ("I25.1") by the code's
    prefix index; words ("chronic kidney") each in the description, in any order.

    On PostgreSQL the description words are served by a trigram index (codes/migrations/0011), so
    a search through the 98k codes of a full release stays an index look-up.
    """
    term = term.strip()
    if not term:
        return queryset
    if looks_like_diagnosis_code(term):
        return queryset.filter(code__startswith=DiagnosisCode.normalise(term))
    for word in smart_split(term):
        if word[0] in "\"'" and word[0] == word[-1] and len(word) > 1:
            word = unescape_string_literal(word)  # "heart failure" in quotes: the phrase
        queryset = queryset.filter(description__icontains=word)
    return queryset


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
