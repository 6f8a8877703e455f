"""CDS Hooks 2.0 / Da Vinci CRD: who may call. Discovery, the client JWT (every way it can be wrong), and
registering a client's key. The services and their answers: test_cds_hooks.py."""

import time

import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from rest_framework.test import APIClient

from briefs.models import CdsClient, CoverageAssertion
from tests.api.cds_requests import BASE, ISSUER, SIGN, bearer, hook_body, service_request, token

pytestmark = pytest.mark.django_db

# The CDS Hooks 2.0 Discovery shape, written from the specification's table.
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
def test_invalid_jwt_answers_401(cds_client, ec_key, crd_world, case, message):
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


def test_inactive_client_is_refused(cds_client, ec_key, crd_world):
    cds_client.is_active = False
    cds_client.save()
    response = bearer(token(ec_key, SIGN)).post(SIGN, hook_body("order-sign", []), format="json")
    assert response.status_code == 401


def test_a_jwt_is_accepted_once(cds_client, ec_key, crd_world):
    """Replaying a JWT (same jti) is refused."""
    client = bearer(token(ec_key, SIGN))
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    assert client.post(SIGN, body, format="json").status_code == 200
    replay = client.post(SIGN, body, format="json")
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]


def test_pem_registered_client(crd_world):
    """A client registered with a PEM public key (RS384) is verified with it."""
    key = _rsa()
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    CdsClient.objects.create(name="PEM EHR", issuer=ISSUER, public_key_pem=pem.decode())
    body = hook_body("order-sign", [service_request("sr1", "93590")])
    assert bearer(token(key, SIGN, algorithm="RS384")).post(SIGN, body, format="json").status_code == 200


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
