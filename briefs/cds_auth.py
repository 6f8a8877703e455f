"""How CDS clients prove who they are: the signed JWT of CDS Hooks 2.0 ("Trusting CDS Clients").

Each request carries `Authorization: Bearer <JWT>`, signed with the client's private key by an
asymmetric algorithm; its `iss` names a registered, active `CdsClient`, `aud` is the URL being called,
and `exp`, `iat` and `jti` are required. The signature is checked with PyJWT against the client's
registered JWK Set (by `kid`) or PEM key. A `jti` is accepted once (see `CoverageAssertion`).
"""

from dataclasses import dataclass

import jwt
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from briefs.models import CdsClient
from policyhub.raw_sql import Columns, fetch_models

# CDS Hooks forbids `none` and symmetric (HMAC) algorithms.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti"]
CLOCK_SKEW_SECONDS = 30
# Every column: the client is the audit record's `cds_client` and shown in the admin.
CLIENT = Columns.of(CdsClient, "cl", {f.name for f in CdsClient._meta.concrete_fields})


@dataclass(frozen=True)
class CdsCaller:
    """`request.auth` of a verified CDS Hooks call."""

    client: CdsClient
    jwt_id: str
    tenant: str


def endpoint_url(request) -> str:
    """The URL the client called, as its JWT's `aud` must name it.

    `CDS_HOOKS_BASE_URL` sets the public base when a proxy changes the host or scheme PolicyHub sees.
    """
    base = getattr(settings, "CDS_HOOKS_BASE_URL", "") or request.build_absolute_uri("/")
    return base.rstrip("/") + request.path


def verify_client_jwt(token: str, *, audience: str) -> tuple[CdsClient, dict]:
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthenticationFailed("The bearer token is not a JWT.") from None
    algorithm = header.get("alg")
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise AuthenticationFailed(
            f"JWT algorithm {algorithm!r} is refused; sign with an asymmetric one such as ES384 or RS384."
        )
    issuer = unverified.get("iss")
    client = _active_client(issuer) if isinstance(issuer, str) else None
    if client is None:
        raise AuthenticationFailed(f"No active CDS client is registered with issuer {issuer!r}.")
    key = _verification_key(client, header.get("kid"))
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=client.issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("The JWT has expired.") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationFailed(f"The JWT's aud must be {audience}.") from None
    except jwt.PyJWTError as error:
        raise AuthenticationFailed(f"The JWT was refused: {error}.") from None
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise AuthenticationFailed("The JWT's jti must be a non-empty string.")
    return client, claims


def _active_client(issuer: str) -> CdsClient | None:
    """The active client registered with `issuer` (unique), by hand-written SQL: on every call."""
    where = f"{CLIENT.col('issuer')} = %s AND {CLIENT.col('is_active')} = %s"
    return next(iter(fetch_models(CLIENT, where, [issuer, True])), None)


def _verification_key(client: CdsClient, kid: str | None):
    if client.jwks:
        try:
            keys = jwt.PyJWKSet.from_dict(client.jwks).keys
        except jwt.PyJWTError:
            raise AuthenticationFailed("The CDS client's registered JWK Set holds no usable key.") from None
        if kid is None and len(keys) == 1:
            return keys[0].key
        for jwk in keys:
            if jwk.key_id == kid:
                return jwk.key
        if not client.public_key_pem:
            raise AuthenticationFailed(f"No registered key of the CDS client has kid {kid!r}.")
    return client.public_key_pem


class CdsJwtAuthentication(BaseAuthentication):
    """`Authorization: Bearer <JWT>` signed by a registered CDS client."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the JWT as 'Authorization: Bearer <JWT>'.")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("The bearer token is not a JWT.") from None
        client, claims = verify_client_jwt(token, audience=endpoint_url(request))
        return AnonymousUser(), CdsCaller(client=client, jwt_id=claims["jti"], tenant=str(claims.get("tenant", "")))

    def authenticate_header(self, request):
        # Makes a call without a JWT answer 401 (with this challenge), not 403.
        return 'Bearer realm="cds-services"'


class IsCdsClient(BasePermission):
    """Only calls carrying a verified client JWT get through: no anonymous access."""

    def has_permission(self, request, view):
        return isinstance(request.auth, CdsCaller)
