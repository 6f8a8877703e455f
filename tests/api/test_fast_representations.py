"""The hand-written representations of hot rows (payers/api/fast.py) equal DRF's field-by-field
output of the serializer that declares them, row by row."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from briefs.api.serializers import BriefCoverageSerializer, BriefDocumentationSerializer, BriefGapSerializer
from codes.api.serializers import BillingCodeSerializer
from codes.models import BillingCode
from codes.selectors import published_brief_prefetch
from payers.api.serializers import (
    CoverageCriterionSerializer,
    DocumentationRequirementSerializer,
    FollowUpGapSerializer,
)
from payers.models import CoverageCriterion, DocumentationRequirement, FollowUpGap
from tests.factories import FollowUpGapFactory, PolicyDocumentFactory

ROWS = {
    CoverageCriterion: (("code", "payer", "policy"), ("diagnosis_codes",)),
    DocumentationRequirement: (("code", "payer", "policy"), ()),
    FollowUpGap: (("code", "payer", "policy", "assignee"), ()),
}
SERIALIZERS = [
    (CoverageCriterion, CoverageCriterionSerializer),
    (CoverageCriterion, BriefCoverageSerializer),
    (DocumentationRequirement, DocumentationRequirementSerializer),
    (DocumentationRequirement, BriefDocumentationSerializer),
    (FollowUpGap, FollowUpGapSerializer),
    (FollowUpGap, BriefGapSerializer),
]


@pytest.mark.parametrize(("model", "serializer_class"), SERIALIZERS)
def test_rows_equal_the_declared_serializer(dataset, model, serializer_class):
    """Every row (published or not, with and without payer, policy, assignee, dates) is represented
    exactly as DRF would: same keys in the same order, same values."""
    FollowUpGapFactory(code=None, policy=PolicyDocumentFactory(payer=dataset.aetna), payer=dataset.aetna)
    related, prefetched = ROWS[model]
    rows = list(model.objects.select_related(*related).prefetch_related(*prefetched))
    assert len(rows) >= 2
    serializer = serializer_class(context={"request": APIRequestFactory().get("/api/v1/")})
    for row in rows:
        declared = serializers.ModelSerializer.to_representation(serializer, row)
        fast = serializer.to_representation(row)
        assert fast == declared
        assert list(fast) == list(declared)


def test_code_rows_equal_the_declared_serializer(dataset):
    """The codes list: codes with and without a published brief, dates and empty fields."""
    codes = list(BillingCode.objects.prefetch_related(published_brief_prefetch()))
    assert {bool(code.published_briefs) for code in codes} == {True, False}
    serializer = BillingCodeSerializer(context={"request": APIRequestFactory().get("/api/v1/")})
    for code in codes:
        declared = serializers.ModelSerializer.to_representation(serializer, code)
        assert serializer.to_representation(code) == declared
        assert list(serializer.to_representation(code)) == list(declared)
