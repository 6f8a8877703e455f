"""`make bench`: import speed and memory of the release importers on SQLite and PostgreSQL.

Run as `python -m bench` (see docs/bench.md). Each measured step runs in its own process, so the
peak resident memory printed for it belongs to that step alone.
"""
