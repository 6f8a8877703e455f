"""Admin for webhook endpoints (administrators register them) and their delivery log (read only)."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from policyhub import webhooks
from policyhub.webhooks import WebhookDelivery, WebhookEndpoint
from policyhub.wording import counted


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text=WebhookEndpoint._meta.get_field("url").help_text,
    )
    resources = forms.MultipleChoiceField(
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only changes of these API resources; none ticked: all of them.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "secret", "resources", "delivered_position")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].choices = [(name, name) for name in webhooks.change_log_resources()]


class DeliveryInline(admin.TabularInline):
    """The endpoint's latest tries; the whole log is under Webhook deliveries."""

    model = WebhookDelivery
    fields = ("sent_at", "first_position", "last_position", "entries", "attempt", "outcome", "response_status", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "latest deliveries"

    def get_queryset(self, request):
        latest = super().get_queryset(request).order_by("-sent_at", "-id").values_list("pk", flat=True)[:20]
        return super().get_queryset(request).filter(pk__in=list(latest))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "resource_list", "delivered_position", "state", "failures", "retry_at")
    search_fields = ("name", "url")
    readonly_fields = ("failures", "retry_at", "disabled_at", "created_at")
    inlines = (DeliveryInline,)
    actions = ("enable_again", "deliver_now")

    def get_fields(self, request, obj=None):
        if obj is None:  # a new endpoint starts at the newest change; to replay, lower it afterwards
            return ("name", "url", "secret", "resources")
        return ("name", "url", "secret", "resources", "delivered_position", *self.readonly_fields)

    def get_inlines(self, request, obj):
        return self.inlines if obj else ()

    @admin.display(description="resources")
    def resource_list(self, endpoint):
        return ", ".join(endpoint.resources) or "all"

    @admin.display(description="status", ordering="disabled_at")
    def state(self, endpoint):
        if endpoint.status == "disabled":
            return format_html('<strong class="errornote">disabled {}</strong>', endpoint.disabled_at.date())
        return endpoint.status

    @admin.action(description="Enable again and resume delivery", permissions=["change"])
    def enable_again(self, request, queryset):
        enabled = webhooks.enable(queryset)
        self.message_user(
            request, f"Enabled {counted(enabled, 'webhook endpoint')}; delivery resumes where it stopped."
        )

    @admin.action(description="Deliver pending changes now", permissions=["change"])
    def deliver_now(self, request, queryset):
        queued = webhooks.queue_deliveries(queryset, retry_now=True)
        self.message_user(request, f"Queued delivery to {counted(queued, 'webhook endpoint')}.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "sent_at",
        "endpoint",
        "first_position",
        "last_position",
        "entries",
        "attempt",
        "outcome",
        "response_status",
        "duration_ms",
        "error",
    )
    list_filter = ("outcome", "endpoint")
    list_select_related = ("endpoint",)
    date_hierarchy = "sent_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the log goes with its endpoint
