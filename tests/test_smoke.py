"""The foundation loads and the demo data is there."""

import pytest

from codes.models import BillingCode


@pytest.mark.django_db
def test_demo_loads_seed_codes(demo):
    """After load_demo, the three demo codes exist."""
    assert sorted(BillingCode.objects.values_list("code", flat=True)) == ["93590", "93591", "93592"]
