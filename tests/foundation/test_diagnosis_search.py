"""The diagnosis pickers of the admin find ICD-10-CM codes by their start or by words of their
description, as the API's `?q=` does (one search, `codes.selectors.search_diagnosis_codes`)."""

import pytest
from django.db import connection
from django.urls import reverse

from codes.models import DiagnosisCode
from codes.selectors import looks_like_diagnosis_code, search_diagnosis_codes
from tests.factories import DiagnosisCodeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def diagnoses():
    for code, description in [
        ("I340", "Nonrheumatic mitral (valve) insufficiency"),
        ("I341", "Nonrheumatic mitral (valve) prolapse"),
        ("I350", "Nonrheumatic aortic (valve) stenosis"),
        ("I051", "Rheumatic mitral insufficiency"),
        ("N183", "Chronic kidney disease, stage 3 (moderate)"),
        ("QA0", "Mitral"),  # FY2026 added codes whose second character is a letter
    ]:
        DiagnosisCodeFactory(code=code, description=description)


def picked(client, term: str) -> list[str]:
    """What the supporting-diagnosis picker on a coverage criterion offers for a typed term."""
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "payers", "model_name": "coveragecriterion", "field_name": "diagnosis_codes", "term": term},
    )
    assert response.status_code == 200
    return [DiagnosisCode.objects.get(pk=row["id"]).code for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("mitral", ["I051", "I340", "I341", "QA0"]),  # a word, though shaped like a code's start
        ("insufficiency MITRAL", ["I051", "I340"]),  # every word, any order, any case
        ('"mitral (valve) insufficiency"', ["I340"]),  # a quoted phrase
        ("I34", ["I340", "I341"]),  # a code's start, by the code alone
        ("i34.0", ["I340"]),  # typed with the dot, in lower case
        ("QA", ["QA0"]),
        ("kidney stage 3", ["N183"]),
        ("valve stenosis aortic", ["I350"]),
    ],
)
def test_the_picker_finds_codes_by_their_start_or_by_words(staff_client, diagnoses, term, expected):
    assert picked(staff_client, term) == expected


def test_the_change_list_searches_the_same_way(staff_client, diagnoses):
    page = staff_client.get(reverse("admin:codes_diagnosiscode_changelist"), {"q": "mitral prolapse"}).content.decode()
    assert "I34.1" in page and "I34.0" not in page


@pytest.mark.parametrize(
    ("term", "is_code"),
    [("I25.10", True), ("i2510", True), ("QA0", True), ("I", True), ("QA", True), ("mitral", False), ("C4A", True)],
)
def test_what_counts_as_a_code(term, is_code):
    assert looks_like_diagnosis_code(term) is is_code


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_description_words_are_looked_up_by_the_trigram_index(diagnoses):
    """The plan of a word search names the index, so a full release (98k codes) is not scanned."""
    query = search_diagnosis_codes(DiagnosisCode.objects.all(), "chronic kidney").order_by()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table would be scanned anyway
        plan = query.explain()
    assert "diagnosiscode_description_trgm" in plan, plan
