"""Error responses outside a view's own handling: JSON under /api/ (the body of
`policyhub.api.ErrorSerializer`), the site's HTML error pages elsewhere.

- `handler404` / `handler500` in the root URLconf: unknown URLs and unhandled errors.
- `NulCharacterMiddleware`: a NUL character in a page's address or form answers 400 saying where.
- `ServiceUnavailableMiddleware`: a lost database, or a lost Redis where `CACHE_URL` names one (it
  holds the API tokens' request counts), answers 503 with `Retry-After` instead of a 500, so
  clients and load balancers retry rather than give up. So does a statement PostgreSQL cancelled
  (the web's `statement_timeout`, settings' DB_STATEMENT_TIMEOUT_SECONDS), with an answer of its
  own: the database is there, this request took it too long. Any other database error, the
  statement refused while the connection stays up, is a bug and answers 500 like one.
"""

import logging
import sqlite3

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.shortcuts import render
from django.views import defaults
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("policyhub.errors")

RETRY_AFTER_SECONDS = 10


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def error_json(detail: str, code: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def page_not_found(request, exception):
    if is_api(request):
        return error_json(f"No API resource at {request.path}; see /api/v1/ for the list.", "not_found", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return error_json("The server failed to answer this request; it has been logged.", "server_error", 500)
    return defaults.server_error(request)


# What each unavailable service is called in answers: the kind of service, never its host or error.
SERVICES = {"database": "database", "cache": "shared cache"}
UNAVAILABLE = {
    "database": (OperationalError, InterfaceError),  # connection refused, lost, server shutting down
    "cache": (RedisConnectionError, RedisTimeoutError),  # refused, lost, or no answer within its timeout
}


ANY_UNAVAILABLE = tuple(kind for kinds in UNAVAILABLE.values() for kind in kinds)


def unavailable_service(exception: BaseException) -> str | None:
    """Which service `exception` says is unavailable (a key of `SERVICES`), or None."""
    service = next((service for service, kinds in UNAVAILABLE.items() if isinstance(exception, kinds)), None)
    if service == "database" and not database_lost(exception):
        return None
    return service


# SQLSTATE classes of a database that cannot serve: connection exceptions (08), insufficient
# resources (53: too many connections, disk full, out of memory), shutting down or starting up
# (57P01-57P05), system errors (58).
OUTAGE_SQLSTATES = ("08", "53", "57P", "58")
# SQLite's: busy or locked, cannot open the file, disk I/O error, disk full.
OUTAGE_SQLITE_CODES = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
}


def database_lost(exception: BaseException) -> bool:
    """Whether a database error says the database cannot serve, rather than that it refused this
    statement while the connection stays up (a missing table, more than 65,535 parameters in one
    statement): that is a bug, and a 503 would have clients retry it and the logs call it an outage."""
    if isinstance(exception, InterfaceError):
        return True  # the connection is already closed
    cause = exception.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(OUTAGE_SQLSTATES)
    if isinstance(cause, sqlite3.Error):
        return getattr(cause, "sqlite_errorcode", None) in OUTAGE_SQLITE_CODES
    # The driver's own error, with no SQLSTATE: refused to connect, or lost the connection, or
    # refused to send a statement. Only the last leaves a connection that still works.
    held = connections[DEFAULT_DB_ALIAS].connection
    return held is None or getattr(held, "closed", False) or getattr(held, "broken", False)


# SQLSTATE of a statement PostgreSQL cancelled: past its `statement_timeout`, or by an operator
# (`pg_cancel_backend`). Django raises it as an OperationalError, which alone would read "unavailable".
QUERY_CANCELED = "57014"


def was_cancelled(exception: BaseException) -> bool:
    """Whether `exception` is a statement the database cancelled rather than a lost database."""
    return isinstance(exception, OperationalError) and getattr(exception.__cause__, "sqlstate", None) == QUERY_CANCELED


def service_unavailable(request, service: str):
    """503 with Retry-After: JSON for the API, the site's error page for people."""
    name = SERVICES[service]
    return unavailable(
        request,
        f"The {name} is unavailable; retry after the Retry-After seconds.",
        "service_unavailable",
        {"service": name},
    )


def statement_cancelled(request):
    """503 with Retry-After for a request whose statement the database cancelled: it most often
    waited behind an upgrade's or an import's lock, and otherwise asked for too much at once."""
    seconds = settings.DB_STATEMENT_TIMEOUT_SECONDS
    after = f" after {seconds:g} s" if seconds else ""
    return unavailable(
        request,
        f"The database stopped this request{after}; retry after the Retry-After seconds, "
        "or ask for less (narrower filters, a smaller page).",
        "query_timeout",
        {"cancelled_after": f"{seconds:g}" if seconds else ""},
    )


def unavailable(request, detail: str, code: str, context: dict):
    if is_api(request):
        response = error_json(detail, code, 503)
    else:
        # Rendered without the request context: the session and user need the database too.
        response = render(None, "503.html", {"retry_after": RETRY_AFTER_SECONDS, "code": code, **context}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """Turns a lost database or Redis (`UNAVAILABLE`), or a cancelled statement, into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except ANY_UNAVAILABLE as exc:
            # Raised in a middleware below this one (e.g. the session) rather than in the view.
            response = self.answer(request, exc)
            if response is None:
                raise
            return response

    def process_exception(self, request, exception):
        return self.answer(request, exception)

    def answer(self, request, exception: BaseException):
        """The 503 for an unavailable service or a cancelled statement; None for anything else."""
        if was_cancelled(exception):
            # Not an outage: which request, and the statement (in the traceback), for whoever tunes it.
            logger.warning("database statement cancelled", exc_info=True, extra={"request": request})
            return statement_cancelled(request)
        service = unavailable_service(exception)
        if service is None:
            return None
        logger.error("%s unavailable", SERVICES[service], exc_info=True, extra={"request": request})
        return service_unavailable(request, service)


def nul_character_at(request: HttpRequest) -> str | None:
    """Where a page's request holds a NUL character (U+0000), or None: "the address", or a
    parameter's name. No text PolicyHub stores can hold one (PostgreSQL refuses it), so a filter or
    a look-up with it failed deep in a query: a 500 on a code's page, the admin's list filters and
    the review queue."""
    if "\x00" in request.path:
        return "the address"
    # A form's fields (not its files): the CSRF check parses every form post anyway, so this adds no
    # work, and a field that no form cleans (an admin action's comment) is covered too.
    try:
        sources = (request.GET, request.POST) if request.method == "POST" else (request.GET,)
    except UnreadablePostError:
        return None  # the client went away mid-post; the CSRF check answers it as Django does
    for source in sources:
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return f"“{name.replace(chr(0), '')[:60]}”"
    return None


class NulCharacterMiddleware:
    """Answers 400 to a page or admin request holding a NUL character, saying where. The API's
    parameters are checked by its own filters and paginators, which answer 400 per parameter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            where = nul_character_at(request)
            if where is not None:
                return render(None, "400.html", {"where": where}, status=400)
        return self.get_response(request)
