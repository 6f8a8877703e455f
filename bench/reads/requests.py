"""What the read benchmark asks: every API list (page 1, a deep page, the usual filters), code
detail, 304s, the changes feed, the reader pages and the admin lists and searches of large tables.

A path may depend on the data set (`Facts`: its sizes and a code that has criteria in both), so the
same request means the same thing at 1k and at 1M rows. `floor` names the raw-SQL answer of the
same rows (`bench.reads.floors`) where one is defined.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

PAGE = 50


@dataclass
class Facts:
    """What the requests need to know about one data set."""

    code: str  # the first code in code order with criteria: 50 of them in every data set
    diagnosis: str  # the diagnosis code linked to most criteria
    payer: str  # the slug of the first payer by name: it has criteria on every code
    criteria: int
    requirements: int
    codes: int
    etag: str = ""  # of criteria page 1, read by the runner before timing
    cursor_deep: str = ""  # the path of the cursor page after `CURSOR_PAGES` pages
    extra: dict = field(default_factory=dict)

    def deep_page(self, rows: int, wanted: int) -> int:
        return max(1, min(wanted, -(-rows // PAGE)))


def read_facts(database_url: str) -> Facts:
    with psycopg.connect(database_url) as connection:

        def one(sql: str, *params):
            return connection.execute(sql, params).fetchone()[0]

        code = one(
            "SELECT bc.code FROM payers_coveragecriterion cc JOIN codes_billingcode bc ON bc.id = cc.code_id "
            "ORDER BY bc.code LIMIT 1"
        )
        return Facts(
            code=code,
            # The diagnosis on most criteria (a tenth of them, bench.scale.synthetic): its filter
            # fills a page in both data sets and reads the most rows.
            diagnosis=one(
                "SELECT d.code FROM codes_diagnosiscode d WHERE d.id = (SELECT diagnosiscode_id "
                "FROM payers_coveragecriterion_diagnosis_codes GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)"
            ),
            payer=one("SELECT slug FROM payers_payer ORDER BY name LIMIT 1"),
            criteria=one("SELECT count(*) FROM payers_coveragecriterion"),
            requirements=one("SELECT count(*) FROM payers_documentationrequirement"),
            codes=one("SELECT count(*) FROM codes_billingcode"),
        )


Path = str | Callable[[Facts], str]


@dataclass(frozen=True)
class Request:
    label: str
    group: str  # api, detail, 304, pages, admin: the goal each is judged by; reference: none
    path: Path
    floor: Path | None = None
    conditional: bool = False  # sent with the ETag of criteria page 1: a 304 is expected

    def resolve(self, facts: Facts) -> tuple[str, str | None]:
        def build(path):
            return path(facts) if callable(path) else path

        return build(self.path), (build(self.floor) if self.floor else None)


CRITERIA = "/api/v1/coverage-criteria/"
# A search that matches nothing, as a misspelt payer does: every row is a candidate, none is found.
# (A policy number's search is not here: its rows at 1k, one or two per document, cannot be
# compared with the thousands at 1M; docs/bench.md times it at 1M alone.)
NOWHERE = "zzqx"
CURSOR_PAGES = 10
REQUESTS = (
    Request("API coverage-criteria page 1", "api", CRITERIA, "/bench/floor/criteria/"),
    Request(
        "  same, page 5000 (last page at 1k)",
        "api",
        lambda f: f"{CRITERIA}?page={f.deep_page(f.criteria, 5000)}",
        lambda f: f"/bench/floor/criteria/?page={f.deep_page(f.criteria, 5000)}",
    ),
    Request("  same, cursor page 1", "api", f"{CRITERIA}?cursor=", "/bench/floor/criteria/"),
    Request(f"  same, cursor after {CURSOR_PAGES} pages", "api", lambda f: f.cursor_deep),
    Request("  same, 304 with If-None-Match", "304", CRITERIA, conditional=True),
    # What any request costs here, with no session and no query: the part of a 304 no view can save.
    Request("  for scale: /health/live (no login, no query)", "reference", "/health/live"),
    Request(
        "  ?code=<code with 50 criteria>",
        "api",
        lambda f: f"{CRITERIA}?code={f.code}",
        lambda f: f"/bench/floor/criteria/?code={f.code}",
    ),
    Request(
        "  ?effective_on=2025-06-01",
        "api",
        f"{CRITERIA}?effective_on=2025-06-01",
        "/bench/floor/criteria/?effective_on=2025-06-01",
    ),
    Request("  ?q=transesophageal", "api", f"{CRITERIA}?q=transesophageal", "/bench/floor/criteria/?q=transesophageal"),
    Request(
        "  ?q=<code>", "api", lambda f: f"{CRITERIA}?q={f.code}", lambda f: f"/bench/floor/criteria/?code={f.code}"
    ),
    Request(f"  ?q={NOWHERE} (found nowhere)", "api", f"{CRITERIA}?q={NOWHERE}"),
    Request("  ?payer=<slug>", "api", lambda f: f"{CRITERIA}?payer={f.payer}"),
    Request("  ?coverage_status=covered", "api", f"{CRITERIA}?coverage_status=covered"),
    Request("  ?diagnosis=<code>", "api", lambda f: f"{CRITERIA}?diagnosis={f.diagnosis}"),
    Request("API codes page 1", "api", "/api/v1/codes/", "/bench/floor/codes/"),
    Request("  same, page 300", "api", "/api/v1/codes/?page=300", "/bench/floor/codes/?page=300"),
    Request("  ?coverage_status=covered", "api", "/api/v1/codes/?coverage_status=covered"),
    Request("  ?has_open_gaps=true", "api", "/api/v1/codes/?has_open_gaps=true"),
    Request(
        "API code detail",
        "detail",
        lambda f: f"/api/v1/codes/{f.code}/",
        lambda f: f"/bench/floor/code-detail/?code={f.code}",
    ),
    Request("API diagnosis-codes page 1", "api", "/api/v1/diagnosis-codes/"),
    Request("API payers page 1", "api", "/api/v1/payers/", "/bench/floor/payers/"),
    Request("API payer-policies page 1", "api", "/api/v1/payer-policies/"),
    Request(
        "API documentation-requirements page 1",
        "api",
        "/api/v1/documentation-requirements/",
        "/bench/floor/requirements/",
    ),
    Request(
        "  same, page 1000 (last page at 1k)",
        "api",
        lambda f: f"/api/v1/documentation-requirements/?page={f.deep_page(f.requirements, 1000)}",
        lambda f: f"/bench/floor/requirements/?page={f.deep_page(f.requirements, 1000)}",
    ),
    Request("API benchmarks page 1", "api", "/api/v1/benchmarks/"),
    Request("API gaps page 1", "api", "/api/v1/gaps/", "/bench/floor/gaps/"),
    Request("  ?status=open", "api", "/api/v1/gaps/?status=open", "/bench/floor/gaps/?status=open"),
    Request("API changes since 2025, page 1", "api", "/api/v1/changes/?since=2025-01-01T00:00:00Z"),
    Request("  same, page 50", "api", "/api/v1/changes/?since=2025-01-01T00:00:00Z&page=50"),
    Request("page /codes/", "pages", "/codes/"),
    Request("page /codes/<code>/ (brief)", "pages", lambda f: f"/codes/{f.code}/"),
    Request("page /payers/", "pages", "/payers/"),
    Request("page /payers/<slug>/", "pages", lambda f: f"/payers/{f.payer}/"),
    Request("page /coverage/", "pages", "/coverage/"),
    Request("page /gaps/", "pages", "/gaps/"),
    Request("page / (overview)", "pages", "/"),
    Request("admin coverage criteria", "admin", "/admin/payers/coveragecriterion/"),
    Request("  search <code>", "admin", lambda f: f"/admin/payers/coveragecriterion/?q={f.code}"),
    Request("  search transesophageal", "admin", "/admin/payers/coveragecriterion/?q=transesophageal"),
    Request(f"  search {NOWHERE} (found nowhere)", "admin", f"/admin/payers/coveragecriterion/?q={NOWHERE}"),
    Request("admin documentation requirements", "admin", "/admin/payers/documentationrequirement/"),
    Request("  search <code>", "admin", lambda f: f"/admin/payers/documentationrequirement/?q={f.code}"),
    Request("admin gaps", "admin", "/admin/payers/followupgap/"),
    Request("  search <code>", "admin", lambda f: f"/admin/payers/followupgap/?q={f.code}"),
    Request("admin billing codes", "admin", "/admin/codes/billingcode/"),
)
