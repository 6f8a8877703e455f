"""Hand-written representations of the hottest list rows, identical to their serializers' output.

A coverage criterion serialised field by field through DRF (three nested serializers, a list of
diagnosis codes, five hyperlinked URLs) cost more than fetching it; requirements and gaps are
alike. Here a row becomes its dict in one function: links are built from a prefix reversed once
per request, dates and times formatted by the same DRF fields the serializers declare.
`tests/api/test_fast_representations.py` holds both outputs equal, row by row; the declared
serializer stays the schema and the reference.
"""

from codes.models import DiagnosisCode
from payers.choices import CRD_COVERED, CRD_PA_NEEDED
from payers.models import CoverageCriterion
from policyhub.representations import Links, ValuesPage, date_text, time_text

# The API's payer, criteria, documentation-requirement and gap lists read a page with `values()`,
# not as model instances: a page of 100 criteria would build some 500 instances (criteria, codes,
# payers, policies, diagnoses), which cost more than the SQL itself (docs/bench.md). The
# `*_from_values()` functions turn those plain rows into exactly what the serializers (and
# `criterion()`, `requirement()`, `gap()` below) make of instances;
# tests/api/test_fast_representations.py holds each equal to its serializer.
CODE_SUMMARY = ("code__code", "code__system", "code__short_descriptor")
PAYER_SUMMARY = ("payer__slug", "payer__name", "payer__kind")
POLICY_FIELDS = (
    "document_type",
    "number",
    "document_version",
    "title",
    "url",
    "effective_date",
    "last_reviewed",
    "next_review",
)
POLICY_SUMMARY = ("policy", *(f"policy__{field}" for field in POLICY_FIELDS))
# A criterion's own columns that its representation shows (besides its key and what it nests).
CRITERION_FIELDS = (
    "coverage_status",
    "prior_auth",
    "prior_auth_delegate",
    "criteria",
    "limitations",
    "effective_start",
    "effective_end",
    "last_verified",
    "reviewed_at",
    "updated_at",
)
CRITERION_VALUES = ("id", *CRITERION_FIELDS, *CODE_SUMMARY, *PAYER_SUMMARY, *POLICY_SUMMARY)
REQUIREMENT_VALUES = (
    "id",
    "kind",
    "text",
    "level",
    "purpose",
    "updated_at",
    *CODE_SUMMARY,
    *PAYER_SUMMARY,
    *POLICY_SUMMARY,
)

GAP_VALUES = (
    "id",
    "category",
    "description",
    "status",
    "priority",
    "assignee__username",
    "due_date",
    "resolution_note",
    "opened_at",
    "resolved_at",
    "rule",
    "updated_at",
    *CODE_SUMMARY,
    *PAYER_SUMMARY,
    *POLICY_SUMMARY,
)


def without_code(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of a row shown inside its code's own brief, where the code is the brief's."""
    return tuple(column for column in columns if column not in CODE_SUMMARY)


PAYER_VALUES = ("slug", "name", "kind", "is_national", "is_tracked", "website", "updated_at")


def criteria_from_values(rows: list[dict], link: Links, *, with_code: bool = True) -> list[dict]:
    """`criterion()`'s output for rows read with `values(*CRITERION_VALUES)` (without the code's
    columns when `with_code` is false, as in a code's brief); one query for their diagnoses."""
    through = CoverageCriterion.diagnosis_codes.through
    diagnoses: dict[int, list[dict]] = {row["id"]: [] for row in rows}
    links = (
        through.objects.filter(coveragecriterion_id__in=list(diagnoses))
        # The prefetch's order: DiagnosisCode.Meta.ordering.
        .order_by("diagnosiscode__code")
        .values_list(
            "coveragecriterion_id", "diagnosiscode__code", "diagnosiscode__description", "diagnosiscode__is_billable"
        )
    )
    for criterion_id, code, description, is_billable in links:
        diagnoses[criterion_id].append(_diagnosis(code, description, is_billable, link))
    return [
        {
            **_head_of(row, "api:coverage-criterion-detail", link, with_code),
            **_criterion_facts(row),
            "diagnosis_codes": diagnoses[row["id"]],
            "policy": _policy_of(row, link),
            **_criterion_dates(row),
        }
        for row in rows
    ]


def requirements_from_values(rows: list[dict], link: Links, *, with_code: bool = True) -> list[dict]:
    """`requirement()`'s output for rows read with `values(*REQUIREMENT_VALUES)`."""
    return [
        {
            **_head_of(row, "api:documentation-requirement-detail", link, with_code),
            "kind": row["kind"],
            "text": row["text"],
            "level": row["level"],
            "purpose": row["purpose"],
            "policy": _policy_of(row, link),
            "updated_at": time_text(row["updated_at"]),
        }
        for row in rows
    ]


def gaps_from_values(rows: list[dict], link: Links, *, with_code: bool = True) -> list[dict]:
    """`gap()`'s output for rows read with `values(*GAP_VALUES)`."""
    return [
        {
            **_head_of(row, "api:gap-detail", link, with_code),
            "policy": _policy_of(row, link),
            "category": row["category"],
            "description": row["description"],
            "status": row["status"],
            "priority": row["priority"],
            "assignee": row["assignee__username"],
            "due_date": date_text(row["due_date"]),
            "resolution_note": row["resolution_note"],
            "opened_at": time_text(row["opened_at"]),
            "resolved_at": time_text(row["resolved_at"]),
            "rule": row["rule"],
            "updated_at": time_text(row["updated_at"]),
        }
        for row in rows
    ]


def payers_from_values(rows: list[dict], link: Links) -> list[dict]:
    """`PayerSerializer`'s output for rows read with `values(*PAYER_VALUES)`."""
    return [
        {
            "url": link("api:payer-detail", row["slug"]),
            "slug": row["slug"],
            "name": row["name"],
            "kind": row["kind"],
            "is_national": row["is_national"],
            "is_tracked": row["is_tracked"],
            "website": row["website"],
            "updated_at": time_text(row["updated_at"]),
        }
        for row in rows
    ]


CRITERIA_PAGE = ValuesPage(CRITERION_VALUES, criteria_from_values)
REQUIREMENTS_PAGE = ValuesPage(REQUIREMENT_VALUES, requirements_from_values)
GAPS_PAGE = ValuesPage(GAP_VALUES, gaps_from_values)
PAYERS_PAGE = ValuesPage(PAYER_VALUES, payers_from_values)


def _head_of(row: dict, view_name: str, link: Links, with_code: bool = True) -> dict:
    """Key, link, code (unless shown inside the code's own brief) and payer: how every row about a
    code and a payer begins."""
    head = {"id": row["id"], "url": link(view_name, row["id"])}
    if with_code:
        head["code"] = _code_of(row, link)
    head["payer"] = _payer_of(row, link)
    return head


def _code_of(row: dict, link: Links) -> dict | None:
    code = row["code__code"]
    return None if code is None else _code(code, row["code__system"], row["code__short_descriptor"], link)


def _payer_of(row: dict, link: Links) -> dict | None:
    slug = row["payer__slug"]
    return None if slug is None else _payer(slug, row["payer__name"], row["payer__kind"], link)


def _policy_of(row: dict, link: Links) -> dict | None:
    key = row["policy"]
    return None if key is None else _policy(key, [row[f"policy__{field}"] for field in POLICY_FIELDS], link)


def _criterion_facts(row: dict) -> dict:
    status, prior_auth = row["coverage_status"], row["prior_auth"]
    return {
        "coverage_status": status,
        "crd_covered": CRD_COVERED[status],
        "prior_auth": prior_auth,
        "crd_pa_needed": CRD_PA_NEEDED[prior_auth],
        "prior_auth_delegate": row["prior_auth_delegate"],
        "criteria": row["criteria"],
        "limitations": row["limitations"],
    }


def _criterion_dates(row: dict) -> dict:
    return {
        "effective_start": date_text(row["effective_start"]),
        "effective_end": date_text(row["effective_end"]),
        "last_verified": date_text(row["last_verified"]),
        "published_at": time_text(row["reviewed_at"]),
        "updated_at": time_text(row["updated_at"]),
    }


def _head(row, view_name: str, link: Links, with_code: bool) -> dict:
    """Key, link and (unless shown inside the code's own brief) the code of a row about a code."""
    head = {"id": row.id, "url": link(view_name, row.id)}
    if with_code:
        head["code"] = None if row.code_id is None else code_summary(row.code, link)
    return head


def criterion(row, link: Links, *, with_code: bool = True) -> dict:
    """`CoverageCriterionSerializer`'s output for a criterion with code, payer, policy and
    diagnosis codes selected or prefetched; `with_code=False`: `BriefCoverageSerializer`'s."""
    values = {field: getattr(row, field) for field in CRITERION_FIELDS}
    policy = row.policy
    return {
        **_head(row, "api:coverage-criterion-detail", link, with_code),
        "payer": payer_summary(row.payer, link),
        **_criterion_facts(values),
        "diagnosis_codes": [
            _diagnosis(diagnosis.code, diagnosis.description, diagnosis.is_billable, link)
            for diagnosis in row.diagnosis_codes.all()
        ],
        "policy": None if policy is None else policy_summary(policy, link),
        **_criterion_dates(values),
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
    return _code(code.code, code.system, code.short_descriptor, link)


def payer_summary(payer, link: Links) -> dict:
    return _payer(payer.slug, payer.name, payer.kind, link)


def policy_summary(policy, link: Links) -> dict:
    return _policy(policy.id, [getattr(policy, field) for field in POLICY_FIELDS], link)


def _code(code: str, system: str, short_descriptor: str, link: Links) -> dict:
    return {"url": link("api:code-detail", code), "code": code, "system": system, "short_descriptor": short_descriptor}


def _payer(slug: str, name: str, kind: str, link: Links) -> dict:
    return {"url": link("api:payer-detail", slug), "slug": slug, "name": name, "kind": kind}


def _policy(key: int, fields: list, link: Links) -> dict:
    """A policy summary from its key and its POLICY_FIELDS values, in that order."""
    document_type, number, document_version, title, url, effective_date, last_reviewed, next_review = fields
    return {
        "id": key,
        "url": link("api:payer-policy-detail", key),
        "document_type": document_type,
        "number": number,
        "document_version": document_version,
        "title": title,
        "document_url": url,
        "effective_date": date_text(effective_date),
        "last_reviewed": date_text(last_reviewed),
        "next_review": date_text(next_review),
    }


def _diagnosis(code: str, description: str, is_billable: bool, link: Links) -> dict:
    return {
        "url": link("api:diagnosis-code-detail", code),
        "code": code,
        "display_code": DiagnosisCode.dotted(code),
        "description": description,
        "is_billable": is_billable,
    }
