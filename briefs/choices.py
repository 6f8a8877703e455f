"""Vocabularies of the coverage check: the HL7 Da Vinci CRD coverage-information codes it answers in."""

from django.db import models


class Covered(models.TextChoices):
    COVERED = "covered", "Covered"
    NOT_COVERED = "not-covered", "Not covered"
    CONDITIONAL = "conditional", "Covered when conditions are met"
    INDETERMINATE = "indeterminate", "Cannot be decided from the curated data"


class PaNeeded(models.TextChoices):
    NO_AUTH = "no-auth", "No prior authorization"
    AUTH_NEEDED = "auth-needed", "Prior authorization needed"
    CONDITIONAL = "conditional", "Depends on plan or diagnosis"
    INDETERMINATE = "indeterminate", "Cannot be decided from the curated data"


class DocNeeded(models.TextChoices):
    CLINICAL = "clinical", "Clinical documentation"
    ADMIN = "admin", "Administrative documentation"
    PATIENT = "patient", "Patient-sourced information"
    CONDITIONAL = "conditional", "Conditional"
    INDETERMINATE = "indeterminate", "Cannot be decided from the curated data"


class InfoNeeded(models.TextChoices):
    PERFORMER = "performer", "Performer"
    LOCATION = "location", "Location"
    TIMEFRAME = "timeframe", "Timeframe"
    CONTRACT_WINDOW = "contract-window", "Contract window"
    DETAIL_CODE = "detail-code", "More detailed code"
    OTHER = "OTH", "Other (see the reasons)"


class AssertionChannel(models.TextChoices):
    """Where a coverage question came from."""

    REST = "rest", "REST API"
    CDS_HOOKS = "cds-hooks", "CDS Hooks"
    PAGE = "page", "Brief page"
