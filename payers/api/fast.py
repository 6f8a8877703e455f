"""Hand-written representations of the hottest list rows, identical to their serializers' output.

A coverage criterion serialised field by field through DRF (three nested serializers, a list of
diagnosis codes, five hyperlinked URLs) cost more than fetching it; requirements and gaps are
alike. Here a row becomes its dict in one function: links are built from a prefix reversed once
per request, dates and times formatted by the same DRF fields the serializers declare.
`tests/api/test_fast_representations.py` holds both outputs equal, row by row; the declared
serializer stays the schema and the reference.
"""

from django.urls import reverse
from rest_framework import serializers

from payers.choices import CRD_COVERED, CRD_PA_NEEDED

_DATE = serializers.DateField()
_TIME = serializers.DateTimeField()
# A key no real row has, reversed once and replaced by each row's key.
_MARK = "0000000000"


class Links:
    """Absolute detail URLs of API resources, built by string formatting after one `reverse`."""

    def __init__(self, request):
        self.request = request
        self.prefixes: dict[str, tuple[str, str]] = {}

    def __call__(self, view_name: str, key) -> str:
        try:
            before, after = self.prefixes[view_name]
        except KeyError:
            kwarg = {"api:code-detail": "code", "api:diagnosis-code-detail": "code", "api:payer-detail": "slug"}
            url = reverse(view_name, kwargs={kwarg.get(view_name, "pk"): _MARK})
            if self.request is not None:
                url = self.request.build_absolute_uri(url)
            before, _, after = url.rpartition(_MARK)
            self.prefixes[view_name] = before, after
        return f"{before}{key}{after}"


def links_of(serializer) -> Links:
    """The request's `Links`, kept in the serializer context so a whole page shares one."""
    context = serializer.context
    if "fast_links" not in context:
        context["fast_links"] = Links(context.get("request"))
    return context["fast_links"]


def _date(value):
    return None if value is None else _DATE.to_representation(value)


def _time(value):
    return None if value is None else _TIME.to_representation(value)


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
        "effective_start": _date(row.effective_start),
        "effective_end": _date(row.effective_end),
        "last_verified": _date(row.last_verified),
        "published_at": _time(row.reviewed_at),
        "updated_at": _time(row.updated_at),
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
        "updated_at": _time(row.updated_at),
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
        "due_date": _date(row.due_date),
        "resolution_note": row.resolution_note,
        "opened_at": _time(row.opened_at),
        "resolved_at": _time(row.resolved_at),
        "rule": row.rule,
        "updated_at": _time(row.updated_at),
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
        "effective_date": _date(policy.effective_date),
        "last_reviewed": _date(policy.last_reviewed),
        "next_review": _date(policy.next_review),
    }
