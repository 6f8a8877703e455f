"""PolicyHub settings, read from the environment.

Development defaults keep `make run` zero-setup (SQLite file, DEBUG on, a throwaway key).
`DJANGO_ENV=production` switches to secure defaults and refuses to start without a real
SECRET_KEY and ALLOWED_HOSTS; it passes `manage.py check --deploy` without warnings.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from import_export.formats import base_formats

from policyhub.request_log import configure_logging

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").lower()
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")
    SECRET_KEY = "django-insecure-development-only-key-change-me"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "policyhub",
    "codes",
    "payers",
    "briefs",
]

MIDDLEWARE = [
    # First: it times the whole request and tags every log line with the request id.
    "policyhub.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a parameter into a query.
    "policyhub.errors.NulCharacterMiddleware",
    # Above the session and auth middleware, which need the database too.
    "policyhub.errors.ServiceUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "policyhub.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # `|safe_url` in every template: stored URLs become links only when safe (policyhub.links).
            "builtins": ["policyhub.templatetags.safe_links"],
        },
    },
]

WSGI_APPLICATION = "policyhub.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'policyhub.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60" if PRODUCTION else "0")),
        conn_health_checks=True,
    )
}
# PostgreSQL: parameters bound by the server, and a statement run five times on a connection kept
# prepared (psycopg's own default), so the API's hot statements (token and permission, change
# position, pages) skip planning: 0.76 ms of the token's 1.1 ms statement was planning (docs/bench.md).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_SERVER_SIDE_BINDING", True):
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
# PostgreSQL cancels any statement that runs longer than this; unset or 0, none is cancelled.
# gunicorn.conf.py sets it for the web server only (`WEB_STATEMENT_TIMEOUT_SECONDS`): its threaded
# workers never stop a slow request themselves, so a runaway query (or one queued behind a
# migration's lock) would hold a thread and a database session for as long as it runs. Release
# imports, migrations and index builds run from manage.py, without it: on 1M rows they take longer.
DB_STATEMENT_TIMEOUT_SECONDS = float(os.environ.get("DB_STATEMENT_TIMEOUT_SECONDS") or 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_STATEMENT_TIMEOUT_SECONDS > 0:
    # A libpq start-up option: set when the connection opens, no statement per request.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={round(DB_STATEMENT_TIMEOUT_SECONDS * 1000)}"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A busy SQLite file waits instead of failing at once under the dev server's threads, and a
    # transaction takes the write lock when it begins: an import then compares and writes with no
    # other writer in between (PostgreSQL imports lock their tables instead), and no transaction
    # fails half-way with "database is locked" when it first writes.
    # Write-ahead logging lets readers (pages, the API) read while an import writes, instead of
    # waiting behind its lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A cache every worker process and host shares. CACHE_URL=redis://host:6379/0 uses Redis, which then
# also holds the API's per-token request counts (`policyhub.throttling`); unset, the database holds
# both (tables `policyhub_cache` and `policyhub_requestcount`, made by `migrate`), so `make run`
# needs no extra service.
CACHE_URL = os.environ.get("CACHE_URL", "")
# How long a Redis call may wait to connect, and then for an answer (a call takes well under a
# millisecond): past it the request answers 503 (`policyhub.errors`). redis-py's own default, 5 s,
# held a worker's thread that long on every call while Redis did not answer.
REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "1"))


def redis_cache(url: str) -> dict:
    """The shared cache in the Redis at `url`, each call limited to REDIS_TIMEOUT_SECONDS (the
    throttle's counts use the same options, `policyhub.throttling.request_counts`)."""
    timeouts = {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS}
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "OPTIONS": timeouts}


if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": redis_cache(CACHE_URL)}
elif CACHE_URL:
    raise ImproperlyConfigured(
        f"CACHE_URL must be a redis:// URL (or unset for the database cache), not {CACHE_URL!r}."
    )
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "policyhub_cache"}}
# Code briefs kept under their ETag (`ConditionalMixin.full_answer`): in each process's memory, at
# most KEPT_ANSWERS of them (about 100 KB each), apart from the shared cache, so that they neither
# crowd out the throttle's counts (the database cache deletes a third of its rows when full) nor
# fill Redis while a client reads every code once. KEPT_ANSWERS=0 keeps none: each is built again.
KEPT_ANSWERS = int(os.environ.get("KEPT_ANSWERS", "200"))
CACHES["answers"] = (
    {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "kept-answers",
        "OPTIONS": {"MAX_ENTRIES": KEPT_ANSWERS},
    }
    if KEPT_ANSWERS > 0
    else {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
)

# Background tasks (django-tasks): webhook deliveries, queued in the database, which every worker
# shares, so no extra service is needed. Workers: `python manage.py db_worker --queue-name webhooks`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "webhooks"]}}
WEBHOOK_BATCH_SIZE = int(os.environ.get("WEBHOOK_BATCH_SIZE", "100"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# The first retry's delay; it doubles with each failure in a row (at most an hour).
WEBHOOK_RETRY_SECONDS = float(os.environ.get("WEBHOOK_RETRY_SECONDS", "30"))
WEBHOOK_MAX_FAILURES = int(os.environ.get("WEBHOOK_MAX_FAILURES", "10"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic fills STATIC_ROOT for production; development and tests serve straight from the apps.
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else None
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Mail (password reset) only where a mail server is configured; without EMAIL_HOST there are no reset pages.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "policyhub@localhost")

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username + address is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the session's user in one statement (policyhub/sessions.py;
    # migration policyhub 0007 renamed the backend in sessions logged in before it).
    "policyhub.sessions.SessionUserBackend",
]
# Django's database sessions, read in one statement (policyhub/sessions.py).
SESSION_ENGINE = "policyhub.sessions"
# Login throttling (django-axes): AXES_FAILURE_LIMIT failed logins from one address for one username
# lock that pair out for AXES_COOLOFF_MINUTES; an administrator unlocks it earlier by deleting its
# "access attempt" in the admin (or `manage.py axes_reset_username <name>`).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "policyhub.access.lockout_response"
AXES_USERNAME_CALLABLE = "policyhub.access.attempted_username"

LOGIN_URL = "login"
# Reading pages, downloads and the API needs this permission: every role holds it (policyhub.access).
READ_PERMISSION = "codes.view_billingcode"
# Named on the 403 page and in the API's 403 body as the person to ask for a role.
ACCESS_CONTACT = os.environ.get("ACCESS_CONTACT", "a PolicyHub reviewer or administrator")
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Large admin imports post many fields; the import itself is bounded by file size.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
# An admin action (delete, a workflow transition, gap detection) takes at most this many rows at a
# time, "select all" included: on 1M coverage criteria, "Select all" then "Delete" built one page
# listing every row and what refers to it, 142 s and 8.8 GB of one worker (docs/bench.md). As many
# as one admin import may add, so what an import brought in can be approved in one go.
ADMIN_ACTION_MAX_ROWS = int(os.environ.get("ADMIN_ACTION_MAX_ROWS", "2000"))
# An admin export of a whole (filtered) list takes at most this many rows: django-import-export builds
# the file in memory first. Enough for any code set in full (ICD-10-CM: 98,186 codes); 1M coverage
# criteria would have taken some 20 minutes and gigabytes of one worker (docs/bench.md).
ADMIN_EXPORT_MAX_ROWS = int(os.environ.get("ADMIN_EXPORT_MAX_ROWS", "100000"))
IMPORT_EXPORT_USE_TRANSACTIONS = True
# Format classes, not dotted paths: django-import-export calls each entry.
IMPORT_EXPORT_FORMATS = [base_formats.CSV, base_formats.XLSX, base_formats.JSON]
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# Import gates (docs/imports.md): a release may terminate at most this share of its code set's
# active rows, and give new descriptors to at most the second share, unless a person accepts it.
# Below IMPORT_MASS_CHANGE_MIN_ROWS changed rows no release is held up (a share of a tiny set says little).
IMPORT_MAX_TERMINATED_SHARE = float(os.environ.get("IMPORT_MAX_TERMINATED_SHARE", "0.02"))
IMPORT_MAX_REWRITTEN_SHARE = float(os.environ.get("IMPORT_MAX_REWRITTEN_SHARE", "0.10"))
IMPORT_MASS_CHANGE_MIN_ROWS = int(os.environ.get("IMPORT_MASS_CHANGE_MIN_ROWS", "10"))
# Admin (spreadsheet) imports: refused beyond these, while the upload streams in.
FILE_UPLOAD_HANDLERS = [
    "policyhub.uploads.ImportSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
# The admin previews every row (django-import-export validates and saves each, then rolls back) in
# the request: 2,000 rows take about 11 s (make bench), a wait a curator and a proxy accept. Whole code-set
# releases go through the release commands, which have no such limit.
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "2000"))
IMPORT_MAX_CELLS = int(os.environ.get("IMPORT_MAX_CELLS", "4000000"))
IMPORT_MAX_UNPACKED_BYTES = int(os.environ.get("IMPORT_MAX_UNPACKED_BYTES", str(200 * 1024 * 1024)))
SIMPLE_HISTORY_REVERT_DISABLED = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "policyhub.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["policyhub.access.CanRead"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "policyhub.api_parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "policyhub.api_renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # Filtering, ordering, pagination and renderers of the API resources: policyhub.api.ReadOnlyViewSet.
    "DEFAULT_THROTTLE_CLASSES": ["policyhub.throttling.ApiTokenRateThrottle"],
    # Requests per token, e.g. "10000/hour" or "50/minute".
    "DEFAULT_THROTTLE_RATES": {"api_token": os.environ.get("API_TOKEN_THROTTLE_RATE", "10000/hour")},
    "EXCEPTION_HANDLER": "policyhub.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "policyhub.api_schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PolicyHub API",
    "DESCRIPTION": "Read-only access to curated billing-code coverage and payment policy.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema and its docs are public so a developer holding only a token can read them.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "CodeStatusEnum": "codes.choices.CodeStatus",
        "CodeSystemEnum": "codes.choices.CodeSystem",
        "ModifierLevelEnum": "codes.choices.ModifierLevel",
        "SettingTypeEnum": "codes.choices.SettingType",
        "RelationshipKindEnum": "codes.choices.RelationshipKind",
        "PayerKindEnum": "payers.choices.PayerKind",
        "PolicyDocumentTypeEnum": "payers.choices.PolicyDocumentType",
        "CoverageStatusEnum": "payers.choices.CoverageStatus",
        "PriorAuthEnum": "payers.choices.PriorAuth",
        "DocumentationKindEnum": "payers.choices.DocumentationKind",
        "RequirementLevelEnum": "payers.choices.RequirementLevel",
        "DocumentationPurposeEnum": "payers.choices.DocumentationPurpose",
        "BenchmarkSettingEnum": "payers.choices.BenchmarkSetting",
        "BenchmarkMetricEnum": "payers.choices.BenchmarkMetric",
        "GapCategoryEnum": "payers.choices.GapCategory",
        "GapStatusEnum": "payers.choices.GapStatus",
        "GapPriorityEnum": "payers.choices.GapPriority",
    },
}

# Content-Security-Policy (django-csp): scripts and styles only from PolicyHub's own static files,
# no inline script or style attribute anywhere; a template that must run an inline script gives it
# nonce="{{ request.csp_nonce }}". data: images are for the admin's and Swagger UI's SVG icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # Plus one inline handler by its hash: the "select all" box of django-import-export's export page.
        "script-src": [SELF, NONCE, "'unsafe-hashes'", "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='"],
        # Style attributes only with these exact values: django-import-export's preview diff
        # (`<ins style="background:#e6ffe6;">`, `<del ...>`) and its export page.
        "style-src": [
            SELF,
            "'unsafe-hashes'",
            "'sha256-AFyijjilwBx8kC+SMDLzasw2VV9MWz1VYVQ8xIgdMlA='",
            "'sha256-S0qL3AVCJ6EdYX2E0yOmH+5YvauOwNAxIl4pJ/0IUUg='",
            "'sha256-mHgUAqxc8GPXM/QhzkHrHujcrQTU9fd6ZjWz+icxKcA='",
            "'sha256-+YWRMZ88jMyO7jVlBA52tZADiPobPIUA8LAWee68Fvs='",
        ],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (django-permissions-policy): no page needs any of these browser features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
# The public base URL of the CDS Hooks services (e.g. https://policyhub.example.org), when a proxy
# changes the host or scheme Django sees: CDS clients' JWTs name it in `aud`.
CDS_HOOKS_BASE_URL = os.environ.get("CDS_HOOKS_BASE_URL", "")

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_REFERRER_POLICY = "same-origin"

# One JSON object per line on stderr (policyhub.request_log): a line per request, tracebacks for errors.
LOGGING = configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
