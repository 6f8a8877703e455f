"""The billing-code admin: the catalogue's code page plus its payer inlines (coverage, documentation,
benchmarks, gaps) and the brief's completeness in the list; the coverage check's CDS clients, payer identifiers
and its recorded assertions (read-only)."""

import json

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from briefs.completeness import completeness_annotation, completeness_for_codes
from briefs.models import CdsClient, CoverageAssertion, PayerIdentifier
from codes.admin import BillingCodeAdmin
from codes.models import BillingCode
from payers.admin import run_gap_detection
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap
from policyhub.admin import CuratedAdmin
from policyhub.admin_inlines import CuratedInline, CuratedInlineFormSet, ReviewedPartInline
from policyhub.choices import WorkflowState
from policyhub.wording import counted


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


class BenchmarkInline(ReviewedPartInline):
    model = Benchmark
    fields = ("payer", "setting", "metric", "value", "unit", "period", "source", "state")
    autocomplete_fields = ("payer",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payer")


class GapInline(ReviewedPartInline):
    model = FollowUpGap
    fk_name = "code"
    fields = ("category", "payer", "description", "status", "priority", "assignee", "due_date", "state")
    autocomplete_fields = ("payer", "assignee")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payer", "assignee")


@admin.action(description="Detect follow-up gaps of the selected codes", permissions=["change"])
def detect_gaps_of_codes(modeladmin, request, queryset):
    code_ids = list(queryset.values_list("pk", flat=True))
    run_gap_detection(modeladmin, request, counted(len(code_ids), "code"), code_ids=code_ids)


@admin.register(BillingCode)
class BillingCodeCoverageAdmin(BillingCodeAdmin):
    """The code page with its payer-specific inlines; the catalogue admin stays payer-free."""

    inlines = [*BillingCodeAdmin.inlines, CoverageInline, DocumentationInline, BenchmarkInline, GapInline]
    list_display = (*BillingCodeAdmin.list_display, "completeness")
    actions = [detect_gaps_of_codes]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self._sorted_by_completeness(request):
            # Sorting by the score needs it for every code, in the list's own query.
            queryset = queryset.annotate(completeness=completeness_annotation())
        return queryset

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        if not self._sorted_by_completeness(request):
            # Otherwise the page's rows only, in one query: in the list's own query PostgreSQL plans
            # the score for all 20,000 codes and hashes every requirement and benchmark for it.
            rows = list(changelist.result_list)
            scores = completeness_for_codes([row.pk for row in rows])
            for row in rows:
                row.completeness = scores.get(row.pk, 0)
        return changelist

    def _sorted_by_completeness(self, request) -> bool:
        match = request.resolver_match
        if not match or match.url_name != f"{self.opts.app_label}_{self.opts.model_name}_changelist":
            return False
        # `?o=9.-2`: positions in the list's columns, the action checkbox first when there are actions.
        columns = list(self.get_list_display(request))
        if self.get_actions(request):
            columns.insert(0, "action_checkbox")
        position = str(columns.index("completeness"))
        return any(part.lstrip("-") == position for part in request.GET.get(ORDER_VAR, "").split("."))

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


@admin.register(CdsClient)
class CdsClientAdmin(CuratedAdmin):
    list_display = ("name", "issuer", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "issuer")
    fieldsets = [
        (None, {"fields": ["name", "issuer", "is_active"]}),
        (
            "Public keys (one of the two)",
            {
                "fields": ["jwks", "public_key_pem"],
                "description": "PolicyHub verifies the client's signed JWTs with these keys (CDS Hooks 2.0).",
            },
        ),
    ]


@admin.register(PayerIdentifier)
class PayerIdentifierAdmin(CuratedAdmin):
    list_display = ("value", "system", "payer", "note")
    list_filter = ("payer",)
    search_fields = ("value", "system", "payer__name")
    autocomplete_fields = ("payer",)
    list_select_related = ("payer",)


@admin.register(CoverageAssertion)
class CoverageAssertionAdmin(admin.ModelAdmin):
    """Answers of the coverage check, as given: read-only, never edited or deleted."""

    list_display = ("assertion_id", "created_at", "channel", "payer", "service_date", "user", "cds_client")
    list_filter = ("channel", "payer")
    search_fields = ("=assertion_id",)
    date_hierarchy = "created_at"
    list_select_related = ("payer", "user", "cds_client")
    show_full_result_count = False
    fields = (
        "assertion_id",
        "created_at",
        "channel",
        "payer",
        "service_date",
        "user",
        "cds_client",
        "jwt_id",
        "question",
        "answer",
        "criteria_used",
    )
    readonly_fields = fields

    @admin.display(description="question")
    def question(self, obj):
        return _pretty(obj.request)

    @admin.display(description="answer")
    def answer(self, obj):
        return _pretty(obj.response)

    @admin.display(description="criteria versions used")
    def criteria_used(self, obj):
        return _pretty(obj.criteria_versions)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _pretty(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False))
