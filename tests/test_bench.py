"""`make bench` is runnable: its options parse and refuse what it cannot do."""

import pytest

from bench.__main__ import DEFAULT_POSTGRES, parse_args, verdict_lines


def test_defaults_cover_both_databases():
    args = parse_args([])
    assert args.databases == ["sqlite", "postgresql"]
    assert args.postgres_url == DEFAULT_POSTGRES
    assert args.postgres_url.endswith("/policyhub_bench"), "the bench must never touch the working database"


def test_unknown_database_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--databases", "sqlite,oracle"])
    assert "unknown oracle" in capsys.readouterr().err


def test_copy_goal_is_judged_on_reading_plus_copy_into_the_shaped_table(capsys):
    """The printed verdict follows the import's ratio to reading + COPY into the real table's shape."""
    copy = {"rows": 98186, "seconds": 0.3, "shaped_seconds": 0.7, "read_seconds": 0.5, "peak_rss_mb": 100}
    ratios = verdict_lines(3.0, copy)["ratios"]
    assert ratios["reading + COPY into the shaped table"] == pytest.approx(2.5)
    assert ratios["COPY into the bare table"] == pytest.approx(10)
    assert "Goal, within 3x of reading + COPY into the shaped table: met" in capsys.readouterr().out
    verdict_lines(3.7, copy)
    assert "shaped table: NOT met" in capsys.readouterr().out
