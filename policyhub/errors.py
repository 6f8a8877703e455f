"""Error responses outside a view's own handling: JSON under /api/ (the body of
`policyhub.api.ErrorSerializer`), the site's HTML error pages elsewhere.

- `handler404` / `handler500` in the root URLconf: unknown URLs and unhandled errors.
- `DatabaseUnavailableMiddleware`: a lost database connection answers 503 with `Retry-After`
  instead of a 500, so clients and load balancers retry rather than give up.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults

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


def database_unavailable(request):
    """503 with Retry-After: JSON for the API, the site's error page for people."""
    if is_api(request):
        response = error_json(
            "The database is unavailable; retry after the Retry-After seconds.", "service_unavailable", 503
        )
    else:
        # Rendered without the request context: the session and user need the database too.
        response = render(None, "503.html", {"retry_after": RETRY_AFTER_SECONDS}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns OperationalError / InterfaceError (connection refused, lost, server shutting down) into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError):
            # Raised in a middleware below this one (e.g. the session) rather than in the view.
            return self.process_exception_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return self.process_exception_response(request)
        return None

    def process_exception_response(self, request):
        logger.error("database unavailable", exc_info=True, extra={"request": request})
        return database_unavailable(request)
