"""What a CDS client sends, for the CDS Hooks tests: a signed client JWT, and hook requests carrying
orders and the patient's Coverage (prefetch)."""

import time
import uuid

import jwt
from rest_framework.test import APIClient

from briefs.cds_hooks import CPT_SYSTEM, ICD10CM_SYSTEM, POS_SYSTEM

BASE = "http://testserver"
ISSUER = "https://ehr.example.org/"
SIGN = "/cds-services/policyhub-crd-order-sign"
PAYER_SYSTEM = "http://example.org/payer-ids"


def token(key, path, *, issuer=ISSUER, algorithm="ES384", kid="ehr-1", **claims) -> str:
    now = int(time.time())
    payload = {"iss": issuer, "aud": BASE + path, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), **claims}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    return client


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
