"""CDS Hooks 2.0 / Da Vinci CRD: discovery, the three services, the client JWT, and the shapes of
what comes back (CDS Hooks JSON Schema below, FHIR R4B models for the updated orders)."""

import datetime as dt
import json
import time
import uuid

import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.servicerequest import ServiceRequest
from rest_framework.test import APIClient

from briefs.cds_hooks import COVERAGE_INFORMATION, CPT_SYSTEM, ICD10CM_SYSTEM, POS_SYSTEM
from briefs.models import CdsClient, CoverageAssertion, PayerIdentifier
from codes.choices import RelationshipKind
from payers.choices import CoverageStatus, PriorAuth
from tests.factories import (
    BillingCodeFactory,
    CodeRelationshipFactory,
    CoverageCriterionFactory,
    DiagnosisCodeFactory,
    PayerFactory,
    PlaceOfServiceFactory,
    PolicyDocumentFactory,
)

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
ISSUER = "https://ehr.example.org/"
SIGN = "/cds-services/policyhub-crd-order-sign"
PAYER_SYSTEM = "http://example.org/payer-ids"

# CDS Hooks 2.0 shapes, written from the specification's tables (Discovery, CDS Service Response, Card,
# Source, Suggestion, Action, Link).
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
DISCOVERY_SCHEMA = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["hook", "description", "id"],
                "properties": {
                    "hook": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                    "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
                    "usageRequirements": {"type": "string"},
                },
            },
        }
    },
}


@pytest.fixture
def ec_key():
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def cds_client(ec_key):
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    return CdsClient.objects.create(
        name="Example EHR", issuer=ISSUER, jwks={"keys": [{**public, "kid": "ehr-1", "alg": "ES384", "use": "sig"}]}
    )


def token(key, path, *, issuer=ISSUER, algorithm="ES384", kid="ehr-1", **claims) -> str:
    now = int(time.time())
    payload = {"iss": issuer, "aud": BASE + path, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), **claims}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    return client


@pytest.fixture
def world(db):
    payer = PayerFactory(name="Acme Health", slug="acme")
    PayerIdentifier.objects.create(payer=payer, system=PAYER_SYSTEM, value="60054")
    mitral = BillingCodeFactory(code="93590", short_descriptor="Mitral leak closure")
    addon = BillingCodeFactory(code="93592", short_descriptor="Additional device", is_add_on=True)
    CodeRelationshipFactory(from_code=addon, to_code=mitral, kind=RelationshipKind.ADD_ON_TO)
    DiagnosisCodeFactory(code="I340", description="Nonrheumatic mitral (valve) insufficiency")
    PlaceOfServiceFactory(code="22", name="On Campus-Outpatient Hospital")
    policy = PolicyDocumentFactory(payer=payer, number="CPB 0826", title="PVL closure", url="https://example.org/cpb")
    CoverageCriterionFactory(
        code=mitral,
        payer=payer,
        coverage_status=CoverageStatus.COVERED_WITH_CRITERIA,
        prior_auth=PriorAuth.REQUIRED,
        criteria="Symptomatic paravalvular leak",
        policy=policy,
    )
    return payer


def service_request(id_, code, *, reason="I34.0", day="2026-03-02"):
    resource = {
        "resourceType": "ServiceRequest",
        "id": id_,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": CPT_SYSTEM, "code": code}]},
        "occurrenceDateTime": day,
        "locationCode": [{"coding": [{"system": POS_SYSTEM, "code": "22"}]}],
    }
    if reason:
        resource["reasonCode"] = [{"coding": [{"system": ICD10CM_SYSTEM, "code": reason}]}]
    return resource


def coverage(payor_value="60054"):
    return {
        "resourceType": "Coverage",
        "id": "cov1",
        "status": "active",
        "beneficiary": {"reference": "Patient/p1"},
        "payor": [{"reference": "#org"}],
        "contained": [
            {
                "resourceType": "Organization",
                "id": "org",
                "identifier": [{"system": PAYER_SYSTEM, "value": payor_value}],
            }
        ],
    }


def hook_body(hook, orders, *, key="draftOrders", payor_value="60054", **context):
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/u1",
            "patientId": "p1",
            key: {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": o} for o in orders]},
            **context,
        },
        "prefetch": {"coverage": {"resourceType": "Bundle", "entry": [{"resource": coverage(payor_value)}]}},
    }


def coverage_info(resource: dict) -> dict:
    """The CRD extension's parts as {url: [values]}."""
    (extension,) = [e for e in resource["extension"] if e["url"] == COVERAGE_INFORMATION]
    parts = {}
    for part in extension["extension"]:
        value = next((v for k, v in part.items() if k.startswith("value")), part.get("extension"))
        parts.setdefault(part["url"], []).append(value)
    return parts


# --- Discovery ------------------------------------------------------------------------------------


def test_discovery_lists_the_three_crd_services(cds_client, ec_key):
    """Discovery answers the CDS Hooks shape, one service per hook, each asking for the Coverage."""
    response = bearer(token(ec_key, "/cds-services")).get("/cds-services")
    assert response.status_code == 200
    jsonschema.validate(response.json(), DISCOVERY_SCHEMA)
    services = response.json()["services"]
    assert {s["hook"] for s in services} == {"order-select", "order-sign", "appointment-book"}
    assert all("coverage" in s["prefetch"] for s in services)


@pytest.mark.parametrize("path", ["/cds-services", SIGN])
def test_no_anonymous_access(db, path):
    """Without a JWT both discovery and the services answer 401 with a Bearer challenge."""
    client = APIClient()
    response = client.get(path) if path == "/cds-services" else client.post(path, {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- The client JWT -------------------------------------------------------------------------------------


def _rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "expired"),
        ("wrong audience", "aud must be http://testserver/cds-services/policyhub-crd-order-sign"),
        ("unknown issuer", "No active CDS client"),
        ("other key", "refused"),
        ("unknown kid", "kid"),
        ("hmac", "asymmetric"),
        ("no jti", "jti"),
        ("garbage", "not a JWT"),
    ],
)
def test_invalid_jwt_answers_401(cds_client, ec_key, world, case, message):
    """Every way a JWT can be wrong answers 401, saying why, and nothing is recorded."""
    now = int(time.time())
    value = {
        "expired": lambda: token(ec_key, SIGN, iat=now - 900, exp=now - 600),
        "wrong audience": lambda: token(ec_key, "/cds-services/other"),
        "unknown issuer": lambda: token(ec_key, SIGN, issuer="https://stranger.example.org/"),
        "other key": lambda: token(ec.generate_private_key(ec.SECP384R1()), SIGN),
        "unknown kid": lambda: token(ec_key, SIGN, kid="nope"),
        "hmac": lambda: token("a-shared-secret-of-32-bytes-long!", SIGN, algorithm="HS256"),
        "no jti": lambda: jwt.encode(
            {"iss": ISSUER, "aud": BASE + SIGN, "iat": now, "exp": now + 60}, ec_key, "ES384", headers={"kid": "ehr-1"}
        ),
        "garbage": lambda: "not.a.jwt",
    }[case]()
    response = bearer(value).post(SIGN, hook_body("order-sign", [service_request("sr1", "93590")]), format="json")
    assert response.status_code == 401
    assert message in response.json()["detail"]
    assert not CoverageAssertion.objects.exists()


def test_inactive_client_is_refused(cds_client, ec_key, world):
    cds_client.is_active = False
    cds_client.save()
    response = bearer(token(ec_key, SIGN)).post(SIGN, hook_body("order-sign", []), format="json")
    assert response.status_code == 401


def test_a_jwt_is_accepted_once(cds_client, ec_key, world):
    """Replaying a JWT (same jti) is refused."""
    client = bearer(token(ec_key, SIGN))
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    assert client.post(SIGN, body, format="json").status_code == 200
    replay = client.post(SIGN, body, format="json")
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]


def test_pem_registered_client(world):
    """A client registered with a PEM public key (RS384) is verified with it."""
    key = _rsa()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    CdsClient.objects.create(name="PEM EHR", issuer=ISSUER, public_key_pem=pem.decode())
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    assert bearer(token(key, SIGN, algorithm="RS384")).post(SIGN, body, format="json").status_code == 200


# --- The services ------------------------------------------------------------------------------------


def test_order_sign_answers_cards_and_coverage_information(cds_client, ec_key, world):
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
        world,
        dt.date(2026, 3, 2),
    )
    assert record.request["orders"][0]["id"] == "sr1"


def test_order_select_judges_only_the_selection(cds_client, ec_key, world):
    path = "/cds-services/policyhub-crd-order-select"
    orders = [service_request("sr1", "93590"), service_request("sr2", "93590")]
    body = hook_body("order-select", orders, selections=["ServiceRequest/sr2"])
    response = bearer(token(ec_key, path)).post(path, body, format="json")
    assert response.status_code == 200
    assert [a["resource"]["id"] for a in response.json()["systemActions"]] == ["sr2"]


def test_appointment_book_updates_the_appointment(cds_client, ec_key, world):
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


def test_unmapped_payer_gets_a_card_and_no_update(cds_client, ec_key, world):
    body = hook_body("order-sign", [service_request("sr1", "93590")], payor_value="99999")
    response = bearer(token(ec_key, SIGN)).post(SIGN, body, format="json")
    assert response.status_code == 200
    answer = response.json()
    jsonschema.validate(answer, RESPONSE_SCHEMA)
    assert "systemActions" not in answer
    assert "does not know this coverage's payer" in answer["cards"][0]["summary"]
    assert "99999" in answer["cards"][0]["detail"]


def test_unknown_code_is_reported_and_the_rest_judged(cds_client, ec_key, world):
    orders = [service_request("sr1", "99999"), service_request("sr2", "93590")]
    response = bearer(token(ec_key, SIGN)).post(SIGN, hook_body("order-sign", orders), format="json")
    assert response.status_code == 200
    answer = response.json()
    assert [a["resource"]["id"] for a in answer["systemActions"]] == ["sr2"]
    assert any("no billing code 99999" in card["summary"] for card in answer["cards"])


def test_missing_coverage_answers_412(cds_client, ec_key, world):
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    body["prefetch"] = {}
    response = bearer(token(ec_key, SIGN)).post(SIGN, body, format="json")
    assert response.status_code == 412
    assert "prefetch.coverage" in response.json()["detail"]


def test_wrong_hook_or_service(cds_client, ec_key, world):
    response = bearer(token(ec_key, SIGN)).post(SIGN, hook_body("order-select", []), format="json")
    assert response.status_code == 400
    assert "hook" in response.json()["errors"]
    missing = "/cds-services/nope"
    assert bearer(token(ec_key, missing)).post(missing, {}, format="json").status_code == 404


def test_assertions_are_read_only_in_the_admin(cds_client, ec_key, world, staff_client):
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


def test_a_client_needs_a_usable_public_key(db):
    """Registering a client without a key, or with keys that do not parse, is refused."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    with pytest.raises(ValidationError) as refused:
        CdsClient(name="Bad", issuer="https://bad.example.org/", jwks={"keys": [{"kty": "EC"}]}).full_clean()
    assert "jwks" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        CdsClient(name="Bad", issuer="https://bad.example.org/", public_key_pem="not a key").full_clean()
    assert "public_key_pem" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        CdsClient.objects.create(name="Keyless", issuer="https://keyless.example.org/")
