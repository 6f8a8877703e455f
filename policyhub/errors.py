"""Error responses outside a view's own handling: JSON under /api/ (the body of
`policyhub.api.ErrorSerializer`), the site's HTML error pages elsewhere.

- `handler404` / `handler500` in the root URLconf: unknown URLs and unhandled errors.
- `ServiceUnavailableMiddleware`: a lost database, or a lost Redis where `CACHE_URL` names one (it
  holds the API tokens' request counts), answers 503 with `Retry-After` instead of a 500, so
  clients and load balancers retry rather than give up.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
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
    return next((service for service, kinds in UNAVAILABLE.items() if isinstance(exception, kinds)), None)


def service_unavailable(request, service: str):
    """503 with Retry-After: JSON for the API, the site's error page for people."""
    name = SERVICES[service]
    if is_api(request):
        response = error_json(
            f"The {name} is unavailable; retry after the Retry-After seconds.", "service_unavailable", 503
        )
    else:
        # Rendered without the request context: the session and user need the database too.
        response = render(None, "503.html", {"retry_after": RETRY_AFTER_SECONDS, "service": name}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ServiceUnavailableMiddleware:
    """Turns a lost database or Redis (`UNAVAILABLE`) into a 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except ANY_UNAVAILABLE as exc:
            # Raised in a middleware below this one (e.g. the session) rather than in the view.
            return self.answer(request, unavailable_service(exc))

    def process_exception(self, request, exception):
        service = unavailable_service(exception)
        return None if service is None else self.answer(request, service)

    def answer(self, request, service: str):
        logger.error("%s unavailable", SERVICES[service], exc_info=True, extra={"request": request})
        return service_unavailable(request, service)
