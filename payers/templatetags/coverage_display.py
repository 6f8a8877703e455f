"""How a coverage criterion's status and prior-authorization rule look on the reader pages, and a
row of a payer's coverage table."""

from django import template
from django.utils.html import format_html
from django.utils.text import Truncator

from payers.choices import CoverageStatus, PriorAuth

register = template.Library()

# Labels by value, looked up once: a model's get_FOO_display() rebuilds its choices' mapping on
# every call, twice per row.
COVERAGE_LABELS = dict(CoverageStatus.choices)
PRIOR_AUTH_LABELS = dict(PriorAuth.choices)


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
        COVERAGE_LABELS.get(criterion.coverage_status, criterion.coverage_status),
        criterion.prior_auth,
        PRIOR_AUTH_LABELS.get(criterion.prior_auth, criterion.prior_auth),
    )


NONE_RECORDED = format_html('<span class="muted">{}</span>', "None recorded")


@register.simple_tag
def payer_coverage_row(criterion) -> str:
    """One row of a payer's coverage table (templates/payers/payer_detail.html): the code, badges,
    criteria (the first 40 words), source policy, period in force (ISO dates) and last check.

    Written here, not as template markup: the page shows 50 rows, and the template's look-ups and
    filters for them were a quarter of the page's time on the 1M data set (docs/bench.md).
    """
    code = criterion.code
    delegate = criterion.prior_auth_delegate
    start, end, verified = criterion.effective_start, criterion.effective_end, criterion.last_verified
    if start and end:
        period = f"{start.isoformat()} to {end.isoformat()}"
    elif start:
        period = f"From {start.isoformat()}, open-ended"
    elif end:
        period = f"Until {end.isoformat()}"
    else:
        period = "Open-ended"
    return format_html(
        '        <tr>\n          <th scope="row"><a class="code-link" href="{}#coverage">{}</a>'
        '<div class="muted row-note">{}</div></th>\n'
        '          <td><div class="cell-badges">{}</div>{}</td>\n'
        "          <td>{}</td>\n"
        "          <td>{}</td>\n"
        '          <td class="nowrap">{}</td>\n'
        '          <td class="nowrap">{}</td>\n'
        "        </tr>\n",
        code.get_absolute_url(),
        code.code,
        code.short_descriptor,
        coverage_badges(criterion),
        format_html('<div class="muted">PA via {}</div>', delegate) if delegate else "",
        Truncator(criterion.criteria).words(40, truncate=" …") if criterion.criteria else NONE_RECORDED,
        criterion.policy.number if criterion.policy_id else NONE_RECORDED,
        period,
        verified.isoformat() if verified else "—",
    )
