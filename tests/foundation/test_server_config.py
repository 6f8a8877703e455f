"""The checked-in gunicorn configuration loads, sizes itself from the CPU count and logs access as JSON."""

import json
import logging
import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]


def test_gunicorn_accepts_the_configuration():
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "policyhub.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_workers_follow_the_cpu_count_and_recycle_with_jitter(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 4)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["workers"] == 9 and config["worker_class"] == "gthread"
    assert config["max_requests"] > 0 and 0 < config["max_requests_jitter"] < config["max_requests"]
    assert config["timeout"] == 30


def test_workers_live_long_enough_to_keep_what_they_remember(monkeypatch):
    # A worker's memory levels off after about 2,500 requests; replacing it every 2,000 cost a 304
    # a third more CPU under load (a new worker's start and the old one's exit; docs/bench.md).
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["max_requests"] >= 20_000
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "3000")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["max_requests"] == 3000


def test_access_log_lines_are_json(capsys):
    from gunicorn.config import Config

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("accesslog", "-")
    log = config["JsonLogger"](cfg)
    response = SimpleNamespace(status_code=200, sent=12, headers=[("X-Request-ID", "abc")])
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/codes/", "REMOTE_ADDR": "10.0.0.1"}
    log.access(response, None, environ, timedelta(milliseconds=12))
    for handler in log.access_log.handlers:
        handler.flush()
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["event"], line["method"], line["path"], line["status"]) == ("access", "GET", "/codes/", 200)
    assert line["request_id"] == "abc" and line["duration_ms"] == 12.0
    assert line["level"] == "info" and "time" in line
    # A password-reset link's token is not written (policyhub.request_log.without_reset_tokens).
    log.access(response, None, {**environ, "PATH_INFO": "/accounts/reset/MQ/cx1b2p-5f0a9e8d/"}, timedelta(1))
    for handler in log.access_log.handlers:
        handler.flush()
    written = capsys.readouterr().out
    assert "cx1b2p" not in written and json.loads(written.strip())["path"] == "/accounts/reset/MQ/[token]/"
    logging.getLogger("gunicorn.access").handlers.clear()
