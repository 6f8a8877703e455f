"""`python -m bench.coverage_check` stays runnable: it times order-sign and its SQL floor, and leaves
no rows behind."""

import pytest

from bench.coverage_check import parse_args, run
from briefs.models import CdsClient, CoverageAssertion, PayerIdentifier


def test_database_url_is_required(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit):
        parse_args([])
    assert "--database-url" in capsys.readouterr().err


@pytest.mark.django_db
def test_run_times_order_sign_and_rolls_back(demo):
    result = run(runs=2, orders=5)
    assert result["orders"] == 5 and len(result["codes"]) == 5
    assert result["median_ms"] > 0 and result["sql_floor_median_ms"] > 0
    assert not CdsClient.objects.exists()
    assert not PayerIdentifier.objects.exists()
    assert not CoverageAssertion.objects.exists()
