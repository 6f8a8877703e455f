"""The hand-written representations of hot rows (payers/api/fast.py) equal DRF's field-by-field
output of the serializer that declares them, row by row."""

from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from payers.api.serializers import BriefCoverageSerializer, CoverageCriterionSerializer
from payers.models import CoverageCriterion


def test_criterion_rows_equal_the_declared_serializer(dataset):
    """Every criterion (published, draft, with and without policy, diagnosis codes and dates)
    is represented exactly as DRF would, in the list and inside a code's brief."""
    request = APIRequestFactory().get("/api/v1/coverage-criteria/")
    criteria = list(
        CoverageCriterion.objects.select_related("code", "payer", "policy").prefetch_related("diagnosis_codes")
    )
    assert any(row.policy_id is None for row in criteria)
    assert any(row.diagnosis_codes.all() for row in criteria)
    for serializer_class in (CoverageCriterionSerializer, BriefCoverageSerializer):
        serializer = serializer_class(context={"request": request})
        for row in criteria:
            declared = serializers.ModelSerializer.to_representation(serializer, row)
            assert serializer.to_representation(row) == declared
            assert list(serializer.to_representation(row)) == list(declared)  # same key order
