"""Structured logs: every log line is one JSON object, and every request writes one.

`configure_logging()` (called from settings) routes the standard library's logging, Django's and
the libraries' included, through structlog's JSON renderer. `RequestLogMiddleware` gives each
request an id (the client's `X-Request-ID` when it is sane, a new one otherwise), returns it in the
response header, binds it to every line logged meanwhile, and writes one `request` line: method,
path, status, duration, query count and user id. Errors are logged by Django (`django.request`) and
by `policyhub.errors`, with their traceback and the same request id.
"""

import logging.config
import re
import time
import uuid

import structlog
from django.db import connection
from django.utils.functional import SimpleLazyObject, empty

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# A password-reset link (policyhub/urls.py, where EMAIL_HOST is set) carries its token in the path:
# whoever reads the logs could set that user's password with it until it is used or expires. Django's
# next step, `set-password`, holds none.
_RESET_TOKEN = re.compile(r"""(/accounts/reset/[^/\s'"]*/)(?!set-password/)[^/\s'"]+""")

logger = structlog.get_logger("policyhub.request")

SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
]


# Tracebacks as data: files, lines and functions, without each frame's local values (structlog shows
# them by default). Those put whatever a frame held in the logs (an API token being checked, a
# password) and printed every queryset a frame held, which runs it again: a request that failed on a
# lock or a cancelled statement then waited on the same lock once more per queryset before it answered.
TRACEBACK_AS_DICT = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def json_formatter() -> logging.Formatter:
    """Renders any standard-library record (and its `extra` fields) as one JSON line."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            TRACEBACK_AS_DICT,
            without_reset_tokens,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_logging(level: str = "INFO") -> dict:
    """structlog set up for JSON lines on stderr; returns the LOGGING dict for Django's settings."""
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": json_formatter}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # 4xx answers are in each request's line already; django.request keeps only errors.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
        },
    }


# Values the JSON renderer writes as they are; any other object it writes as its repr.
PLAIN = (str, int, float, bool, type(None), dict, list, tuple)


def without_reset_tokens(logger, method_name, event_dict: dict) -> dict:
    """Every top-level value of a log line with a password-reset link's token replaced: the request
    line's path, gunicorn's access line, Django's "Internal Server Error: <path>", a request's repr."""
    for key, value in event_dict.items():
        if not isinstance(value, PLAIN):
            # Written as the renderer would write it, once: a queryset's repr runs it again.
            value = event_dict[key] = repr(value)
        if isinstance(value, str) and "/reset/" in value:
            event_dict[key] = _RESET_TOKEN.sub(r"\1[token]", value)
    return event_dict


def request_id_for(request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _user_id(request):
    """The user's id if authentication already ran; never a query just for the log."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    return getattr(user, "pk", None)


class RequestLogMiddleware:
    """One JSON `request` line per request, and the request id in the `X-Request-ID` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request_id_for(request)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.id)
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.id
        status = response.status_code
        logger.log(
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 and status != 404 else logging.INFO,
            "request",
            method=request.method,
            path=request.path,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            query_count=queries,
            user_id=_user_id(request),
        )
        structlog.contextvars.clear_contextvars()
        return response
