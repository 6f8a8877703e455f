"""The scale data set's synthetic side has the shape `make bench-api` relies on: the filters it
times read a full page at 1k rows as at 1M, so its 1M/1k ratios compare the same work."""

from collections import Counter

import pytest

from bench.reads.requests import PAGE
from bench.scale.synthetic import PAYERS, Synthetic
from payers.choices import GapStatus

# The real data set's sizes: HCPCS 2026 plus PFS codes, and the bundled ICD-10-CM billable codes.
CODES = list(range(1, 20_189))
DIAGNOSES = list(range(1, 74_720))


def criteria_per_payer(rows: Synthetic) -> Counter:
    if rows.criteria <= 1_000:
        return Counter(row["payer_id"] for row in rows.coverage())
    # Each pair has a criterion per period (`coverage()`); at 1M, counted from the pairs alone.
    return Counter({payer: 2 * n for payer, n in Counter(rows.pair(j)[1] for j in range(rows.pairs)).items()})


@pytest.mark.parametrize("criteria", [1_000, 1_000_000])
def test_no_code_and_payer_pair_comes_twice(criteria):
    # A repeated pair would have overlapping periods, which the exclusion constraint refuses.
    rows = Synthetic(criteria, CODES, DIAGNOSES)
    pairs = [rows.pair(j) for j in range(rows.pairs)]
    assert len(set(pairs)) == len(pairs) == criteria // 2
    assert {payer for _, payer in pairs} <= set(range(1, PAYERS + 1))


@pytest.mark.parametrize(("criteria", "first_payer"), [(1_000, 40), (1_000_000, 40_000)])
def test_the_first_payer_has_criteria_on_every_code(criteria, first_payer):
    rows = Synthetic(criteria, CODES, DIAGNOSES)
    per_payer = criteria_per_payer(rows)
    assert per_payer[1] == first_payer
    # A page of `?payer=` at 1k holds most of a page, as at 1M; no other payer comes near.
    assert per_payer[1] >= 0.8 * PAGE
    assert max(count for payer, count in per_payer.items() if payer != 1) < per_payer[1] / 5


def test_the_first_code_has_fifty_criteria_in_both_data_sets():
    for criteria in (1_000, 1_000_000):
        rows = Synthetic(criteria, CODES, DIAGNOSES)
        assert sum(1 for j in range(rows.pairs) if rows.pair(j)[0] == CODES[0]) * 2 == PAGE


def test_one_diagnosis_supports_a_tenth_of_the_criteria():
    rows = Synthetic(1_000, CODES, DIAGNOSES)
    links = list(rows.diagnosis_links())
    assert len({(link["coveragecriterion_id"], link["diagnosiscode_id"]) for link in links}) == len(links)
    per_diagnosis = Counter(link["diagnosiscode_id"] for link in links)
    (_, most), (_, next_most) = per_diagnosis.most_common(2)
    assert most == 100 >= 2 * PAGE
    assert next_most < 5
    assert Counter(link["coveragecriterion_id"] for link in links)[1] == 3


@pytest.mark.parametrize(("criteria", "gaps"), [(1_000, 200), (1_000_000, 50_000)])
def test_half_the_gaps_are_open_and_fill_a_page(criteria, gaps):
    statuses = Counter(gap["status"] for gap in Synthetic(criteria, CODES, DIAGNOSES).gaps())
    assert statuses.total() == gaps
    assert statuses[GapStatus.OPEN] == gaps // 2 >= PAGE
    assert set(statuses) == set(GapStatus.values)
