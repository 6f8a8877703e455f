from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.text import Truncator

from codes.admin_imports import GuardedImportExportMixin
from codes.filtersets import as_billing_code
from payers.models import (
    Benchmark,
    CoverageCriterion,
    DocumentationRequirement,
    FollowUpGap,
    Payer,
    PolicyDocument,
)
from payers.resources import (
    BenchmarkResource,
    CoverageCriterionResource,
    DocumentationRequirementResource,
    FollowUpGapResource,
    PayerResource,
    PolicyDocumentResource,
)
from payers.services import detect_gaps
from policyhub.admin import CuratedAdmin
from policyhub.admin_filters import GroupedFacetsRelatedFilter
from policyhub.admin_inlines import ReviewedPartInline
from policyhub.admin_search import IndexedSearchMixin
from policyhub.admin_workflow import WORKFLOW_FIELDSET, ReviewedAdmin
from policyhub.wording import counted


class PolicyDocumentInline(ReviewedPartInline):
    model = PolicyDocument
    fields = (
        "document_type",
        "number",
        "document_version",
        "title",
        "effective_date",
        "last_reviewed",
        "next_review",
        "state",
    )


def run_gap_detection(modeladmin, request, what: str, **scope):
    if not request.user.has_perm("payers.add_followupgap"):
        raise PermissionDenied
    report = detect_gaps(by=request.user, **scope)
    modeladmin.message_user(request, f"Gap detection for {what}: {report.summary()}.", messages.SUCCESS)


@admin.action(description="Check the review dates of the selected policy documents", permissions=["change"])
def detect_gaps_of_policies(modeladmin, request, queryset):
    policy_ids = list(queryset.values_list("pk", flat=True))
    run_gap_detection(modeladmin, request, counted(len(policy_ids), "policy document"), policy_ids=policy_ids)


@admin.action(description="Re-check the codes and policies of the selected gaps", permissions=["change"])
def detect_gaps_of_gaps(modeladmin, request, queryset):
    code_ids = {pk for pk in queryset.values_list("code_id", flat=True) if pk}
    policy_ids = {pk for pk in queryset.values_list("policy_id", flat=True) if pk}
    run_gap_detection(
        modeladmin, request, "the selected gaps' codes and policies", code_ids=code_ids, policy_ids=policy_ids
    )


@admin.register(Payer)
class PayerAdmin(GuardedImportExportMixin, CuratedAdmin):
    resource_classes = [PayerResource]
    list_display = ("name", "kind", "is_national", "is_tracked", "website")
    list_filter = ("kind", "is_national", "is_tracked")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PolicyDocumentInline]


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(GuardedImportExportMixin, ReviewedAdmin):
    resource_classes = [PolicyDocumentResource]
    list_display = (
        "number",
        "document_version",
        "title",
        "payer",
        "document_type",
        "effective_date",
        "next_review",
        "retirement_date",
        "state",
    )
    list_filter = ("state", "document_type", ("payer", GroupedFacetsRelatedFilter))
    search_fields = ("number", "title", "payer__name")
    list_select_related = ("payer",)
    autocomplete_fields = ("payer",)
    date_hierarchy = "next_review"
    actions = [detect_gaps_of_policies]


class CodeSearchMixin(IndexedSearchMixin):
    """Searching a billing code (93590, a0021) lists that code's rows, found by index; other terms
    search the text fields."""

    def code_search(self, queryset, term):
        code = as_billing_code(term)
        return queryset.filter(code__code=code) if code else None


@admin.register(CoverageCriterion)
class CoverageCriterionAdmin(CodeSearchMixin, GuardedImportExportMixin, ReviewedAdmin):
    resource_classes = [CoverageCriterionResource]
    list_display = (
        "code",
        "payer",
        "coverage_status",
        "prior_auth",
        "policy",
        "effective_start",
        "effective_end",
        "state",
        "last_verified",
    )
    list_filter = ("state", "coverage_status", "prior_auth", ("payer", GroupedFacetsRelatedFilter))
    search_fields = ("=code__code", "payer__name", "policy__number", "criteria")
    trigram_fields = ("criteria",)
    list_select_related = ("code", "payer", "policy__payer")
    autocomplete_fields = ("code", "payer", "policy", "diagnosis_codes")
    fieldsets = (
        (None, {"fields": ("code", "payer", "coverage_status", "prior_auth", "prior_auth_delegate")}),
        ("Criteria", {"fields": ("criteria", "limitations", "diagnosis_codes")}),
        ("Source and dates", {"fields": ("policy", "effective_start", "effective_end", "last_verified")}),
        WORKFLOW_FIELDSET,
        ("Record", {"classes": ("collapse",), "fields": CuratedAdmin.readonly_fields}),
    )


@admin.register(DocumentationRequirement)
class DocumentationRequirementAdmin(CodeSearchMixin, GuardedImportExportMixin, ReviewedAdmin):
    resource_classes = [DocumentationRequirementResource]
    list_display = ("code", "payer", "kind", "short_text", "level", "purpose", "state")
    list_filter = ("state", "kind", "level", "purpose", ("payer", GroupedFacetsRelatedFilter))
    search_fields = ("=code__code", "payer__name", "text")
    list_select_related = ("code", "payer")
    autocomplete_fields = ("code", "payer", "policy")

    @admin.display(description="what must be documented")
    def short_text(self, obj):
        return Truncator(obj.text).chars(80)


@admin.register(Benchmark)
class BenchmarkAdmin(CodeSearchMixin, GuardedImportExportMixin, ReviewedAdmin):
    resource_classes = [BenchmarkResource]
    list_display = ("code", "metric", "setting", "value", "unit", "period", "payer", "source", "state")
    list_filter = ("state", "metric", "setting", "period")
    search_fields = ("=code__code", "source", "payer__name")
    list_select_related = ("code", "payer")
    autocomplete_fields = ("code", "payer")
    raw_id_fields = ("release",)


@admin.register(FollowUpGap)
class FollowUpGapAdmin(CodeSearchMixin, GuardedImportExportMixin, ReviewedAdmin):
    resource_classes = [FollowUpGapResource]
    list_display = (
        "__str__",
        "short_description",
        "code",
        "payer",
        "category",
        "status",
        "priority",
        "assignee",
        "due_date",
        "state",
    )
    list_filter = ("state", "status", "category", "priority", ("payer", GroupedFacetsRelatedFilter), "assignee")
    search_fields = ("=code__code", "description", "payer__name", "policy__number")
    list_select_related = ("code", "payer", "assignee", "policy")
    autocomplete_fields = ("code", "payer", "policy", "assignee")
    readonly_fields = (*CuratedAdmin.readonly_fields, "opened_at", "resolved_at", "rule")
    date_hierarchy = "due_date"
    actions = [detect_gaps_of_gaps]
    # Triage from the list (a published gap gets a draft revision, as from its page); a row changed by
    # someone else since the list was shown is refused.
    list_editable = ("status", "priority")

    @admin.display(description="what is missing")
    def short_description(self, obj):
        return Truncator(obj.description).chars(80)
