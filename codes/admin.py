"""The catalogue's admin: billing codes with their curated inlines, briefs, modifiers, places of
service, diagnosis codes and the code categories. Releases are in `codes.admin_releases`."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.utils.html import format_html

from codes import admin_releases  # noqa: F401  (registers the release admin)
from codes.admin_imports import GuardedImportExportMixin
from codes.models import (
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
from codes.resources import BillingCodeResource, DiagnosisCodeResource
from codes.selectors import search_diagnosis_codes
from policyhub.admin import CuratedAdmin, admin_change_url
from policyhub.admin_inlines import CuratedInline, ReviewedPartInline
from policyhub.admin_workflow import WORKFLOW_FIELDSET, ReviewedAdmin
from policyhub.choices import WorkflowState
from policyhub.workflow import PENDING_STATES, pending_revision


class ModifierGuidanceInline(ReviewedPartInline):
    model = ModifierGuidance
    autocomplete_fields = ("modifier",)
    fields = ("display_order", "modifier", "when_to_use", "state")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("modifier")


class SiteOfServiceInline(ReviewedPartInline):
    model = SiteOfService
    fields = ("place_of_service", "setting_note", "is_typical", "state")


class RelationshipInline(ReviewedPartInline):
    model = CodeRelationship
    fk_name = "from_code"
    autocomplete_fields = ("to_code",)
    fields = ("kind", "to_code", "note", "state")
    verbose_name = "relationship to another code"
    verbose_name_plural = "relationships to other codes"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("to_code")


class CodeDiagnosisInline(ReviewedPartInline):
    model = CodeDiagnosis
    autocomplete_fields = ("diagnosis",)
    fields = ("diagnosis", "note", "state")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("diagnosis")


class CodeBriefInline(CuratedInline):
    """The brief's texts, edited on the code's page: the draft, the open revision, or the published
    brief (saving that starts its revision)."""

    model = CodeBrief
    template = "admin/edit_inline/stacked.html"
    fields = (
        "title",
        "headline",
        "lead",
        "significance",
        "key_payers_summary",
        "reader_takeaways",
        "audience_note",
        "service_type",
        "site_of_service_summary",
        "clinical_context",
        "state",
    )
    readonly_fields = ("state",)
    max_num = 1
    can_delete = False
    verbose_name_plural = "brief"

    def get_queryset(self, request):
        # One row: the brief an editor works on. A published brief with an open revision is
        # represented by that revision; retired briefs are history.
        pending = CodeBrief._base_manager.filter(revision_of=OuterRef("pk"), state__in=PENDING_STATES)
        return (
            super()
            .get_queryset(request)
            .exclude(state=WorkflowState.RETIRED)
            .exclude(Exists(pending))
            .select_related("code")
        )


class BillingCodeAdmin(GuardedImportExportMixin, CuratedAdmin):
    """The catalogue's side of the code page; `briefs.admin` registers it with the payer inlines."""

    resource_classes = [BillingCodeResource]
    list_display = (
        "code",
        "system",
        "short_descriptor",
        "category",
        "is_add_on",
        "status",
        "global_days",
        "updated_at",
    )
    list_filter = ("system", "status", "is_add_on", "category")
    # A prefix, so the code pickers (autocomplete) narrow down while a curator types '935'.
    search_fields = ("^code", "short_descriptor", "long_descriptor")
    list_select_related = ("release",)
    fieldsets = (
        (None, {"fields": ("system", "code", "short_descriptor", "long_descriptor", "category", "is_add_on")}),
        ("Status", {"fields": ("status", "effective_date", "termination_date", "add_date", "action_code")}),
        (
            "CMS and fee schedule",
            {
                "classes": ("collapse",),
                "fields": (
                    "coverage_code",
                    "type_of_service",
                    "global_days",
                    "mult_proc",
                    "bilat_surg",
                    "asst_surg",
                    "co_surg",
                    "team_surg",
                    "release",
                ),
            },
        ),
        ("Record", {"classes": ("collapse",), "fields": CuratedAdmin.readonly_fields}),
    )
    raw_id_fields = ("release",)
    inlines = [CodeBriefInline, ModifierGuidanceInline, SiteOfServiceInline, RelationshipInline, CodeDiagnosisInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "category":
            # A menu of the controlled list: a typo can no longer create a new category.
            names = CodeCategory.objects.order_by("name").values_list("name", flat=True)
            return forms.ChoiceField(
                label="Category",
                choices=[("", "—"), *((name, name) for name in names)],
                required=False,
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(CodeBrief)
class CodeBriefAdmin(ReviewedAdmin):
    """Briefs. "Add brief" for a code that already has one leads to that brief (or its open
    revision) instead of a second brief, which the one-brief-per-code constraint forbids."""

    list_display = ("code", "title", "state", "revision_of", "updated_at", "changed_by")
    list_filter = ("state",)
    search_fields = ("=code__code", "title", "headline")
    list_select_related = ("code", "changed_by", "revision_of__code")
    autocomplete_fields = ("code",)
    fieldsets = (
        (None, {"fields": ("code", "title", "headline", "lead")}),
        ("Summary & Overview", {"fields": ("significance", "key_payers_summary", "reader_takeaways", "audience_note")}),
        ("Billing Code Overview", {"fields": ("service_type", "site_of_service_summary")}),
        ("Clinical context", {"fields": ("clinical_context",)}),
        WORKFLOW_FIELDSET,
        ("Record", {"classes": ("collapse",), "fields": CuratedAdmin.readonly_fields}),
    )

    def add_view(self, request, form_url="", extra_context=None):
        existing = self._existing_brief(request.GET.get("code", "")) if request.method == "GET" else None
        if existing is not None:
            self.message_user(
                request,
                f"{existing.code.code} already has a brief; it is opened here. "
                "Saving a change to a published brief starts its draft revision.",
                messages.INFO,
            )
            return HttpResponseRedirect(admin_change_url(existing))
        return super().add_view(request, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            return form
        existing_brief = self._existing_brief

        class AddBriefForm(form):
            def clean(self):
                cleaned_data = super().clean()
                code = cleaned_data.get("code")
                existing = existing_brief(code.pk) if code is not None else None
                if existing is not None:
                    # Caught here, with a way forward, rather than as the constraint's bare message.
                    self.add_error(
                        "code",
                        format_html(
                            "{} already has a brief: <a href='{}'>open it</a> to edit it (your entries here stay "
                            "on this page to copy).",
                            code.code,
                            admin_change_url(existing),
                        ),
                    )
                return cleaned_data

        return AddBriefForm

    def _existing_brief(self, code_pk) -> CodeBrief | None:
        """The brief an editor should work on for the code: its open revision, else its current brief."""
        if not str(code_pk).isdigit():
            return None
        current = CodeBrief.objects.current().filter(code_id=code_pk).select_related("code").first()
        if current is None:
            return None
        return pending_revision(current) or current


@admin.register(CodeRelationship)
class CodeRelationshipAdmin(ReviewedAdmin):
    list_display = ("from_code", "kind", "to_code", "note", "state")
    list_filter = ("kind", "state")
    search_fields = ("=from_code__code", "=to_code__code")
    list_select_related = ("from_code", "to_code")
    autocomplete_fields = ("from_code", "to_code")


@admin.register(Modifier)
class ModifierAdmin(CuratedAdmin):
    list_display = ("code", "description", "level", "status")
    list_filter = ("level", "status")
    search_fields = ("=code", "description")


@admin.register(ModifierGuidance)
class ModifierGuidanceAdmin(ReviewedAdmin):
    list_display = ("code", "modifier_label", "modifier_description", "when_to_use", "display_order", "state")
    list_filter = ("state",)
    search_fields = ("=code__code", "=modifier__code", "when_to_use")
    list_select_related = ("code", "modifier")
    autocomplete_fields = ("code", "modifier")

    @admin.display(description="modifier")
    def modifier_label(self, obj):
        return obj.modifier_label

    @admin.display(description="description")
    def modifier_description(self, obj):
        return obj.modifier_description


@admin.register(PlaceOfService)
class PlaceOfServiceAdmin(CuratedAdmin):
    list_display = ("code", "name", "setting")
    list_filter = ("setting",)
    search_fields = ("=code", "name")


@admin.register(SiteOfService)
class SiteOfServiceAdmin(ReviewedAdmin):
    list_display = ("code", "place_of_service", "setting_note", "is_typical", "state")
    list_filter = ("state", "is_typical", "place_of_service")
    search_fields = ("=code__code", "setting_note")
    list_select_related = ("code", "place_of_service")
    autocomplete_fields = ("code",)


class DiagnosisCodeForm(forms.ModelForm):
    """The admin builds the model form around this; it only widens the code field."""

    # One more character than stored: curators type the dot ('T82.857A'); the model drops it.
    code = forms.CharField(max_length=8, help_text="With or without the dot: I25.10 or I2510.")


@admin.register(DiagnosisCode)
class DiagnosisCodeAdmin(GuardedImportExportMixin, CuratedAdmin):
    resource_classes = [DiagnosisCodeResource]
    list_display = ("display_code", "description", "is_billable", "status", "release")
    list_filter = ("is_billable", "status")
    search_fields = ("code", "description")  # see get_search_results
    list_select_related = ("release",)
    raw_id_fields = ("release",)
    form = DiagnosisCodeForm

    @admin.display(description="code", ordering="code")
    def display_code(self, obj):
        return obj.display_code

    def get_search_results(self, request, queryset, search_term):
        # The pickers and the change list search like the API: a code's start by index, else words.
        return search_diagnosis_codes(queryset, search_term), False


@admin.register(CodeDiagnosis)
class CodeDiagnosisAdmin(ReviewedAdmin):
    list_display = ("code", "diagnosis", "note", "state")
    list_filter = ("state",)
    search_fields = ("=code__code", "=diagnosis__code")
    list_select_related = ("code", "diagnosis")
    autocomplete_fields = ("code", "diagnosis")


@admin.register(CodeCategory)
class CodeCategoryAdmin(admin.ModelAdmin):
    """The controlled list of code categories. A name in use stays fixed (codes store it) and cannot be deleted."""

    list_display = ("name", "description", "updated_at")
    search_fields = ("name",)

    def get_readonly_fields(self, request, obj=None):
        return ("name",) if obj is not None and obj.codes_filed_under().exists() else ()

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.codes_filed_under().exists():
            return False
        return super().has_delete_permission(request, obj)
