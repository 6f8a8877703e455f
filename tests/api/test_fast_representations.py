"""The hand-written representations of hot rows (payers/api/fast.py) equal DRF's field-by-field
output of the serializer that declares them, row by row."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.reverse import reverse
from rest_framework.test import APIRequestFactory

from briefs.api.serializers import BriefCoverageSerializer, BriefDocumentationSerializer, BriefGapSerializer
from codes.api.serializers import CODES_PAGE, BillingCodeSerializer
from codes.models import BillingCode
from codes.selectors import billing_codes_with_titles, published_brief_prefetch
from payers.api import fast
from payers.api.serializers import (
    CoverageCriterionSerializer,
    DocumentationRequirementSerializer,
    FollowUpGapSerializer,
    PayerSerializer,
)
from payers.models import CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer
from policyhub.api_changes import ChangeSerializer, entries_from_values
from policyhub.changelog import ChangeLogEntry, entry_rows
from policyhub.representations import Links, ValuesPage
from tests.factories import (
    DiagnosisCodeFactory,
    DocumentationRequirementFactory,
    FollowUpGapFactory,
    PolicyDocumentFactory,
)

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


def assert_values_page_as_declared(page: ValuesPage, serializer_class, rows: list, read_from=None) -> None:
    """A list's `ValuesPage`, read as the view reads it (its columns and the cursor's key, from the
    view's queryset `read_from`), turns the same rows, in the same order, into exactly what
    `serializer_class` declares: same keys in the same order, same values."""
    request = APIRequestFactory().get("/api/v1/")
    serializer = serializer_class(context={"request": request})
    declared = [serializers.ModelSerializer.to_representation(serializer, row) for row in rows]
    queryset = (type(rows[0]).objects.all() if read_from is None else read_from).filter(pk__in=[r.pk for r in rows])
    values = queryset.order_by("pk").values(*dict.fromkeys([*page.columns, "id"]))
    built = page.represent(list(values), Links(request))
    assert built == declared
    assert [list(row) for row in built] == [list(row) for row in declared]


def test_criteria_read_as_values_equal_the_declared_serializer(dataset):
    """The API's criteria list reads its page with values() (`fast.criteria_from_values`): every
    criterion, with and without policy and diagnoses, comes out as the serializer declares it,
    diagnoses in the same order."""
    # Added after the first, so in key order but not in code order: the list must sort them by code.
    CoverageCriterion.objects.first().diagnosis_codes.add(
        DiagnosisCodeFactory(code="Z99891"), DiagnosisCodeFactory(code="A000")
    )
    rows = list(
        CoverageCriterion.objects.select_related("code", "payer", "policy")
        .prefetch_related("diagnosis_codes")
        .order_by("pk")
    )
    assert {row.policy_id is None for row in rows} == {True, False}
    assert {len(row.diagnosis_codes.all()) for row in rows} >= {0, 3}
    assert_values_page_as_declared(fast.CRITERIA_PAGE, CoverageCriterionSerializer, rows)


def test_requirements_read_as_values_equal_the_declared_serializer(dataset):
    """The API's documentation-requirements list (`fast.requirements_from_values`): rows with and
    without payer and policy come out as the serializer declares them."""
    DocumentationRequirementFactory(payer=dataset.aetna, policy=PolicyDocumentFactory(payer=dataset.aetna))
    rows = list(DocumentationRequirement.objects.select_related("code", "payer", "policy").order_by("pk"))
    assert {row.payer_id is None for row in rows} == {True, False}
    assert {row.policy_id is None for row in rows} == {True, False}
    assert_values_page_as_declared(fast.REQUIREMENTS_PAGE, DocumentationRequirementSerializer, rows)


def test_gaps_read_as_values_equal_the_declared_serializer(dataset):
    """The API's gap list (`fast.gaps_from_values`): gaps with and without code, payer, policy,
    assignee and dates come out as the serializer declares them."""
    FollowUpGapFactory(code=None, policy=PolicyDocumentFactory(payer=dataset.aetna), payer=dataset.aetna)
    rows = list(FollowUpGap.objects.select_related("code", "payer", "policy", "assignee").order_by("pk"))
    for attribute in ("code_id", "payer_id", "policy_id", "assignee_id", "due_date"):
        assert {getattr(row, attribute) is None for row in rows} == {True, False}, attribute
    assert_values_page_as_declared(fast.GAPS_PAGE, FollowUpGapSerializer, rows)


def test_payers_read_as_values_equal_the_declared_serializer(dataset):
    """The API's payer list (`fast.payers_from_values`): every payer as the serializer declares it."""
    dataset.aetna.website = "https://www.aetna.com"
    dataset.aetna.save()
    rows = list(Payer.objects.order_by("pk"))
    assert {bool(row.website) for row in rows} == {True, False}
    assert_values_page_as_declared(fast.PAYERS_PAGE, PayerSerializer, rows)


def test_codes_read_as_values_equal_the_declared_serializer(dataset):
    """The API's codes list (`codes_from_values`): codes with and without a published brief, each
    with its brief's title, as the serializer declares them."""
    codes = list(BillingCode.objects.prefetch_related(published_brief_prefetch()).order_by("pk"))
    assert {bool(code.published_briefs) for code in codes} == {True, False}
    assert_values_page_as_declared(CODES_PAGE, BillingCodeSerializer, codes, read_from=billing_codes_with_titles())


def test_change_feed_entries_built_by_hand_equal_the_declared_serializer(db):
    """The changes feed reads its entries as plain rows (`entry_rows`) and builds them by hand
    (`entries_from_values`): upserts with a link, removals without one, keys that need escaping in
    a URL, entries with and without a billing code — each exactly as `ChangeSerializer` declares
    it, keys in the same order."""
    now = timezone.now()
    entries = [
        ChangeLogEntry(position=1, resource="codes", key="93590", action="upserted", billing_code="93590"),
        ChangeLogEntry(position=2, resource="payers", key="aetna", action="removed"),
        ChangeLogEntry(position=3, resource="coverage-criteria", key="a b/c?", action="upserted", billing_code="93592"),
    ]
    for entry in entries:
        entry.positioned_at = now - timedelta(microseconds=entry.position)
    ChangeLogEntry.objects.bulk_create(entries)
    request = APIRequestFactory().get("/api/v1/changes/")
    rows = entry_rows(after=0, upto=3, limit=10)  # as the feed reads them (on SQLite: naive times)
    built = entries_from_values(rows, reverse("api:api-root", request=request))
    declared = ChangeSerializer(ChangeLogEntry.objects.order_by("position"), many=True, context={"request": request})
    assert built == declared.data
    assert [list(entry) for entry in built] == [list(entry) for entry in declared.data]
    assert built[1]["url"] is None and built[2]["url"].endswith("/coverage-criteria/a%20b%2Fc%3F/")
    assert [row[0] for row in entry_rows(after=0, upto=3, limit=10, resources=["payers", "codes"])] == [1, 2]
    assert [row[0] for row in entry_rows(after=1, upto=2, limit=10)] == [2]
