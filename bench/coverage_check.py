"""Times the CDS Hooks `order-sign` call with five orders against an existing database, beside the raw
SQL floor of the same look-ups. Prints one JSON line.

    python -m bench.coverage_check --database-url postgres://postgres@127.0.0.1:5432/DB [--runs 50]

The database must be migrated and hold published criteria. The bench picks one payer and five codes
it has criteria for, registers a throw-away CDS client and payer identifier, calls the service
in-process (Django's test client: middleware, JWT check, decision, audit record, JSON), and rolls
everything back at the end: it leaves no rows behind.
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid

import django

BENCH_ISSUER = "https://bench.policyhub.invalid/"
BENCH_PAYER_ID = ("https://bench.policyhub.invalid/payer-ids", "bench-payer")
PATH = "/cds-services/policyhub-crd-order-sign"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.coverage_check", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="Defaults to DATABASE_URL.")
    parser.add_argument("--runs", type=int, default=50, help="Timed calls (after five warm-up calls).")
    parser.add_argument("--orders", type=int, default=5, help="Orders per order-sign call.")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyhub.settings")
    os.environ["DJANGO_ENV"] = "development"
    django.setup()
    result = run(runs=args.runs, orders=args.orders)
    print(json.dumps(result))
    return result


def run(*, runs: int = 50, orders: int = 5) -> dict:
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, transaction

    # In-process requests would otherwise close the connection holding the bench's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with transaction.atomic():
            payer_id, code_ids, codes = _sample(orders)
            key = _register(payer_id)
            server = _time_calls(key, codes, runs)
            floor = _time_floor(payer_id, code_ids, codes, runs)
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    median, floor_median = statistics.median(server), statistics.median(floor)
    return {
        "step": "coverage-check order-sign",
        "orders": orders,
        "runs": runs,
        "codes": codes,
        "median_ms": round(median * 1000, 2),
        "p95_ms": round(sorted(server)[int(0.95 * (len(server) - 1))] * 1000, 2),
        "sql_floor_median_ms": round(floor_median * 1000, 2),
        "ratio_to_floor": round(median / floor_median, 2) if floor_median else None,
    }


def _sample(orders: int) -> tuple[int, list[int], list[str]]:
    from payers.models import CoverageCriterion

    published = CoverageCriterion.objects.published().current()
    first = published.values_list("payer_id", flat=True).first()
    if first is None:
        sys.exit("The database holds no published coverage criteria to check.")
    rows = list(
        published.filter(payer_id=first).order_by("code_id").values_list("code_id", "code__code").distinct()[:orders]
    )
    # Fewer codes than orders: the codes repeat, as in an order set with several devices.
    codes = [rows[i % len(rows)][1] for i in range(orders)]
    return first, [pk for pk, _ in rows], codes


def _register(payer_id: int):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from briefs.models import CdsClient, PayerIdentifier

    key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    CdsClient.objects.create(name="bench", issuer=BENCH_ISSUER, jwks={"keys": [{**public, "kid": "bench"}]})
    PayerIdentifier.objects.create(payer_id=payer_id, system=BENCH_PAYER_ID[0], value=BENCH_PAYER_ID[1])
    return key


def order_sign_body(codes: list[str], day: str) -> dict:
    orders = [
        {
            "resourceType": "ServiceRequest",
            "id": f"bench-{i}",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": "Patient/bench"},
            "occurrenceDateTime": day,
            "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code}]},
        }
        for i, code in enumerate(codes)
    ]
    coverage = {
        "resourceType": "Coverage",
        "id": "bench",
        "status": "active",
        "beneficiary": {"reference": "Patient/bench"},
        "payor": [{"identifier": {"system": BENCH_PAYER_ID[0], "value": BENCH_PAYER_ID[1]}}],
    }
    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/bench",
            "patientId": "bench",
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": o} for o in orders]},
        },
        "prefetch": {"coverage": coverage},
    }


def _time_calls(key, codes: list[str], runs: int) -> list[float]:
    import jwt
    from django.test import Client
    from django.utils import timezone

    http = Client()
    body = json.dumps(order_sign_body(codes, timezone.localdate().isoformat()))
    times = []
    for i in range(runs + 5):
        now = int(time.time())
        claims = {"iss": BENCH_ISSUER, "aud": "http://testserver" + PATH, "iat": now, "exp": now + 300}
        token = jwt.encode({**claims, "jti": str(uuid.uuid4())}, key, algorithm="ES384", headers={"kid": "bench"})
        started = time.perf_counter()
        response = http.post(PATH, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            sys.exit(f"order-sign answered {response.status_code}: {response.content[:500]!r}")
        if i >= 5:
            times.append(elapsed)
    return times


def _time_floor(payer_id: int, code_ids: list[int], codes: list[str], runs: int) -> list[float]:
    """The same look-ups as one order-sign call, as hand-written SQL through the raw cursor."""
    from django.db import connection

    ids = ",".join(str(pk) for pk in code_ids)
    quoted = ",".join(f"'{code}'" for code in codes)  # codes read from the database, not user input
    policy = (
        "pd.id, pd.number, pd.document_version, pd.title, pd.url, pd.document_type, pd.original_effective_date, "
        "pd.effective_date, pd.retirement_date"
    )
    # The columns and joins the service reads (briefs.coverage_facts and the client and payer look-ups).
    statements = [
        f"SELECT * FROM briefs_cdsclient WHERE issuer = '{BENCH_ISSUER}' AND is_active",
        "SELECT i.*, y.* FROM briefs_payeridentifier i JOIN payers_payer y ON y.id = i.payer_id "
        f"WHERE i.value = '{BENCH_PAYER_ID[1]}'",
        "SELECT id, system, code, short_descriptor, is_add_on, effective_date, termination_date "
        f"FROM codes_billingcode WHERE code IN ({quoted})",
        "SELECT r.from_code_id, r.to_code_id, b.code FROM codes_coderelationship r "
        f"JOIN codes_billingcode b ON b.id = r.to_code_id WHERE r.from_code_id IN ({ids}) "
        "AND r.kind = 'add_on_to' AND r.state = 'published'",
        "SELECT c.id, c.version, c.code_id, c.payer_id, c.coverage_status, c.prior_auth, c.prior_auth_delegate, "
        f"c.criteria, c.limitations, c.effective_start, c.effective_end, c.last_verified, {policy} "
        "FROM payers_coveragecriterion c LEFT JOIN payers_policydocument pd ON pd.id = c.policy_id "
        f"WHERE c.code_id IN ({ids}) AND c.payer_id = {payer_id} AND c.state = 'published' "
        "AND c.revision_of_id IS NULL",
        "SELECT l.coveragecriterion_id, d.code FROM payers_coveragecriterion_diagnosis_codes l "
        "JOIN codes_diagnosiscode d ON d.id = l.diagnosiscode_id WHERE l.coveragecriterion_id IN "
        f"(SELECT id FROM payers_coveragecriterion WHERE code_id IN ({ids}) AND payer_id = {payer_id} "
        "AND state = 'published' AND revision_of_id IS NULL) ORDER BY d.code",
        "SELECT dr.id, dr.version, dr.code_id, dr.payer_id, dr.kind, dr.text, dr.level, dr.purpose, "
        f"{policy} FROM payers_documentationrequirement dr "
        f"LEFT JOIN payers_policydocument pd ON pd.id = dr.policy_id WHERE dr.code_id IN ({ids}) "
        f"AND (dr.payer_id = {payer_id} OR dr.payer_id IS NULL) AND dr.state = 'published' "
        "AND dr.revision_of_id IS NULL ORDER BY dr.code_id, dr.kind, dr.id",
        "SELECT id, code_id, payer_id, category, description, status, priority, due_date FROM payers_followupgap "
        f"WHERE code_id IN ({ids}) AND (payer_id = {payer_id} OR payer_id IS NULL) "
        "AND status IN ('open', 'in_progress') AND state = 'published' ORDER BY priority, id",
        "SELECT s.code_id, p.code FROM codes_siteofservice s JOIN codes_placeofservice p "
        f"ON p.id = s.place_of_service_id WHERE s.code_id IN ({ids}) AND s.is_typical AND s.state = 'published'",
    ]
    times = []
    with connection.cursor() as cursor:
        for i in range(runs + 5):
            started = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            if i >= 5:
                times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    main()
