"""The admin of code-set releases: the read-only record of each import and what it changed."""

from django.apps import apps
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from codes.importers.releases import CREATED, DESCRIPTOR_CHANGES, TERMINATED, UPDATED, describe_counts
from codes.models import CodeSetRelease


@admin.register(CodeSetRelease)
class CodeSetReleaseAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "effective_date", "created_at", "source_file")
    list_filter = ("kind",)
    search_fields = ("name", "source_file")
    # A release is the record of an import: shown, never edited (the raw counts are in what_changed).
    fields = readonly_fields = (
        "kind",
        "name",
        "effective_date",
        "source_file",
        "checksum",
        "what_changed",
        "created_at",
        "updated_at",
        "changed_by",
    )

    @admin.display(description="what the import changed")
    def what_changed(self, obj):
        """Per kind of row: the counts, the codes created / changed / terminated, a link to the rows."""
        sections = [release_section(obj, label, counter) for label, counter in release_counts(obj)]
        rejected = obj.counts.get("rejected") or 0
        reasons = format_html_join(
            "", "<li>{} {}</li>", ((n, why) for why, n in obj.counts.get("rejected reasons", {}).items())
        )
        sections.append(format_html("<p><strong>rejected</strong>: {}</p><ul>{}</ul>", rejected, reasons))
        return format_html_join("", "{}", ((section,) for section in sections))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


RELEASE_OUTCOMES = (CREATED, UPDATED, DESCRIPTOR_CHANGES, TERMINATED)


def release_counts(release):
    """(label, counter) per kind of row the import counted, e.g. ('diagnosis codes', {...})."""
    return [
        (label, counter)
        for label, counter in release.counts.items()
        if label != "rejected reasons" and isinstance(counter, dict)
    ]


def release_section(release, label, counter):
    """One kind of row: its counts, the keys listed per outcome and a link to the rows in the admin."""
    change = release.changes.get(label, {})
    listed = change.get("keys", {})
    summary = describe_counts(counter)
    items = []
    for outcome in RELEASE_OUTCOMES:
        keys = listed.get(outcome, [])
        if keys:
            more = counter.get(outcome, 0) - len(keys)
            items.append((outcome, counter.get(outcome, 0), " ".join(keys), f" … and {more} more" if more > 0 else ""))
    lists = format_html_join("", "<dt>{} ({})</dt><dd>{}{}</dd>", items)
    link = _rows_of_release_link(release, change.get("model", ""), label)
    return format_html("<h3>{}</h3><p>{}</p><dl>{}</dl>{}", label, summary, lists, link)


def _rows_of_release_link(release, model_label: str, label: str):
    """A link to the admin list of the rows this release created or last changed.

    The import names the model only where its rows record their release (see `ImportRun.changes`).
    """
    try:
        model = apps.get_model(model_label)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except (LookupError, ValueError, NoReverseMatch):
        return ""
    return format_html(
        '<p><a href="{}?release__id__exact={}">The {} this release created or last changed</a></p>',
        url,
        release.pk,
        label,
    )
