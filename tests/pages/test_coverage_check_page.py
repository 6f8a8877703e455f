"""The "check an order" form on the brief page: staff only, the same service as the API, recorded."""

import pytest

from briefs.models import CoverageAssertion
from codes.models import DiagnosisCode

pytestmark = pytest.mark.django_db


def test_staff_see_the_form_on_the_brief_page(demo, staff_client, reader_client):
    page = staff_client.get("/codes/93590/").content.decode()
    assert "Check an order" in page
    assert 'action="/codes/93590/check/"' in page
    assert "Check an order" not in reader_client.get("/codes/93590/").content.decode()


def test_staff_check_an_order(demo, staff_user, staff_client):
    """The answer shows per code: the CRD values, the reasons and the open gaps; it is recorded."""
    DiagnosisCode.objects.create(code="I340", description="Nonrheumatic mitral (valve) insufficiency")
    response = staff_client.post(
        "/codes/93592/check/",
        {
            "payer": "aetna",
            "date_of_service": "2026-03-02",
            "diagnosis_codes": "I34.0",
            "place_of_service": "22",
            "other_codes": "93590",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "93592 (Aetna, 2026-03-02): coverage cannot be decided from PolicyHub&#x27;s data" in page
    assert "93590 (Aetna, 2026-03-02)" in page
    assert "Detailed payer-specific coverage criteria were not supplied." in page
    record = CoverageAssertion.objects.get()
    assert (record.channel, record.user) == ("page", staff_user)
    assert str(record.assertion_id) in page


def test_unknown_codes_are_shown_on_the_form(demo, staff_client):
    response = staff_client.post(
        "/codes/93590/check/", {"payer": "aetna", "date_of_service": "2026-03-02", "diagnosis_codes": "Z99.99"}
    )
    assert response.status_code == 200
    assert "Diagnosis codes: Unknown ICD-10-CM code" in response.content.decode()
    assert not CoverageAssertion.objects.exists()


def test_readers_cannot_use_it(demo, reader_client):
    response = reader_client.post("/codes/93590/check/", {"payer": "aetna", "date_of_service": "2026-03-02"})
    assert response.status_code == 403
    assert not CoverageAssertion.objects.exists()
