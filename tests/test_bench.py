"""`make bench` is runnable: its options parse and refuse what it cannot do."""

import pytest

from bench.__main__ import DEFAULT_POSTGRES, parse_args


def test_defaults_cover_both_databases():
    args = parse_args([])
    assert args.databases == ["sqlite", "postgresql"]
    assert args.postgres_url == DEFAULT_POSTGRES
    assert args.postgres_url.endswith("/policyhub_bench"), "the bench must never touch the working database"


def test_unknown_database_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--databases", "sqlite,oracle"])
    assert "unknown oracle" in capsys.readouterr().err
