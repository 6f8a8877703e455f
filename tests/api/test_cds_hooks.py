"""CDS Hooks 2.0 / Da Vinci CRD: the three services and the shapes of what they answer (CDS Hooks JSON
Schema below, FHIR R4B models for the updated orders). Discovery and the client JWT: test_cds_hooks_auth.py."""

import datetime as dt

import jsonschema
import pytest
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.servicerequest import ServiceRequest

from briefs.cds_hooks import COVERAGE_INFORMATION, CPT_SYSTEM, ICD10CM_SYSTEM
from briefs.models import CoverageAssertion
from tests.api.cds_requests import SIGN, bearer, hook_body, service_request, token

pytestmark = pytest.mark.django_db

# CDS Hooks 2.0 shapes, written from the specification's tables (CDS Service Response, Card, Source,
# Suggestion, Action, Link).
CODING = {
    "type": "object",
    "required": ["code"],
    "properties": {"system": {"type": "string"}, "code": {"type": "string"}},
}
ACTION = {
    "type": "object",
    "required": ["type", "description"],
    "properties": {
        "type": {"enum": ["create", "update", "delete"]},
        "description": {"type": "string"},
        "resource": {"type": "object", "required": ["resourceType"]},
        "resourceId": {"type": "string"},
    },
    "allOf": [{"if": {"properties": {"type": {"enum": ["create", "update"]}}}, "then": {"required": ["resource"]}}],
}
CARD = {
    "type": "object",
    "required": ["summary", "indicator", "source"],
    "properties": {
        "uuid": {"type": "string"},
        "summary": {"type": "string", "maxLength": 139},
        "detail": {"type": "string"},
        "indicator": {"enum": ["info", "warning", "critical"]},
        "source": {
            "type": "object",
            "required": ["label"],
            "properties": {
                "label": {"type": "string"},
                "url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                "icon": {"type": "string"},
                "topic": CODING,
            },
        },
        "suggestions": {"type": "array"},
        "selectionBehavior": {"enum": ["at-most-one", "any"]},
        "overrideReasons": {"type": "array", "items": CODING},
        "links": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["label", "url", "type"],
                "properties": {
                    "label": {"type": "string"},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "type": {"enum": ["absolute", "smart"]},
                },
            },
        },
    },
    "dependentRequired": {"suggestions": ["selectionBehavior"]},
}
RESPONSE_SCHEMA = {
    "type": "object",
    "required": ["cards"],
    "properties": {"cards": {"type": "array", "items": CARD}, "systemActions": {"type": "array", "items": ACTION}},
}


def coverage_info(resource: dict) -> dict:
    """The CRD extension's parts as {url: [values]}."""
    (extension,) = [e for e in resource["extension"] if e["url"] == COVERAGE_INFORMATION]
    parts = {}
    for part in extension["extension"]:
        value = next((v for k, v in part.items() if k.startswith("value")), part.get("extension"))
        parts.setdefault(part["url"], []).append(value)
    return parts


# --- The services ------------------------------------------------------------------------------------


def test_order_sign_answers_cards_and_coverage_information(cds_client, ec_key, crd_world):
    """order-sign: a card per order and an update putting a valid CRD extension on each ServiceRequest;
    the add-on is judged with its primary; the answer is recorded for the client."""
    orders = [service_request("sr1", "93590"), service_request("sr2", "93592", reason=None)]
    response = bearer(token(ec_key, SIGN, tenant="mercy")).post(SIGN, hook_body("order-sign", orders), format="json")
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, RESPONSE_SCHEMA)
    assert len(body["cards"]) == 2
    card = body["cards"][0]
    assert card["summary"].startswith("93590 (Acme Health, 2026-03-02): covered when conditions are met")
    assert card["indicator"] == "warning"
    assert card["source"]["url"] == "https://example.org/cpb"
    assert "Symptomatic paravalvular leak" in card["detail"]
    updated = [action["resource"] for action in body["systemActions"]]
    for resource in updated:
        ServiceRequest.model_validate(resource)
    first, second = (coverage_info(r) for r in updated)
    assert first["covered"] == ["conditional"] and first["pa-needed"] == ["auth-needed"]
    assert first["info-needed"] == ["OTH"]
    assert first["coverage"] == [{"reference": "Coverage/cov1"}]
    assert first["billingCode"] == [{"system": CPT_SYSTEM, "code": "93590"}]
    assert second["covered"] == ["conditional"]  # the add-on follows 93590
    assert updated[0]["code"] == orders[0]["code"] and updated[0]["id"] == "sr1"
    record = CoverageAssertion.objects.get()
    assert first["coverage-assertion-id"] == [str(record.assertion_id)] == second["coverage-assertion-id"]
    assert (record.channel, record.cds_client, record.payer, record.service_date) == (
        "cds-hooks",
        cds_client,
        crd_world,
        dt.date(2026, 3, 2),
    )
    assert record.request["orders"][0]["id"] == "sr1"


def test_order_select_judges_only_the_selection(cds_client, ec_key, crd_world):
    path = "/cds-services/policyhub-crd-order-select"
    orders = [service_request("sr1", "93590"), service_request("sr2", "93590")]
    body = hook_body("order-select", orders, selections=["ServiceRequest/sr2"])
    response = bearer(token(ec_key, path)).post(path, body, format="json")
    assert response.status_code == 200
    assert [a["resource"]["id"] for a in response.json()["systemActions"]] == ["sr2"]


def test_appointment_book_updates_the_appointment(cds_client, ec_key, crd_world):
    path = "/cds-services/policyhub-crd-appointment-book"
    appointment = {
        "resourceType": "Appointment",
        "id": "ap1",
        "status": "proposed",
        "serviceType": [{"coding": [{"system": CPT_SYSTEM, "code": "93590"}]}],
        "reasonCode": [{"coding": [{"system": ICD10CM_SYSTEM, "code": "I34.0"}]}],
        "start": "2026-03-02T09:00:00Z",
        "end": "2026-03-02T11:00:00Z",
        "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
    }
    body = hook_body("appointment-book", [appointment], key="appointments")
    response = bearer(token(ec_key, path)).post(path, body, format="json")
    assert response.status_code == 200
    jsonschema.validate(response.json(), RESPONSE_SCHEMA)
    resource = response.json()["systemActions"][0]["resource"]
    Appointment.model_validate(resource)
    assert coverage_info(resource)["covered"] == ["conditional"]


def test_appointment_book_follows_based_on_to_the_service_request(cds_client, ec_key, crd_world):
    """An Appointment that books an order without repeating its code is judged as the ServiceRequest it
    is `basedOn` (sent in the prefetch), with the appointment's own date; the update is the Appointment."""
    path = "/cds-services/policyhub-crd-appointment-book"
    appointment = {
        "resourceType": "Appointment",
        "id": "ap2",
        "status": "proposed",
        "basedOn": [{"reference": "ServiceRequest/sr9"}],
        "start": "2026-03-02T09:00:00Z",
        "end": "2026-03-02T11:00:00Z",
        "participant": [{"actor": {"reference": "Patient/p1"}, "status": "accepted"}],
    }
    body = hook_body("appointment-book", [appointment], key="appointments")
    body["prefetch"]["serviceRequests"] = {
        "resourceType": "Bundle",
        "entry": [{"resource": service_request("sr9", "93590")}],
    }
    response = bearer(token(ec_key, path)).post(path, body, format="json")
    assert response.status_code == 200
    jsonschema.validate(response.json(), RESPONSE_SCHEMA)
    (action,) = response.json()["systemActions"]
    assert action["resource"]["id"] == "ap2"
    Appointment.model_validate(action["resource"])
    assert coverage_info(action["resource"])["covered"] == ["conditional"]
    assert CoverageAssertion.objects.get().response["items"][0]["code"] == "93590"

    del body["prefetch"]["serviceRequests"]
    body["hookInstance"] = "0a4f1b6e-1f7e-4a58-9d67-6f1f0b3c2a10"
    response = bearer(token(ec_key, path)).post(path, body, format="json")
    assert "systemActions" not in response.json()
    assert "nor does a ServiceRequest it is based on" in str(response.json()["cards"])


def test_unmapped_payer_gets_a_card_and_no_update(cds_client, ec_key, crd_world):
    body = hook_body("order-sign", [service_request("sr1", "93590")], payor_value="99999")
    response = bearer(token(ec_key, SIGN)).post(SIGN, body, format="json")
    assert response.status_code == 200
    answer = response.json()
    jsonschema.validate(answer, RESPONSE_SCHEMA)
    assert "systemActions" not in answer
    assert "does not know this coverage's payer" in answer["cards"][0]["summary"]
    assert "99999" in answer["cards"][0]["detail"]


def test_unknown_code_is_reported_and_the_rest_judged(cds_client, ec_key, crd_world):
    orders = [service_request("sr1", "99999"), service_request("sr2", "93590")]
    response = bearer(token(ec_key, SIGN)).post(SIGN, hook_body("order-sign", orders), format="json")
    assert response.status_code == 200
    answer = response.json()
    assert [a["resource"]["id"] for a in answer["systemActions"]] == ["sr2"]
    assert any("no billing code 99999" in card["summary"] for card in answer["cards"])


def test_missing_coverage_answers_412(cds_client, ec_key, crd_world):
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    body["prefetch"] = {}
    response = bearer(token(ec_key, SIGN)).post(SIGN, body, format="json")
    assert response.status_code == 412
    assert "prefetch.coverage" in response.json()["detail"]


def test_wrong_hook_or_service(cds_client, ec_key, crd_world):
    response = bearer(token(ec_key, SIGN)).post(SIGN, hook_body("order-select", []), format="json")
    assert response.status_code == 400
    assert "hook" in response.json()["errors"]
    missing = "/cds-services/nope"
    assert bearer(token(ec_key, missing)).post(missing, {}, format="json").status_code == 404


def test_assertions_are_read_only_in_the_admin(cds_client, ec_key, crd_world, staff_client):
    """Staff can read a recorded answer in the admin but not change, add or delete one."""
    bearer(token(ec_key, SIGN)).post(SIGN, hook_body("order-sign", [service_request("sr1", "93590")]), format="json")
    record = CoverageAssertion.objects.get()
    page = staff_client.get(f"/admin/briefs/coverageassertion/{record.pk}/change/")
    assert page.status_code == 200
    assert str(record.assertion_id) in page.content.decode()
    assert "Symptomatic paravalvular leak" in page.content.decode()
    assert b'name="_save"' not in page.content
    assert staff_client.get("/admin/briefs/coverageassertion/add/").status_code == 403
    assert staff_client.post(f"/admin/briefs/coverageassertion/{record.pk}/delete/").status_code == 403
    assert staff_client.get("/admin/briefs/cdsclient/").status_code == 200
    assert staff_client.get("/admin/briefs/payeridentifier/").status_code == 200
