"""Vocabularies of the code catalogue."""

from django.db import models


class CodeSystem(models.TextChoices):
    CPT = "CPT", "CPT (HCPCS Level I)"
    HCPCS = "HCPCS", "HCPCS Level II"


class CodeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    TERMINATED = "terminated", "Terminated"


class RelationshipKind(models.TextChoices):
    ADD_ON_TO = "add_on_to", "Add-on to primary"
    REPLACED_BY = "replaced_by", "Replaced by"
    SEE_ALSO = "see_also", "See also"


class ModifierLevel(models.TextChoices):
    CPT = "CPT", "CPT (Level I)"
    HCPCS = "HCPCS", "HCPCS Level II"


class SettingType(models.TextChoices):
    FACILITY = "facility", "Facility"
    NON_FACILITY = "non_facility", "Non-facility"


class ReleaseKind(models.TextChoices):
    HCPCS = "hcpcs", "HCPCS Level II (CMS alpha-numeric file)"
    ICD10CM = "icd10cm", "ICD-10-CM"
    POS = "pos", "Place of service"
    RVU = "rvu", "Medicare PFS RVU file"
    MCD = "mcd", "Medicare Coverage Database"
