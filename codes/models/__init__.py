"""The code catalogue: billing codes, their curated briefs, modifiers, places of service and
ICD-10-CM diagnosis codes. Knows nothing of payers.

One module per family of models; they are all importable from here."""

from codes.models.billing_codes import BillingCode, CodeBrief, CodeCategory, CodeRelationship
from codes.models.diagnoses import CodeDiagnosis, DiagnosisCode
from codes.models.modifiers import Modifier, ModifierGuidance
from codes.models.places_of_service import PlaceOfService, SiteOfService
from codes.models.releases import CodeSetRelease

__all__ = [
    "CodeSetRelease",
    "CodeCategory",
    "BillingCode",
    "CodeBrief",
    "CodeRelationship",
    "Modifier",
    "ModifierGuidance",
    "PlaceOfService",
    "SiteOfService",
    "DiagnosisCode",
    "CodeDiagnosis",
]
