"""What one answer costs the server: CPU time of gunicorn's processes and their database sessions.

A median latency at idle carries what every request pays whatever it does (the machine waking up,
the transport, gunicorn), so a 304 that does a fifth of a full answer's work still takes a third of
its time. Under steady load the server's CPU time divided by the answers it gave is what each one
takes from its capacity. `make bench-api` prints it for criteria page 1, its 304 and `/health/live`.

Read from Linux's `/proc`: gunicorn's master and workers (a worker that ends, as gunicorn's
`max_requests` makes them, is counted through what its master reaped) and PostgreSQL's sessions on
the data set's database where PostgreSQL runs on this machine (0 where it does not). Elsewhere
nothing is printed.
"""

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Snapshot:
    """CPU seconds so far of each process of a group, and of the children its root has reaped."""

    own: dict[int, float]
    reaped: float = 0.0


def spent(before: Snapshot, after: Snapshot) -> float:
    """CPU seconds a group spent between two snapshots.

    A process alive at both counts its growth, a new one its whole time, and one that ended is in
    what the group's root reaped meanwhile with its whole life, so the part already counted before
    is taken off.
    """
    total = after.reaped - before.reaped
    for pid, cpu in after.own.items():
        total += cpu - before.own.get(pid, 0.0)
    total -= sum(cpu for pid, cpu in before.own.items() if pid not in after.own)
    return total


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces), or None."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _seconds(fields: list[str], *indexes: int) -> float:
    return sum(int(fields[index]) for index in indexes) / TICKS


def _processes() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def gunicorn(master: int) -> Snapshot:
    """The master and its workers. After the name, stat's fields are state (0), ppid (1), ...,
    utime (11), stime (12), cutime (13), cstime (14)."""
    root = _stat(master)
    if root is None:
        return Snapshot({})
    own = {master: _seconds(root, 11, 12)}
    for pid in _processes():
        fields = _stat(pid)
        if fields is not None and int(fields[1]) == master:
            own[pid] = _seconds(fields, 11, 12)
    return Snapshot(own, reaped=_seconds(root, 13, 14))


def database_sessions(database: str) -> Snapshot:
    """PostgreSQL's backends connected to `database`, and what their postmaster has reaped: sessions
    that ended (gunicorn's workers end theirs when `max_requests` replaces them) and parallel
    workers, each with its whole life. An autovacuum worker ending meanwhile would count too: run
    the bench on a data set that has been vacuumed (`make bench-scale` does it)."""
    own, postmaster = {}, None
    for pid in _processes():
        try:
            title = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if not title.startswith("postgres: "):
            continue
        fields = _stat(pid)
        if fields is None:
            continue
        # Every titled process (sessions, checkpointer, writers) is the postmaster's child.
        postmaster = int(fields[1])
        if session_database(title) == database:
            own[pid] = _seconds(fields, 11, 12)
    root = _stat(postmaster) if postmaster else None
    return Snapshot(own, reaped=_seconds(root, 13, 14) if root else 0.0)


def session_database(title: str) -> str | None:
    """The database of a PostgreSQL backend's process title, `postgres: [cluster: ]user database
    host(port) state`; None for any other process (the cluster's name is there when set, as on Debian)."""
    words = title.split()
    if not words or words[0] != "postgres:":
        return None
    words = words[1:]
    if words and words[0].endswith(":"):
        words = words[1:]
    return words[1] if len(words) >= 3 else None


def available() -> bool:
    return (PROC / "self" / "stat").exists()
