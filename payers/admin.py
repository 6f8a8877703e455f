from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.text import Truncator
from import_export.admin import ImportExportMixin

from codes.admin import BillingCodeAdmin
from codes.models import BillingCode
from payers import admin_users  # noqa: F401  (registers the user admin)
from payers.completeness import completeness_annotation
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
from policyhub.admin import CuratedAdmin, CuratedInline, CuratedInlineFormSet, ReviewedAdmin
from policyhub.choices import WorkflowState

WORKFLOW_READONLY = ("state", "revision_of", "submitted_by", "submitted_at", "reviewed_by", "reviewed_at")


class PolicyDocumentInline(CuratedInline):
    model = PolicyDocument
    fields = ("document_type", "number", "document_version", "title", "effective_date", "last_reviewed", "next_review")


class CoverageInlineFormSet(CuratedInlineFormSet):
    """Each criterion checks the saved ones; this catches two rows of the same save that overlap."""

    def clean(self):
        super().clean()
        rows = [row for row in self.kept_rows() if row.revision_of_id is None and row.state != WorkflowState.RETIRED]
        for index, row in enumerate(rows):
            for other in rows[index + 1 :]:
                if row.payer_id == other.payer_id and row.period_overlaps(other):
                    raise ValidationError(
                        f"Two {row.payer.name} criteria of this save are in force on the same days; "
                        "effective periods for the same code and payer cannot overlap."
                    )


class CoverageInline(CuratedInline):
    model = CoverageCriterion
    formset = CoverageInlineFormSet
    fields = (
        "payer",
        "coverage_status",
        "prior_auth",
        "criteria",
        "diagnosis_codes",
        "policy",
        "effective_start",
        "effective_end",
        "state",
    )
    readonly_fields = ("state",)
    autocomplete_fields = ("payer", "policy", "diagnosis_codes")
    show_change_link = True

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("payer", "policy__payer").prefetch_related("diagnosis_codes")
        )


class DocumentationInline(CuratedInline):
    model = DocumentationRequirement
    fields = ("payer", "kind", "text", "level", "purpose", "state")
    readonly_fields = ("state",)
    autocomplete_fields = ("payer",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payer")


class BenchmarkInline(CuratedInline):
    model = Benchmark
    fields = ("payer", "setting", "metric", "value", "unit", "period", "source")
    autocomplete_fields = ("payer",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payer")


class GapInline(CuratedInline):
    model = FollowUpGap
    fk_name = "code"
    fields = ("category", "payer", "description", "status", "priority", "assignee", "due_date")
    autocomplete_fields = ("payer", "assignee")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payer", "assignee")


def _detect_gaps(modeladmin, request, what: str, **scope):
    if not request.user.has_perm("payers.add_followupgap"):
        raise PermissionDenied
    report = detect_gaps(by=request.user, **scope)
    modeladmin.message_user(request, f"Gap detection for {what}: {report.summary()}.", messages.SUCCESS)


@admin.action(description="Detect follow-up gaps of the selected codes", permissions=["change"])
def detect_gaps_of_codes(modeladmin, request, queryset):
    code_ids = list(queryset.values_list("pk", flat=True))
    _detect_gaps(modeladmin, request, f"{len(code_ids)} codes", code_ids=code_ids)


@admin.action(description="Check the review dates of the selected policy documents", permissions=["change"])
def detect_gaps_of_policies(modeladmin, request, queryset):
    policy_ids = list(queryset.values_list("pk", flat=True))
    _detect_gaps(modeladmin, request, f"{len(policy_ids)} policy documents", policy_ids=policy_ids)


@admin.action(description="Re-check the codes and policies of the selected gaps", permissions=["change"])
def detect_gaps_of_gaps(modeladmin, request, queryset):
    code_ids = {pk for pk in queryset.values_list("code_id", flat=True) if pk}
    policy_ids = {pk for pk in queryset.values_list("policy_id", flat=True) if pk}
    _detect_gaps(modeladmin, request, "the selected gaps' codes and policies", code_ids=code_ids, policy_ids=policy_ids)


admin.site.unregister(BillingCode)


@admin.register(BillingCode)
class BillingCodeCoverageAdmin(BillingCodeAdmin):
    """The code page with its payer-specific inlines; the catalogue admin stays payer-free."""

    inlines = [*BillingCodeAdmin.inlines, CoverageInline, DocumentationInline, BenchmarkInline, GapInline]
    list_display = (*BillingCodeAdmin.list_display, "completeness")
    actions = [detect_gaps_of_codes]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match and match.url_name == f"{self.opts.app_label}_{self.opts.model_name}_changelist":
            # One expression in the list's own query: no query per row.
            queryset = queryset.annotate(completeness=completeness_annotation())
        return queryset

    def change_view(self, request, object_id, form_url="", extra_context=None):
        code = self.get_object(request, object_id)
        if code is not None:
            extra_context = {
                **(extra_context or {}),
                "change_set_url": reverse("admin_review:change_set", args=[code.code]),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="complete", ordering="completeness")
    def completeness(self, obj):
        """Share of the brief's sections filled (payers.completeness)."""
        return f"{obj.completeness}%"


@admin.register(Payer)
class PayerAdmin(ImportExportMixin, CuratedAdmin):
    resource_classes = [PayerResource]
    list_display = ("name", "kind", "is_national", "is_tracked", "website")
    list_filter = ("kind", "is_national", "is_tracked")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PolicyDocumentInline]


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(ImportExportMixin, CuratedAdmin):
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
    )
    list_filter = ("document_type", "payer")
    search_fields = ("number", "title", "payer__name")
    list_select_related = ("payer",)
    autocomplete_fields = ("payer",)
    date_hierarchy = "next_review"
    actions = [detect_gaps_of_policies]


@admin.register(CoverageCriterion)
class CoverageCriterionAdmin(ImportExportMixin, ReviewedAdmin):
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
    list_filter = ("state", "coverage_status", "prior_auth", "payer")
    search_fields = ("=code__code", "payer__name", "policy__number", "criteria")
    list_select_related = ("code", "payer", "policy__payer")
    autocomplete_fields = ("code", "payer", "policy", "diagnosis_codes")
    readonly_fields = (*CuratedAdmin.readonly_fields, *WORKFLOW_READONLY)
    fieldsets = (
        (None, {"fields": ("code", "payer", "coverage_status", "prior_auth", "prior_auth_delegate")}),
        ("Criteria", {"fields": ("criteria", "limitations", "diagnosis_codes")}),
        ("Source and dates", {"fields": ("policy", "effective_start", "effective_end", "last_verified")}),
        ("Workflow", {"fields": (*WORKFLOW_READONLY, "review_comment")}),
        ("Record", {"classes": ("collapse",), "fields": CuratedAdmin.readonly_fields}),
    )


@admin.register(DocumentationRequirement)
class DocumentationRequirementAdmin(ImportExportMixin, ReviewedAdmin):
    resource_classes = [DocumentationRequirementResource]
    list_display = ("code", "payer", "kind", "short_text", "level", "purpose", "state")
    list_filter = ("state", "kind", "level", "purpose", "payer")
    search_fields = ("=code__code", "payer__name", "text")
    list_select_related = ("code", "payer")
    autocomplete_fields = ("code", "payer", "policy")
    readonly_fields = (*CuratedAdmin.readonly_fields, *WORKFLOW_READONLY)

    @admin.display(description="what must be documented")
    def short_text(self, obj):
        return Truncator(obj.text).chars(80)


@admin.register(Benchmark)
class BenchmarkAdmin(ImportExportMixin, CuratedAdmin):
    resource_classes = [BenchmarkResource]
    list_display = ("code", "metric", "setting", "value", "unit", "period", "payer", "source")
    list_filter = ("metric", "setting", "period")
    search_fields = ("=code__code", "source", "payer__name")
    list_select_related = ("code", "payer")
    autocomplete_fields = ("code", "payer")
    raw_id_fields = ("release",)


@admin.register(FollowUpGap)
class FollowUpGapAdmin(ImportExportMixin, CuratedAdmin):
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
    )
    list_filter = ("status", "category", "priority", "payer", "assignee")
    search_fields = ("=code__code", "description", "payer__name", "policy__number")
    list_select_related = ("code", "payer", "assignee", "policy")
    autocomplete_fields = ("code", "payer", "policy", "assignee")
    readonly_fields = (*CuratedAdmin.readonly_fields, "opened_at", "resolved_at", "rule")
    date_hierarchy = "due_date"
    actions = [detect_gaps_of_gaps]
    # Triage from the list; a row changed by someone else since the list was shown is refused.
    list_editable = ("status", "priority")

    @admin.display(description="what is missing")
    def short_description(self, obj):
        return Truncator(obj.description).chars(80)
