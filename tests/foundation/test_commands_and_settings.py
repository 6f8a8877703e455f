"""The setup commands behind `make run`, and the production settings."""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "ci-" + "k3y-Z8q!R2w#T6y^U4i&O0p" * 3


def log_in(**credentials):
    """authenticate() as the login form calls it: with a request, which django-axes requires."""
    return authenticate(RequestFactory().post("/accounts/login/"), **credentials)


def ensure_admin(monkeypatch, **env):
    for name in ("POLICYHUB_ADMIN_USERNAME", "POLICYHUB_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class TestEnsureAdmin:
    def test_login_from_environment(self, monkeypatch):
        """Username and password from the environment make a superuser who can log in."""
        out = ensure_admin(monkeypatch, POLICYHUB_ADMIN_USERNAME="policy-lead", POLICYHUB_ADMIN_PASSWORD="s3cret-Pa55")
        user = log_in(username="policy-lead", password="s3cret-Pa55")
        assert user is not None and user.is_staff and user.is_superuser
        assert "Created admin login 'policy-lead'" in out
        assert "s3cret-Pa55" not in out

    def test_generated_password_is_printed_once(self, monkeypatch):
        """Without a password, one is generated, printed, and works; the username defaults to 'admin'."""
        out = ensure_admin(monkeypatch)
        password = re.search(r"Generated password: (\S+)", out).group(1)
        assert len(password) >= 12
        assert log_in(username="admin", password=password) is not None

    def test_existing_login_is_reused(self, monkeypatch):
        """A second run keeps the login and its password; no second user appears."""
        password = re.search(r"Generated password: (\S+)", ensure_admin(monkeypatch)).group(1)
        out = ensure_admin(monkeypatch)
        assert "exists; password unchanged" in out
        assert "Generated password" not in out
        assert get_user_model().objects.filter(username="admin").count() == 1
        assert log_in(username="admin", password=password) is not None

    def test_password_from_environment_replaces_the_old_one(self, monkeypatch):
        """Setting POLICYHUB_ADMIN_PASSWORD for an existing login changes its password."""
        ensure_admin(monkeypatch)
        ensure_admin(monkeypatch, POLICYHUB_ADMIN_PASSWORD="n3w-Pa55word")
        assert log_in(username="admin", password="n3w-Pa55word") is not None

    def test_empty_username_falls_back_to_admin(self, monkeypatch):
        """An empty POLICYHUB_ADMIN_USERNAME (e.g. `export POLICYHUB_ADMIN_USERNAME=`) means 'admin'."""
        out = ensure_admin(monkeypatch, POLICYHUB_ADMIN_USERNAME="")
        assert "Created admin login 'admin'" in out


def manage(*args, **env):
    """Run manage.py in a fresh process with only the given settings environment."""
    # The test process's own DJANGO_* variables (e.g. DJANGO_ALLOW_ASYNC_UNSAFE set for the browser
    # tests) are not what a production server would have.
    settings_vars = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "CSRF_TRUSTED_ORIGINS"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_")) and k not in settings_vars}
    return subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


class TestProductionSettings:
    def test_check_deploy_passes_without_warnings(self):
        """Production mode passes `check --deploy` with no warnings at all."""
        result = manage(
            "check", "--deploy", "--fail-level", "WARNING",
            DJANGO_ENV="production", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="policyhub.example.org",
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues (0 silenced)." in result.stdout

    def test_production_refuses_to_start_without_secret_key(self):
        """Without SECRET_KEY, production mode stops with a message naming the setting."""
        result = manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="policyhub.example.org")
        assert result.returncode != 0
        assert "SECRET_KEY must be set when DJANGO_ENV=production." in result.stderr

    def test_production_refuses_to_start_without_allowed_hosts(self):
        """Without ALLOWED_HOSTS, production mode stops with a message naming the setting."""
        result = manage("check", DJANGO_ENV="production", SECRET_KEY=STRONG_KEY)
        assert result.returncode != 0
        assert "ALLOWED_HOSTS must be set when DJANGO_ENV=production." in result.stderr


@pytest.mark.parametrize(("kept", "backend"), [("200", ["LocMemCache", "200"]), ("0", ["DummyCache", "300"])])
def test_kept_answers_sets_how_many_briefs_each_process_keeps(kept, backend):
    """KEPT_ANSWERS bounds the briefs a process keeps under their ETag; 0 keeps none (each is built)."""
    script = (
        "from django.core.cache import caches; kept = caches['answers']; "
        "print(type(kept).__name__, getattr(kept, '_max_entries', '-'))"
    )
    result = manage("shell", "-c", script, KEPT_ANSWERS=kept)
    assert result.returncode == 0, result.stderr
    # A DummyCache keeps nothing, whatever its (default) bound.
    assert result.stdout.splitlines()[-1].split() == backend


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_postgresql_keeps_repeated_statements_prepared(db):
    """On PostgreSQL a statement run again and again on a connection is prepared once (no
    planning on each API call); DB_SERVER_SIDE_BINDING=false turns it off for poolers that cannot
    keep prepared statements."""
    with connection.cursor() as cursor:
        for _ in range(6):
            cursor.execute("SELECT count(*) FROM django_content_type WHERE app_label = %s", ["codes"])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%app_label = $1%"])
        assert cursor.fetchone()[0] == 1
    script = "from django.db import connection; print(connection.settings_dict['OPTIONS'].get('server_side_binding'))"
    assert manage("shell", "-c", script, DB_SERVER_SIDE_BINDING="false").stdout.split()[-1] == "None"
