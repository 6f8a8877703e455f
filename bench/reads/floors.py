"""The floors: the rows a request returns, fetched by hand-written SQL and serialised with orjson.

Served by the same server as PolicyHub (`/bench/floor/<name>/?...`, bench settings only), so a
request's ratio to its floor measures what Django, DRF and the application add to fetching and
encoding the same rows: the SQL is the fastest plain query for them, the JSON carries the same
fields and nesting (links included) as the API's.
"""

from decimal import Decimal

import orjson
from django.db import connection
from django.http import Http404, HttpResponse

PAGE = 50

CRITERIA = """
SELECT cc.id, bc.code, bc.system, bc.short_descriptor, p.slug, p.name AS payer_name, p.kind,
       cc.coverage_status, cc.prior_auth, cc.prior_auth_delegate, cc.criteria, cc.limitations,
       pd.id AS policy_id, pd.document_type, pd.number, pd.document_version, pd.title, pd.url AS document_url,
       pd.effective_date, pd.last_reviewed, pd.next_review,
       cc.effective_start, cc.effective_end, cc.last_verified, cc.reviewed_at, cc.updated_at
FROM payers_coveragecriterion cc
JOIN codes_billingcode bc ON bc.id = cc.code_id
JOIN payers_payer p ON p.id = cc.payer_id
LEFT JOIN payers_policydocument pd ON pd.id = cc.policy_id
WHERE cc.state = 'published' AND cc.revision_of_id IS NULL {where}
ORDER BY bc.code, p.name, cc.effective_start DESC, cc.id
LIMIT {limit} OFFSET %(offset)s
"""

DIAGNOSES = """
SELECT link.coveragecriterion_id, d.code, d.description, d.is_billable
FROM payers_coveragecriterion_diagnosis_codes link
JOIN codes_diagnosiscode d ON d.id = link.diagnosiscode_id
WHERE link.coveragecriterion_id = ANY(%(ids)s)
ORDER BY d.code
"""

CODES = """
SELECT bc.*, (SELECT b.title FROM codes_codebrief b WHERE b.code_id = bc.id AND b.state = 'published'
              AND b.revision_of_id IS NULL LIMIT 1) AS title
FROM codes_billingcode bc ORDER BY bc.code, bc.id LIMIT 50 OFFSET %(offset)s
"""

REQUIREMENTS = """
SELECT r.id, bc.code, bc.system, bc.short_descriptor, p.slug, p.name AS payer_name, p.kind, r.kind AS requirement,
       r.text, r.level, r.purpose, pd.id AS policy_id, pd.number, pd.title, r.updated_at
FROM payers_documentationrequirement r
JOIN codes_billingcode bc ON bc.id = r.code_id
LEFT JOIN payers_payer p ON p.id = r.payer_id
LEFT JOIN payers_policydocument pd ON pd.id = r.policy_id
WHERE r.state = 'published' AND r.revision_of_id IS NULL
ORDER BY bc.code, p.name, r.kind, r.id LIMIT 50 OFFSET %(offset)s
"""

GAPS = """
SELECT g.*, bc.code, p.slug, p.name AS payer_name
FROM payers_followupgap g
LEFT JOIN codes_billingcode bc ON bc.id = g.code_id
LEFT JOIN payers_payer p ON p.id = g.payer_id
WHERE TRUE {where}
ORDER BY g.status, g.priority, g.due_date, g.id LIMIT 50
"""

PAYERS = "SELECT * FROM payers_payer ORDER BY name LIMIT 50"

# The code detail's sections, each with what it nests (payer and policy summaries, places of
# service, modifiers, the other code of a relationship, the diagnosis): the same rows as the API's
# brief, one query a section.
PAYER_COLUMNS = "p.slug, p.name AS payer_name, p.kind"
POLICY_COLUMNS = (
    "pd.id AS policy_id, pd.document_type, pd.number, pd.document_version, pd.title, pd.url AS document_url, "
    "pd.effective_date, pd.last_reviewed, pd.next_review"
)
DETAIL_PARTS = {
    "brief": "SELECT b.title, b.headline, b.lead, b.significance, b.key_payers_summary, b.reader_takeaways, "
    "b.audience_note, b.service_type, b.site_of_service_summary, b.clinical_context, b.reviewed_at, b.updated_at "
    "FROM codes_codebrief b WHERE b.code_id = %(id)s AND b.state = 'published' AND b.revision_of_id IS NULL",
    "sites_of_service": "SELECT pos.code, pos.name, pos.setting, s.setting_note, s.is_typical "
    "FROM codes_siteofservice s JOIN codes_placeofservice pos ON pos.id = s.place_of_service_id "
    "WHERE s.code_id = %(id)s AND s.state = 'published' AND s.revision_of_id IS NULL ORDER BY pos.code",
    # The row without a modifier (about reporting none) reads "00", as `ModifierGuidance` labels it.
    "modifier_guidance": "SELECT coalesce(m.code, '00') AS modifier, coalesce(m.description, 'No modifier') "
    "AS description, g.when_to_use, g.display_order "
    "FROM codes_modifierguidance g LEFT JOIN codes_modifier m ON m.id = g.modifier_id "
    "WHERE g.code_id = %(id)s AND g.state = 'published' AND g.revision_of_id IS NULL ORDER BY g.display_order",
    "related_from": "SELECT r.kind, r.note, o.code, o.system, o.short_descriptor FROM codes_coderelationship r "
    "JOIN codes_billingcode o ON o.id = r.to_code_id "
    "WHERE r.from_code_id = %(id)s AND r.state = 'published' AND r.revision_of_id IS NULL",
    "related_to": "SELECT r.kind, r.note, o.code, o.system, o.short_descriptor FROM codes_coderelationship r "
    "JOIN codes_billingcode o ON o.id = r.from_code_id "
    "WHERE r.to_code_id = %(id)s AND r.state = 'published' AND r.revision_of_id IS NULL",
    "diagnosis_codes": "SELECT d.code, d.description, d.is_billable, cd.note FROM codes_codediagnosis cd "
    "JOIN codes_diagnosiscode d ON d.id = cd.diagnosis_id "
    "WHERE cd.code_id = %(id)s AND cd.state = 'published' AND cd.revision_of_id IS NULL ORDER BY d.code",
    "coverage": CRITERIA.replace("ORDER BY bc.code,", "ORDER BY").format(where="AND cc.code_id = %(id)s", limit=1000),
    "documentation": f"SELECT r.id, r.kind, r.text, r.level, r.purpose, r.updated_at, {PAYER_COLUMNS}, "  # noqa: S608 - constants only
    f"{POLICY_COLUMNS} FROM payers_documentationrequirement r LEFT JOIN payers_payer p ON p.id = r.payer_id "
    "LEFT JOIN payers_policydocument pd ON pd.id = r.policy_id "
    "WHERE r.code_id = %(id)s AND r.state = 'published' AND r.revision_of_id IS NULL ORDER BY p.name, r.kind",
    "benchmarks": f"SELECT b.id, b.setting, b.metric, b.value, b.unit, b.period, b.period_start, b.period_end, "  # noqa: S608 - constants only
    f"b.source, b.updated_at, {PAYER_COLUMNS} FROM payers_benchmark b LEFT JOIN payers_payer p ON p.id = b.payer_id "
    "WHERE b.code_id = %(id)s AND b.state = 'published' AND b.revision_of_id IS NULL",
    "open_gaps": f"SELECT g.id, g.category, g.description, g.status, g.priority, g.due_date, g.resolution_note, "  # noqa: S608 - constants only
    f"g.opened_at, g.resolved_at, g.rule, g.updated_at, u.username AS assignee, {PAYER_COLUMNS}, {POLICY_COLUMNS} "
    "FROM payers_followupgap g LEFT JOIN payers_payer p ON p.id = g.payer_id "
    "LEFT JOIN payers_policydocument pd ON pd.id = g.policy_id LEFT JOIN auth_user u ON u.id = g.assignee_id "
    "WHERE g.code_id = %(id)s AND g.status IN ('open', 'in_progress') AND g.state = 'published' "
    "AND g.revision_of_id IS NULL ORDER BY g.priority, g.due_date, g.id",
}


def fetch(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def payer_json(row: dict, base: str) -> dict | None:
    if row["slug"] is None:
        return None
    return {
        "url": f"{base}/api/v1/payers/{row['slug']}/",
        "slug": row["slug"],
        "name": row["payer_name"],
        "kind": row["kind"],
    }


def policy_json(row: dict, base: str) -> dict | None:
    if not row["policy_id"]:
        return None
    return {
        "id": row["policy_id"],
        "url": f"{base}/api/v1/payer-policies/{row['policy_id']}/",
        **{key: row[key] for key in ("document_type", "number", "document_version", "title", "document_url")},
        **{key: row[key] for key in ("effective_date", "last_reviewed", "next_review")},
    }


def code_json(row: dict, base: str) -> dict:
    return {
        "url": f"{base}/api/v1/codes/{row['code']}/",
        "code": row["code"],
        "system": row["system"],
        "short_descriptor": row["short_descriptor"],
    }


def diagnosis_json(row: dict, base: str) -> dict:
    code = row["code"]
    return {
        "url": f"{base}/api/v1/diagnosis-codes/{code}/",
        "code": code,
        "display_code": f"{code[:3]}.{code[3:]}" if len(code) > 3 else code,
        "description": row["description"],
        "is_billable": row["is_billable"],
    }


def criterion_json(row: dict, diagnoses: list[dict], base: str) -> dict:
    return {
        "id": row["id"],
        "url": f"{base}/api/v1/coverage-criteria/{row['id']}/",
        "code": code_json(row, base),
        "payer": payer_json(row, base),
        **{key: row[key] for key in ("coverage_status", "prior_auth", "prior_auth_delegate", "criteria")},
        "limitations": row["limitations"],
        "diagnosis_codes": [diagnosis_json(d, base) for d in diagnoses],
        "policy": policy_json(row, base),
        **{key: row[key] for key in ("effective_start", "effective_end", "last_verified")},
        "published_at": row["reviewed_at"],
        "updated_at": row["updated_at"],
    }


def criteria(request, base):
    page = int(request.GET.get("page", "1"))
    where, params = "", {}
    if "code" in request.GET:
        where, params["code"] = "AND bc.code = %(code)s", request.GET["code"]
    if "effective_on" in request.GET:
        where += (
            " AND (cc.effective_start IS NULL OR cc.effective_start <= %(day)s)"
            " AND (cc.effective_end IS NULL OR cc.effective_end >= %(day)s)"
        )
        params["day"] = request.GET["effective_on"]
    if "q" in request.GET:
        where += " AND (cc.criteria ILIKE %(like)s OR cc.limitations ILIKE %(like)s OR p.name ILIKE %(like)s)"
        params["like"] = f"%{request.GET['q']}%"
    rows = fetch(CRITERIA.format(where=where, limit=PAGE), {"offset": (page - 1) * PAGE, **params})
    links: dict[int, list[dict]] = {}
    for link in fetch(DIAGNOSES, {"ids": [row["id"] for row in rows]}):
        links.setdefault(link["coveragecriterion_id"], []).append(link)
    return {"results": [criterion_json(row, links.get(row["id"], []), base) for row in rows]}


def codes(request, base):
    page = int(request.GET.get("page", "1"))
    rows = fetch(CODES, {"offset": (page - 1) * PAGE})
    for row in rows:
        row["url"] = f"{base}/api/v1/codes/{row['code']}/"
    return {"results": rows}


def code_detail(request, base):
    """Every section of the API's code brief, each with what it nests."""
    rows = fetch("SELECT * FROM codes_billingcode WHERE code = %(code)s", {"code": request.GET["code"]})
    if not rows:
        raise Http404
    body = rows[0]
    key = {"id": body["id"], "offset": 0}
    part = {name: fetch(sql, key) for name, sql in DETAIL_PARTS.items()}
    body["url"] = f"{base}/api/v1/codes/{body['code']}/"
    body["brief"] = part["brief"][0] if part["brief"] else None
    body["title"] = body["brief"]["title"] if body["brief"] else None
    body["sites_of_service"] = [
        {
            "place_of_service": {k: s[k] for k in ("code", "name", "setting")},
            **{k: s[k] for k in ("setting_note", "is_typical")},
        }
        for s in part["sites_of_service"]
    ]
    body["modifier_guidance"] = part["modifier_guidance"]
    body["related_codes"] = [
        {"direction": direction, "kind": r["kind"], "note": r["note"], "code": code_json(r, base)}
        for direction, name in (("outgoing", "related_from"), ("incoming", "related_to"))
        for r in part[name]
    ]
    body["diagnosis_codes"] = [{**diagnosis_json(d, base), "note": d["note"]} for d in part["diagnosis_codes"]]
    links: dict[int, list[dict]] = {}
    for link in fetch(DIAGNOSES, {"ids": [row["id"] for row in part["coverage"]]}):
        links.setdefault(link["coveragecriterion_id"], []).append(link)
    body["coverage"] = [criterion_json(row, links.get(row["id"], []), base) for row in part["coverage"]]
    body["documentation_requirements"] = [
        {
            "id": r["id"],
            "url": f"{base}/api/v1/documentation-requirements/{r['id']}/",
            "payer": payer_json(r, base),
            **{k: r[k] for k in ("kind", "text", "level", "purpose")},
            "policy": policy_json(r, base),
            "updated_at": r["updated_at"],
        }
        for r in part["documentation"]
    ]
    body["benchmarks"] = [
        {
            "id": b["id"],
            "url": f"{base}/api/v1/benchmarks/{b['id']}/",
            "payer": payer_json(b, base),
            **{
                k: b[k]
                for k in ("setting", "metric", "value", "unit", "period", "period_start", "period_end", "source")
            },
            "updated_at": b["updated_at"],
        }
        for b in part["benchmarks"]
    ]
    body["open_gaps"] = [
        {
            "id": g["id"],
            "url": f"{base}/api/v1/gaps/{g['id']}/",
            "payer": payer_json(g, base),
            "policy": policy_json(g, base),
            **{k: g[k] for k in ("category", "description", "status", "priority", "assignee", "due_date")},
            **{k: g[k] for k in ("resolution_note", "opened_at", "resolved_at", "rule", "updated_at")},
        }
        for g in part["open_gaps"]
    ]
    return body


def requirements(request, base):
    page = int(request.GET.get("page", "1"))
    return {"results": fetch(REQUIREMENTS, {"offset": (page - 1) * PAGE})}


def gaps(request, base):
    where, params = "", {}
    if "status" in request.GET:
        where, params["status"] = "AND g.status = %(status)s", request.GET["status"]
    return {"results": fetch(GAPS.format(where=where), params)}


def payers(request, base):
    return {"results": fetch(PAYERS, {})}


FLOORS = {
    "criteria": criteria,
    "codes": codes,
    "code-detail": code_detail,
    "requirements": requirements,
    "gaps": gaps,
    "payers": payers,
}


def floor_view(request, name):
    """One floor, answered as the API would (JSON), with no authentication, DRF or ORM in the way."""
    try:
        floor = FLOORS[name]
    except KeyError:
        raise Http404 from None
    body = floor(request, f"{request.scheme}://{request.get_host()}")
    return HttpResponse(orjson.dumps(body, default=_decimal_as_text), content_type="application/json")


def _decimal_as_text(value):
    # As DRF renders decimals (COERCE_DECIMAL_TO_STRING).
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError
