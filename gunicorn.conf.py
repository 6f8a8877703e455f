"""gunicorn's configuration for PolicyHub in production (`make serve` runs it locally).

gunicorn reads this file from the working directory. Every value can be overridden by environment
variable (below) or on the command line. Sizing: sync Django views spend their time waiting on
the database, so each worker runs threads (gthread), and the workers follow the CPU count.
"""

import multiprocessing
import os

from gunicorn import glogging

from policyhub.request_log import json_formatter

wsgi_app = "policyhub.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Workers: 2 per CPU plus one (gunicorn's advice), each with a few threads for database waits.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A worker whose main loop stops answering for this long is killed and replaced. A slow request does
# not count: its thread runs on while the loop answers (gthread), however long it takes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# So the database bounds each request's statements instead: PostgreSQL cancels one that runs longer
# than this (settings' DB_STATEMENT_TIMEOUT_SECONDS, passed to the workers only, so manage.py's
# imports and migrations run without it) and the request answers 503 (policyhub.errors). At 1M
# coverage rows no request measured takes a second (the slowest, the admin's last change-list page,
# 0.7 s); a full CSV download runs many short statements (docs/bench.md). 0 turns it off.
statement_timeout_seconds = os.environ.get("WEB_STATEMENT_TIMEOUT_SECONDS", "20")
raw_env = [f"DB_STATEMENT_TIMEOUT_SECONDS={statement_timeout_seconds}"]
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (jittered so they do not all restart at once), bounding slow leaks.
# Not often: a worker's exit alone costs about 0.25 s of CPU (Python tearing down its heap), and a new
# one starts without the counts, briefs and statements its predecessor kept. At 2,000 a worker under
# load was replaced every few seconds, before its memory had levelled off (133 MB after 2,500 requests,
# 142 MB after 30,000), and that cost a 304 a third more CPU (docs/bench.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10

# Load the app before forking: workers share its memory and a broken configuration fails at once.
preload_app = True
# The load balancer's X-Forwarded-* headers are trusted only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


class JsonLogger(glogging.Logger):
    """gunicorn's error and access logs as JSON lines in the app's format (policyhub.request_log)."""

    def setup(self, cfg):
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(json_formatter())

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        headers = {name.lower(): value for name, value in resp.headers}
        self.access_log.info(
            "access",
            extra={
                "request_id": headers.get("x-request-id"),
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": resp.status_code,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": environ.get("REMOTE_ADDR"),
            },
        )


logger_class = JsonLogger
