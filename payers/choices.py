"""Vocabularies of payer coverage, with the HL7 Da Vinci CRD values they map to."""

from django.db import models


class CodeScope(models.TextChoices):
    """Which codes a code list shows: the ones readers have something to read about, or the whole catalogue."""

    WITH_CONTENT = "with_content", "Codes with a published brief or coverage"
    ALL = "all", "All codes in the catalogue"


class PayerKind(models.TextChoices):
    COMMERCIAL = "commercial", "Commercial"
    MEDICARE = "medicare", "Medicare"
    MEDICARE_CONTRACTOR = "mac", "Medicare Administrative Contractor"
    MEDICAID = "medicaid", "Medicaid"
    BCBS = "bcbs", "Blue Cross Blue Shield plan or association"
    OTHER = "other", "Other"


class PolicyDocumentType(models.TextChoices):
    POLICY = "policy", "Medical / coverage policy"
    LCD = "lcd", "Local Coverage Determination (LCD)"
    ARTICLE = "article", "Billing and coding article"
    NCD = "ncd", "National Coverage Determination (NCD)"
    PA_LIST = "pa_list", "Prior-authorization list"
    OTHER = "other", "Other"


class CoverageStatus(models.TextChoices):
    COVERED = "covered", "Covered"
    COVERED_WITH_CRITERIA = "covered_with_criteria", "Covered with criteria"
    NOT_COVERED = "not_covered", "Not covered / investigational"
    NO_POLICY = "no_policy", "No published policy"
    UNKNOWN = "unknown", "Unknown"


# HL7 Da Vinci CRD coverage-information `covered` values.
CRD_COVERED = {
    CoverageStatus.COVERED: "covered",
    CoverageStatus.COVERED_WITH_CRITERIA: "conditional",
    CoverageStatus.NOT_COVERED: "not-covered",
    CoverageStatus.NO_POLICY: "indeterminate",
    CoverageStatus.UNKNOWN: "indeterminate",
}


class PriorAuth(models.TextChoices):
    REQUIRED = "required", "Required"
    NOT_REQUIRED = "not_required", "Not required"
    VARIES = "varies", "Varies by plan or diagnosis"
    UNKNOWN = "unknown", "Unknown"


CRD_PA_NEEDED = {
    PriorAuth.REQUIRED: "auth-needed",
    PriorAuth.NOT_REQUIRED: "no-auth",
    PriorAuth.VARIES: "conditional",
    PriorAuth.UNKNOWN: "indeterminate",
}


class DocumentationKind(models.TextChoices):
    IMAGING = "imaging", "Imaging (e.g. TEE or echocardiography report)"
    PROCEDURE_REPORT = "procedure_report", "Operative / procedure report"
    DEVICE_RECORD = "device_record", "Device or implant record"
    MEDICAL_NECESSITY = "medical_necessity", "Medical necessity statement"
    RISK_ASSESSMENT = "risk_assessment", "Heart-team or surgical-risk assessment"
    PRIOR_TREATMENT = "prior_treatment", "Prior treatment history"
    PRIOR_AUTH_APPROVAL = "prior_auth_approval", "Prior authorization approval"
    OTHER = "other", "Other"


class RequirementLevel(models.TextChoices):
    REQUIRED = "required", "Required"
    RECOMMENDED = "recommended", "Recommended"


class DocumentationPurpose(models.TextChoices):
    """CRD doc-needed purposes."""

    WITH_PA = "withpa", "With prior authorization request"
    WITH_CLAIM = "withclaim", "With the claim"
    WITH_ORDER = "withorder", "With the order"
    RETAIN = "retain-doc", "Retain in the record"


class BenchmarkSetting(models.TextChoices):
    FACILITY = "facility", "Facility"
    NON_FACILITY = "non_facility", "Non-facility"
    ANY = "any", "Any setting"


class BenchmarkMetric(models.TextChoices):
    WORK_RVU = "work_rvu", "Work RVU"
    PE_RVU = "pe_rvu", "Practice expense RVU"
    MP_RVU = "mp_rvu", "Malpractice RVU"
    TOTAL_RVU = "total_rvu", "Total RVU"
    CONVERSION_FACTOR = "conversion_factor", "Conversion factor"
    PAYMENT_AMOUNT = "payment_amount", "National payment amount"
    ALLOWED_AMOUNT = "allowed_amount", "Allowed amount"
    ANNUAL_UTILIZATION = "annual_utilization", "Annual utilization"
    OTHER = "other", "Other"


class GapCategory(models.TextChoices):
    COVERAGE_CRITERIA = "coverage_criteria", "Payer coverage criteria"
    PRIOR_AUTH = "prior_auth", "Prior authorization"
    DOCUMENTATION = "documentation", "Documentation"
    DIAGNOSIS_CODING = "diagnosis_coding", "Diagnosis coding"
    SITE_OF_SERVICE = "site_of_service", "Site of service"
    BENCHMARK = "benchmark", "Reimbursement or utilization benchmark"
    MODIFIERS = "modifiers", "Modifiers"
    POLICY_REVIEW = "policy_review", "Policy past review date"
    OTHER = "other", "Other"


class GapStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    RESOLVED = "resolved", "Resolved"
    WONT_FIX = "wont_fix", "Won't fix"


OPEN_GAP_STATUSES = (GapStatus.OPEN, GapStatus.IN_PROGRESS)


class GapPriority(models.IntegerChoices):
    HIGH = 1, "High"
    MEDIUM = 2, "Medium"
    LOW = 3, "Low"
