"""Real PolicyHub processes for the tests that need them: a scratch database of their own (SQLite
file, or a scratch PostgreSQL database when the tests run on PostgreSQL), gunicorn servers on it and
`manage.py` commands run as separate processes, each with its own connections and transactions."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent.parent


def scratch_database(directory: Path, name: str) -> str:
    """A fresh, migrated database for live processes; returns its DATABASE_URL."""
    test_url = os.environ.get("DATABASE_URL", "")
    if test_url.startswith("postgres"):
        import psycopg

        config = dj_database_url.parse(test_url)
        # Test processes (pytest-xdist workers) running side by side each get their own.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        database = f"{config['NAME']}_{name}" + (f"_{worker}" if worker else "")
        admin = test_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{database}"')
        url = test_url.rsplit("/", 1)[0] + f"/{database}"
    else:
        url = f"sqlite:///{directory / f'{name}.sqlite3'}"
    manage(url, "migrate", "--no-input", "-v", "0")
    return url


def environment(database_url: str, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"CACHE_URL"}}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="policyhub.settings", **extra)
    return env


def manage(database_url: str, *args: str, env: dict | None = None, timeout: float = 600) -> str:
    """Run `manage.py` in its own process; returns what it printed, raises on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env or environment(database_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def printed(database_url: str, code: str, env: dict | None = None) -> str:
    """Run `manage.py shell -c code`; returns the last line it printed (the process logs to standard
    output too)."""
    return manage(database_url, "shell", "-c", code, env=env).strip().splitlines()[-1]


def shell(database_url: str, code: str, env: dict | None = None) -> subprocess.Popen:
    """Start `manage.py shell -c code` in the background."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env or environment(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A gunicorn serving PolicyHub on 127.0.0.1."""

    def __init__(self, env: dict, *, workers: int = 1, threads: int = 4):
        self.port = free_port()
        # A file, not a pipe: gunicorn logs every request, and a pipe nobody reads fills up and
        # blocks the workers mid-response.
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop())
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "policyhub.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.wait_until_up()

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"gunicorn exited:\n{self.log.read()}")
            try:
                urllib.request.urlopen(f"{self.base}/api/v1/", timeout=5)
            except urllib.error.HTTPError:
                return  # 401: up
            except OSError:
                time.sleep(0.3)
                continue
            return
        raise RuntimeError("gunicorn did not answer within a minute")

    def get(self, path: str, token: str) -> int:
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def issue_token(database_url: str, username: str = "sync") -> str:
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from policyhub.models import ApiToken\n"
        "from policyhub.roles import VIEWER, assign_role\n"
        f"user, _ = get_user_model().objects.get_or_create(username={username!r})\n"
        "assign_role(user=user, role=VIEWER)\n"  # reading needs a role (issue 14)
        "print(ApiToken.objects.issue(user=user, name='live test')[1])\n"
    )
    return printed(database_url, code)
