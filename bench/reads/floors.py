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

DETAIL_PARTS = {
    "coverage": CRITERIA.replace("ORDER BY bc.code,", "ORDER BY").format(where="AND bc.code = %(code)s", limit=1000),
    "documentation": "SELECT r.* FROM payers_documentationrequirement r JOIN codes_billingcode bc "
    "ON bc.id = r.code_id WHERE bc.code = %(code)s AND r.state = 'published' AND r.revision_of_id IS NULL",
    "benchmarks": "SELECT b.* FROM payers_benchmark b JOIN codes_billingcode bc ON bc.id = b.code_id "
    "WHERE bc.code = %(code)s",
    "open_gaps": "SELECT g.* FROM payers_followupgap g JOIN codes_billingcode bc ON bc.id = g.code_id "
    "WHERE bc.code = %(code)s AND g.status IN ('open', 'in_progress')",
}


def fetch(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def criterion_json(row: dict, diagnoses: list[dict], base: str) -> dict:
    policy = None
    if row["policy_id"]:
        policy = {
            "id": row["policy_id"],
            "url": f"{base}/api/v1/payer-policies/{row['policy_id']}/",
            **{key: row[key] for key in ("document_type", "number", "document_version", "title", "document_url")},
            **{key: row[key] for key in ("effective_date", "last_reviewed", "next_review")},
        }
    return {
        "id": row["id"],
        "url": f"{base}/api/v1/coverage-criteria/{row['id']}/",
        "code": {
            "url": f"{base}/api/v1/codes/{row['code']}/",
            "code": row["code"],
            "system": row["system"],
            "short_descriptor": row["short_descriptor"],
        },
        "payer": {
            "url": f"{base}/api/v1/payers/{row['slug']}/",
            "slug": row["slug"],
            "name": row["payer_name"],
            "kind": row["kind"],
        },
        **{key: row[key] for key in ("coverage_status", "prior_auth", "prior_auth_delegate", "criteria")},
        "limitations": row["limitations"],
        "diagnosis_codes": [
            {
                "url": f"{base}/api/v1/diagnosis-codes/{d['code']}/",
                "code": d["code"],
                "display_code": f"{d['code'][:3]}.{d['code'][3:]}" if len(d["code"]) > 3 else d["code"],
                "description": d["description"],
                "is_billable": d["is_billable"],
            }
            for d in diagnoses
        ],
        "policy": policy,
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
    code = request.GET["code"]
    rows = fetch("SELECT * FROM codes_billingcode WHERE code = %(code)s", {"code": code})
    if not rows:
        raise Http404
    body = rows[0]
    coverage = fetch(DETAIL_PARTS["coverage"], {"code": code, "offset": 0})
    links: dict[int, list[dict]] = {}
    for link in fetch(DIAGNOSES, {"ids": [row["id"] for row in coverage]}):
        links.setdefault(link["coveragecriterion_id"], []).append(link)
    body["coverage"] = [criterion_json(row, links.get(row["id"], []), base) for row in coverage]
    for name in ("documentation", "benchmarks", "open_gaps"):
        body[name] = fetch(DETAIL_PARTS[name], {"code": code})
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
