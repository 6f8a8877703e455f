"""The billing-code admin: the catalogue's code page plus its payer inlines (coverage, documentation,
benchmarks, gaps) and the brief's completeness in the list."""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from briefs.completeness import completeness_annotation
from codes.admin import BillingCodeAdmin
from codes.models import BillingCode
from payers.admin import run_gap_detection
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap
from policyhub.admin_inlines import CuratedInline, CuratedInlineFormSet
from policyhub.choices import WorkflowState


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


@admin.action(description="Detect follow-up gaps of the selected codes", permissions=["change"])
def detect_gaps_of_codes(modeladmin, request, queryset):
    code_ids = list(queryset.values_list("pk", flat=True))
    run_gap_detection(modeladmin, request, f"{len(code_ids)} codes", code_ids=code_ids)


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
        """Share of the brief's sections filled (briefs.completeness)."""
        return f"{obj.completeness}%"
