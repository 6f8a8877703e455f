"""Hand-written representations of the hottest list rows, identical to their serializers' output.

A coverage criterion serialised field by field through DRF (three nested serializers, a list of
diagnosis codes, five hyperlinked URLs) cost more than fetching it; requirements and gaps are
alike. Here a row becomes its dict in one function: links are built from a prefix reversed once
per request, dates and times formatted by the same DRF fields the serializers declare.
`tests/api/test_fast_representations.py` holds both outputs equal, row by row; the declared
serializer stays the schema and the reference.
"""

from payers.choices import CRD_COVERED, CRD_PA_NEEDED
from policyhub.representations import Links, date_text, time_text


def _head(row, view_name: str, link: Links, with_code: bool) -> dict:
    """Key, link and (unless shown inside the code's own brief) the code of a row about a code."""
    head = {"id": row.id, "url": link(view_name, row.id)}
    if with_code:
        head["code"] = None if row.code_id is None else code_summary(row.code, link)
    return head


def criterion(row, link: Links, *, with_code: bool = True) -> dict:
    """`CoverageCriterionSerializer`'s output for a criterion with code, payer, policy and
    diagnosis codes selected or prefetched; `with_code=False`: `BriefCoverageSerializer`'s."""
    head = _head(row, "api:coverage-criterion-detail", link, with_code)
    policy = row.policy
    return {
        **head,
        "payer": payer_summary(row.payer, link),
        "coverage_status": row.coverage_status,
        "crd_covered": CRD_COVERED[row.coverage_status],
        "prior_auth": row.prior_auth,
        "crd_pa_needed": CRD_PA_NEEDED[row.prior_auth],
        "prior_auth_delegate": row.prior_auth_delegate,
        "criteria": row.criteria,
        "limitations": row.limitations,
        "diagnosis_codes": [
            {
                "url": link("api:diagnosis-code-detail", diagnosis.code),
                "code": diagnosis.code,
                "display_code": diagnosis.display_code,
                "description": diagnosis.description,
                "is_billable": diagnosis.is_billable,
            }
            for diagnosis in row.diagnosis_codes.all()
        ],
        "policy": None if policy is None else policy_summary(policy, link),
        "effective_start": date_text(row.effective_start),
        "effective_end": date_text(row.effective_end),
        "last_verified": date_text(row.last_verified),
        "published_at": time_text(row.reviewed_at),
        "updated_at": time_text(row.updated_at),
    }


def requirement(row, link: Links, *, with_code: bool = True) -> dict:
    """`DocumentationRequirementSerializer`'s output (`BriefDocumentationSerializer`'s without code)."""
    payer, policy = row.payer, row.policy
    return {
        **_head(row, "api:documentation-requirement-detail", link, with_code),
        "payer": None if payer is None else payer_summary(payer, link),
        "kind": row.kind,
        "text": row.text,
        "level": row.level,
        "purpose": row.purpose,
        "policy": None if policy is None else policy_summary(policy, link),
        "updated_at": time_text(row.updated_at),
    }


def gap(row, link: Links, *, with_code: bool = True) -> dict:
    """`FollowUpGapSerializer`'s output (`BriefGapSerializer`'s without code), assignee selected."""
    payer, policy, assignee = row.payer, row.policy, row.assignee
    return {
        **_head(row, "api:gap-detail", link, with_code),
        "payer": None if payer is None else payer_summary(payer, link),
        "policy": None if policy is None else policy_summary(policy, link),
        "category": row.category,
        "description": row.description,
        "status": row.status,
        "priority": row.priority,
        "assignee": None if assignee is None else assignee.username,
        "due_date": date_text(row.due_date),
        "resolution_note": row.resolution_note,
        "opened_at": time_text(row.opened_at),
        "resolved_at": time_text(row.resolved_at),
        "rule": row.rule,
        "updated_at": time_text(row.updated_at),
    }


def code_summary(code, link: Links) -> dict:
    return {
        "url": link("api:code-detail", code.code),
        "code": code.code,
        "system": code.system,
        "short_descriptor": code.short_descriptor,
    }


def payer_summary(payer, link: Links) -> dict:
    return {"url": link("api:payer-detail", payer.slug), "slug": payer.slug, "name": payer.name, "kind": payer.kind}


def policy_summary(policy, link: Links) -> dict:
    return {
        "id": policy.id,
        "url": link("api:payer-policy-detail", policy.id),
        "document_type": policy.document_type,
        "number": policy.number,
        "document_version": policy.document_version,
        "title": policy.title,
        "document_url": policy.url,
        "effective_date": date_text(policy.effective_date),
        "last_reviewed": date_text(policy.last_reviewed),
        "next_review": date_text(policy.next_review),
    }
