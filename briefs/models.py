"""What the coverage check keeps: the record of every answer it gave, the CDS clients allowed to
ask it, and how their payer identifiers map to PolicyHub payers."""

import json
import uuid

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from briefs.choices import AssertionChannel
from payers.models import Payer
from policyhub.models import CuratedModel


class CdsClient(CuratedModel):
    """An EHR or other system allowed to call PolicyHub's CDS Hooks services.

    It signs each request with its private key (a JWT, as CDS Hooks requires); PolicyHub verifies the
    signature with the public keys registered here, as a JWK Set or as a PEM public key.
    """

    name = models.CharField(max_length=200, help_text="Who runs the client, e.g. 'Mercy Hospital EHR (Epic)'.")
    issuer = models.CharField(
        max_length=500,
        unique=True,
        help_text="The `iss` claim of the client's JWTs, exactly as it sends it (usually its base URL).",
    )
    jwks = models.JSONField(
        "JWK Set",
        default=dict,
        blank=True,
        help_text='The client\'s public keys as a JSON Web Key Set: {"keys": [{"kty": ..., "kid": ...}]}.',
    )
    public_key_pem = models.TextField(
        "PEM public key",
        blank=True,
        help_text="Alternatively, one public key in PEM form (-----BEGIN PUBLIC KEY-----...).",
    )
    is_active = models.BooleanField(
        "active", default=True, help_text="Inactive clients are refused (401) without deleting their history."
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "CDS client"
        constraints = [
            models.CheckConstraint(
                condition=~Q(jwks={}) | ~Q(public_key_pem=""),
                name="cdsclient_has_key",
                violation_error_message="Register the client's public keys: a JWK Set or a PEM public key.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        if self.jwks:
            try:
                jwt.PyJWKSet.from_dict(self.jwks if isinstance(self.jwks, dict) else json.loads(self.jwks))
            except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
                errors["jwks"] = f"Not a usable JWK Set: {error}."
        if self.public_key_pem:
            try:
                load_pem_public_key(self.public_key_pem.strip().encode())
            except (ValueError, TypeError) as error:
                errors["public_key_pem"] = f"Not a PEM public key: {error}."
        if not self.jwks and not self.public_key_pem:
            errors["jwks"] = "Register the client's public keys: a JWK Set or a PEM public key."
        if errors:
            raise ValidationError(errors)


class PayerIdentifier(CuratedModel):
    """An identifier under which EHRs name a payer (FHIR `Coverage.payor`), mapped to a PolicyHub payer."""

    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="identifiers")
    system = models.CharField(
        max_length=255,
        blank=True,
        help_text="The identifier's namespace URI, e.g. a payer-id registry. Empty: matches the value in any system.",
    )
    value = models.CharField(max_length=100, help_text="The identifier, e.g. a clearinghouse payer id such as 60054.")
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["payer__name", "system", "value"]
        verbose_name = "payer identifier"
        constraints = [
            models.UniqueConstraint(
                fields=["system", "value"],
                name="payeridentifier_unique",
                violation_error_message="This identifier is already mapped to a payer.",
            ),
        ]
        indexes = [models.Index(fields=["value"], name="payeridentifier_value_idx")]

    def __str__(self):
        return f"{self.system or '(any system)'}|{self.value} → {self.payer}"


class CoverageAssertion(models.Model):
    """One answer of the coverage check, kept as given so a later claim dispute can show what PolicyHub
    said and why: the question, the answer, and the versions of the criteria it rested on.

    Append-only: nothing edits or deletes these rows (the admin shows them read-only).
    """

    assertion_id = models.UUIDField(
        "coverage assertion id", default=uuid.uuid4, unique=True, editable=False, help_text="The CRD trace id."
    )
    created_at = models.DateTimeField("answered at", auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=12, choices=AssertionChannel.choices)
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    service_date = models.DateField("date of service", null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The API token's user or the staff member who asked.",
    )
    cds_client = models.ForeignKey(
        CdsClient, on_delete=models.PROTECT, null=True, blank=True, related_name="assertions", verbose_name="CDS client"
    )
    jwt_id = models.CharField(
        "JWT id", max_length=255, blank=True, help_text="The `jti` of the CDS client's JWT; a second use is refused."
    )
    request = models.JSONField("question", help_text="The inputs as received.")
    response = models.JSONField("answer", help_text="The answer as sent.")
    criteria_versions = models.JSONField(
        default=list, blank=True, help_text="Each criterion the answer rested on: its id and version."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "coverage assertion"
        constraints = [
            models.UniqueConstraint(
                fields=["cds_client", "jwt_id"],
                condition=~Q(jwt_id=""),
                name="coverageassertion_jwt_once",
                violation_error_message="This JWT was already used.",
            ),
        ]

    def __str__(self):
        return f"{self.assertion_id} ({self.get_channel_display()}, {self.created_at:%Y-%m-%d %H:%M})"
