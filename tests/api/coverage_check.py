"""What the coverage-check tests share: the date of service, a published criterion of the payer, and how
they ask (`check`) and read the answer (`item`, `rules`). The `check_world` they ask about is a fixture of
tests/api/conftest.py."""

import datetime as dt

from payers.choices import CoverageStatus, PriorAuth
from tests.factories import CoverageCriterionFactory

DAY = dt.date(2026, 3, 2)
URL = "/api/v1/coverage-check/"


def criterion(w, code=None, **fields):
    fields.setdefault("coverage_status", CoverageStatus.COVERED)
    fields.setdefault("prior_auth", PriorAuth.NOT_REQUIRED)
    return CoverageCriterionFactory(code=code or w.mitral, payer=w.payer, **fields)


def check(client, *, codes=("93590",), **fields):
    body = {
        "payer": "acme",
        "date_of_service": DAY.isoformat(),
        "items": [{"code": code} for code in codes],
        "diagnosis_codes": ["I34.0"],
        "place_of_service": "22",
        **fields,
    }
    return client.post(URL, body, format="json")


def item(response, n=0) -> dict:
    assert response.status_code == 200, response.content
    return response.json()["items"][n]


def rules(answer: dict) -> list[str]:
    return [reason["rule"] for reason in answer["reasons"]]
