import json

from django.contrib import admin
from django.utils.html import format_html

from briefs.models import CdsClient, CoverageAssertion, PayerIdentifier
from policyhub.admin import CuratedAdmin


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
