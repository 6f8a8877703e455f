"""Helpers of the import tests: run a command, and photograph the database to prove nothing changed."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Max

from codes.models import BillingCode, CodeSetRelease, DiagnosisCode, Modifier, PlaceOfService
from payers.models import Benchmark, Payer, PolicyDocument

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TRACKED = (BillingCode, Modifier, DiagnosisCode, PlaceOfService, Benchmark, Payer, PolicyDocument)


def run(command: str, *args) -> str:
    """Run a management command and return what it printed."""
    out = StringIO()
    call_command(command, *[str(arg) for arg in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> dict:
    """Row counts, history counts and the latest change of every table an import writes."""
    state = {"releases": CodeSetRelease.objects.count()}
    for model in TRACKED:
        state[model.__name__] = (
            model.objects.count(),
            model.history.count(),
            model.objects.aggregate(latest=Max("updated_at"))["latest"],
        )
    return state


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
