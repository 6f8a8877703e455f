"""Prepared querysets (`policyhub.prepared`): compiled once, they give what the queryset gives, for
every value, on both databases; the code detail reads its brief through them."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Prefetch, prefetch_related_objects

from briefs.selectors import brief_prefetches
from codes.models import BillingCode, CodeRelationship, SiteOfService
from payers.models import Benchmark, CoverageCriterion
from policyhub.prepared import Prepared, PreparedPrefetches
from tests import factories

pytestmark = pytest.mark.django_db


def criteria_of(code_id):
    return (
        CoverageCriterion.objects.filter(code=code_id)
        .select_related("payer", "policy")
        .prefetch_related("diagnosis_codes")
        .order_by("-effective_start", "pk")
    )


def seen(criterion: CoverageCriterion) -> tuple:
    """What a reader of a criterion sees of it, its related rows included."""
    return (
        criterion.pk,
        criterion.code_id,
        criterion.effective_start,
        criterion.reviewed_at,
        criterion.payer.name,
        criterion.policy.number if criterion.policy else None,
        [d.code for d in criterion.diagnosis_codes.all()],
    )


@pytest.fixture
def two_codes():
    first, second = factories.BillingCodeFactory(), factories.BillingCodeFactory()
    for day, code in ((3, first), (1, first), (2, first), (5, second)):
        policy = factories.PolicyDocumentFactory()  # each criterion its own payer: periods may not overlap
        criterion = factories.CoverageCriterionFactory(
            code=code,
            payer=policy.payer,
            policy=policy if day != 1 else None,
            effective_start=datetime.date(2025, 1, day),
            reviewed_at=datetime.datetime(2025, 2, day, 9, 30, tzinfo=datetime.UTC),
        )
        criterion.diagnosis_codes.add(factories.DiagnosisCodeFactory(), factories.DiagnosisCodeFactory())
    return first, second


def test_a_prepared_queryset_gives_the_querysets_instances_for_each_value(two_codes, django_assert_num_queries):
    prepared = Prepared(criteria_of)
    for code in (*two_codes, *two_codes):  # the statement is compiled once, then reused
        expected = [seen(c) for c in criteria_of(code.pk)]
        # One statement for the criteria with their payers and policies, one for their diagnoses.
        with django_assert_num_queries(2):
            found = [seen(c) for c in prepared(code.pk)]
        assert found == expected
        assert len(found) == (3 if code == two_codes[0] else 1)
    assert isinstance(found[0][2], datetime.date) and isinstance(found[0][3], datetime.datetime)


def test_a_prepared_values_queryset_gives_the_same_dicts_with_converted_values():
    code = factories.BillingCodeFactory()
    factories.BenchmarkFactory(code=code, value="21.7000", period_start=datetime.date(2024, 7, 1))
    factories.BenchmarkFactory(code=code, value="3.5000", payer=factories.PayerFactory())

    def rows(code_id):
        return Benchmark.objects.filter(code=code_id).order_by("value").values("value", "period_start", "payer__name")

    prepared = Prepared(rows)
    assert prepared(code.pk) == list(rows(code.pk))
    assert prepared(code.pk)[1]["value"] == Decimal("21.7000")
    assert prepared(code.pk)[1]["period_start"] == datetime.date(2024, 7, 1)
    assert prepared(factories.BillingCodeFactory().pk) == []


def test_a_text_value_can_be_prepared():
    factories.BillingCodeFactory(code="93590")
    prepared = Prepared(lambda code: BillingCode.objects.filter(code=code).values("code"), kind=str)
    assert prepared("93590") == [{"code": "93590"}]
    assert prepared("93592") == []


@pytest.mark.parametrize(
    "make",
    [
        lambda value: BillingCode.objects.filter(pk=value, id__gte=value),
        lambda value: BillingCode.objects.all(),
        lambda value: BillingCode.objects.filter(pk=value).values_list("code"),
    ],
    ids=["used twice", "not used", "values_list"],
)
def test_a_queryset_that_cannot_be_prepared_is_refused_when_first_run(make):
    with pytest.raises(ImproperlyConfigured):
        Prepared(make)(1)


def test_prepared_prefetches_fill_what_prefetch_related_fills(django_assert_num_queries):
    code = factories.BillingCodeFactory()
    for place in ("22", "11", "19"):
        factories.SiteOfServiceFactory(code=code, place_of_service=factories.PlaceOfServiceFactory(code=place))
    factories.SiteOfServiceFactory(place_of_service=factories.PlaceOfServiceFactory(code="21"))  # another code's
    factories.BenchmarkFactory(code=code)
    factories.CodeRelationshipFactory(to_code=code)
    lookups = [
        Prefetch("sites_of_service", queryset=SiteOfService.objects.published().select_related("place_of_service")),
        Prefetch("benchmarks", queryset=Benchmark.objects.published(), to_attr="benchmark_rows"),
        Prefetch("relationships_to", queryset=CodeRelationship.objects.select_related("from_code")),
    ]
    expected = BillingCode.objects.get(pk=code.pk)
    prefetch_related_objects([expected], *lookups)

    prepared = PreparedPrefetches(lambda: lookups)
    for _ in range(2):
        found = BillingCode.objects.get(pk=code.pk)
        with django_assert_num_queries(3):
            prepared(found)
        with django_assert_num_queries(0):
            sites = [(s.place_of_service.code, s.code.code) for s in found.sites_of_service.all()]
            assert sites == [(s.place_of_service.code, s.code.code) for s in expected.sites_of_service.all()]
            assert [b.pk for b in found.benchmark_rows] == [b.pk for b in expected.benchmark_rows]
            assert [r.from_code.code for r in found.relationships_to.all()] == [
                r.from_code.code for r in expected.relationships_to.all()
            ]
    assert len(sites) == 3 and len(found.benchmark_rows) == 1


def test_the_briefs_prefetches_can_all_be_prepared():
    code = factories.BillingCodeFactory()
    PreparedPrefetches(lambda: brief_prefetches(sections=True))(code)
    assert code.coverage == [] and code.open_gaps == [] and list(code.modifier_guidance.all()) == []
