"""How a coverage criterion's status and prior-authorization rule look on the reader pages."""

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def coverage_badges(criterion) -> str:
    """The criterion's badges: pending revision (for an editor's preview), coverage status, prior auth.

    A tag, not an included template: the payer page and the coverage matrix show them on every row,
    and rendering an include per row was one of the payer page's larger costs (docs/bench.md).
    """
    pending = ""
    if getattr(criterion, "is_pending", False):
        state = criterion.get_state_display().lower()
        pending = format_html('<span class="badge badge-draft">Pending: {}</span>\n', state)
    return format_html(
        '{}<span class="badge status-{}">{}</span>\n<span class="badge pa-{}">PA: {}</span>\n',
        pending,
        criterion.coverage_status,
        criterion.get_coverage_status_display(),
        criterion.prior_auth,
        criterion.get_prior_auth_display(),
    )
