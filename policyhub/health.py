"""Health checks for load balancers and orchestrators: JSON, no login, nothing secret.

- `/health/live`: the process answers (it does not touch the database, so a database outage does
  not get healthy workers restarted).
- `/health/ready`: the database answers, every migration is applied and the cache answers; 503
  otherwise, naming the failing check but not hosts, names or error texts.
"""

import time
import uuid

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _migrations() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return f"{len(unapplied)} unapplied" if unapplied else "ok"


def _cache() -> str:
    # A key of this probe's own: probes of several workers or load balancers at once wrote one shared
    # key over each other, so one of them read another's value and reported a healthy cache unready
    # (503s under `make bench-load`).
    key = f"policyhub:health:{uuid.uuid4().hex}"
    value = str(time.monotonic())
    cache.set(key, value, timeout=10)
    try:
        return "ok" if cache.get(key) == value else "value not read back"
    finally:
        cache.delete(key)


CHECKS = {"database": _database, "migrations": _migrations, "cache": _cache}


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    results = {}
    for name, check in CHECKS.items():
        if name == "migrations" and results.get("database") != "ok":
            results[name] = "not checked"
            continue
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; only its type is shown
            results[name] = f"unavailable ({type(exc).__name__})"
    healthy = all(result == "ok" for result in results.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": results}
    response = JsonResponse(body, status=200 if healthy else 503)
    if not healthy:
        response["Retry-After"] = "10"
    return response
