"""The code brief as a Markdown file: the same `Brief` the page shows, section by section.

Curated text is escaped so that it stays text in any Markdown renderer: formatting characters, link
brackets and raw-HTML angle brackets get a backslash, and table cells stay on one line.
"""

import re
from collections.abc import Callable

from django.urls import reverse

from briefs.sections import Brief, Missing, plain_number

_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_LINE_START_MARKER = re.compile(r"^(\s*)([#+-])", re.MULTILINE)
_LINE_START_NUMBER = re.compile(r"^(\s*)(\d+)\.", re.MULTILINE)


def text(value) -> str:
    """Curated text made inert: it renders as written, never as markup."""
    escaped = _SPECIAL.sub(r"\\\1", str(value))
    escaped = _LINE_START_MARKER.sub(r"\1\\\2", escaped)
    return _LINE_START_NUMBER.sub(r"\1\2\\.", escaped)


def cell(value) -> str:
    return " ".join(text(value).split())


def gap_reference(gap) -> str:
    payer = f", {cell(gap.payer.name)}" if gap.payer_id else ""
    return f"#{gap.pk} ({gap.get_category_display()}{payer})"


def missing(item: Missing) -> str:
    if not item.gaps:
        return f"_{item.text}_ No follow-up gap is open."
    noun = "Follow-up gap" if len(item.gaps) == 1 else "Follow-up gaps"
    return f"_{item.text}_ {noun} " + ", ".join(gap_reference(gap) for gap in item.gaps) + "."


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def render_markdown(brief: Brief, *, absolute_url: Callable[[str], str]) -> str:
    """The whole brief; `absolute_url` turns a site path into a link that works outside the site."""
    code, words = brief.code, brief.text
    h = brief.headings
    out = [f"# {text(brief.title)}", ""]

    out += [f"## {h['summary']}", ""]
    for item in brief.summary:
        out += [f"**{item.label}:** {text(item.text)}", ""]
    if brief.summary_missing:
        out += [missing(brief.summary_missing), ""]

    out += [f"## {h['overview']}", ""]
    out += [missing(brief.descriptor_missing) if brief.descriptor_missing else text(code.long_descriptor), ""]
    service_type = missing(brief.service_type_missing) if brief.service_type_missing else text(words.service_type)
    out += [f"- **Service type:** {service_type}"]
    site_known = bool(words and words.site_of_service_summary) or bool(brief.sites)
    if words and words.site_of_service_summary:
        out += [f"- **Typical site of service:** {text(words.site_of_service_summary)}"]
    elif not site_known:
        out += [f"- **Typical site of service:** {missing(brief.site_missing)}"]
    if brief.sites:
        places = "; ".join(
            f"{site.place_of_service.code} {text(site.place_of_service.name)}"
            + (f" ({text(site.setting_note)})" if site.setting_note else "")
            for site in brief.sites
        )
        out += [f"- **Places of service:** {places}"]
    out += [""]
    if brief.site_missing and site_known:
        out += [missing(brief.site_missing), ""]

    out += [f"## {h['specifications']}", "", "### Clinical Context", ""]
    out += [missing(brief.clinical_missing) if brief.clinical_missing else text(words.clinical_context), ""]
    out += ["### Coding Specifications", ""]
    if brief.modifiers:
        rows = [
            [cell(row.label), cell(row.description), missing(row.missing) if row.missing else cell(row.when_to_use)]
            for row in brief.modifiers
        ]
        out += [*table(["Modifier", "Description", "When to Use"], rows), ""]
    if brief.modifiers_missing:
        out += [missing(brief.modifiers_missing), ""]

    out += [f"## {h['coverage']}", ""]
    if brief.coverage_missing:
        out += [missing(brief.coverage_missing), ""]
    if brief.documentation_all_payers:
        out += ["Documentation all payers expect:", ""]
        out += [f"- {_documentation(doc)}" for doc in brief.documentation_all_payers]
        out += [""]
    if brief.documentation_missing:
        out += [f"Documentation requirements: {missing(brief.documentation_missing)}", ""]
    rows = []
    for row in brief.coverage:
        criterion = row.criterion
        rows.append(
            [
                cell(row.payer.name),
                _status(row) if criterion else "Not recorded",
                cell(_prior_auth(criterion)) if criterion else "Not recorded",
                missing(row.missing) if row.missing else _criteria(criterion),
                "; ".join(_documentation(doc) for doc in row.documentation)
                or ("All-payer requirements apply" if brief.documentation_all_payers else "None recorded"),
                _policy(criterion) if criterion and criterion.policy_id else "None recorded",
            ]
        )
    if rows:
        header = ["Payer", "Coverage status", "Prior authorization", "Criteria", "Documentation", "Source policy"]
        out += [*table(header, rows), ""]

    out += [f"## {h['diagnosis']}", ""]
    out += [f"- {cell(link.diagnosis.display_code)} {cell(link.diagnosis.description)}" for link in brief.diagnoses]
    for criterion in brief.payer_diagnoses:
        codes = ", ".join(cell(dx.display_code) for dx in criterion.diagnosis_codes.all())
        out += [f"- {cell(criterion.payer.name)} supports: {codes}"]
    if brief.diagnoses or brief.payer_diagnoses:
        out += [""]
    if brief.diagnosis_missing:
        out += [missing(brief.diagnosis_missing), ""]

    out += [f"## {h['benchmarks']}", ""]
    for heading, rows_, gap in (
        ("Reimbursement", brief.reimbursement, brief.reimbursement_missing),
        ("Utilization", brief.utilization, brief.utilization_missing),
    ):
        out += [f"### {heading}", ""]
        if rows_:
            out += [*table(["Metric", "Setting", "Payer", "Value", "Period", "Source"], _benchmarks(rows_)), ""]
        if gap:
            out += [missing(gap), ""]

    out += [f"## {h['related']}", ""]
    for link in brief.related:
        url = absolute_url(link.code.get_absolute_url())
        note = f" ({text(link.note)})" if link.note else ""
        out += [f"- {link.role}: [{link.code.code}]({url}) {text(link.code.short_descriptor)}{note}"]
    if not brief.related:
        out += ["No related codes are recorded."]
    out += [""]

    out += [f"## {h['gaps']}", ""]
    for gap in brief.gaps:
        payer = f" · {cell(gap.payer.name)}" if gap.payer_id else ""
        assignee = cell(gap.assignee.get_username()) if gap.assignee_id else "unassigned"
        due = f", due {gap.due_date.isoformat()}" if gap.due_date else ""
        out += [
            f"- **#{gap.pk} · {gap.get_category_display()}{payer}** ({gap.get_status_display()}, "
            f"{gap.get_priority_display().lower()} priority, {assignee}{due}): {cell(gap.description)}"
        ]
    if not brief.gaps:
        out += ["No follow-up gaps are open."]
    worklist = absolute_url(reverse("gaps") + f"?code={code.code}")
    out += ["", f"Worklist: {worklist}", ""]
    return "\n".join(out)


def _status(row) -> str:
    return cell(row.criterion.get_coverage_status_display()) + (f" ({row.period})" if row.period else "")


def _prior_auth(criterion) -> str:
    label = criterion.get_prior_auth_display()
    return f"{label} (via {criterion.prior_auth_delegate})" if criterion.prior_auth_delegate else label


def _criteria(criterion) -> str:
    parts = [cell(criterion.criteria)] if criterion.criteria else []
    if criterion.limitations:
        parts.append("Limitations: " + cell(criterion.limitations))
    return " ".join(parts) or "None stated"


def _documentation(doc) -> str:
    return f"{cell(doc.get_kind_display())}: {cell(doc.text)} ({doc.get_level_display().lower()})"


def _policy(criterion) -> str:
    policy = criterion.policy
    dates = [
        (label, value)
        for label, value in (
            ("effective", policy.effective_date),
            ("last reviewed", policy.last_reviewed),
            ("next review", policy.next_review),
        )
        if value
    ]
    name = f"{cell(policy.number)} {cell(policy.title)}"
    if policy.url:
        name = f"[{name}]({policy.url.replace(' ', '%20').replace(')', '%29')})"
    return name + "".join(f"; {label} {value.isoformat()}" for label, value in dates)


def _benchmarks(rows) -> list[list[str]]:
    return [
        [
            cell(row.get_metric_display()),
            cell(row.get_setting_display()),
            cell(row.payer.name) if row.payer_id else "National",
            f"{plain_number(row.value)} {cell(row.unit)}".strip(),
            cell(row.period),
            cell(row.source),
        ]
        for row in rows
    ]
