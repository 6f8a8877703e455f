"""ICD-10-CM diagnosis codes, and the diagnoses curated as associated with a billing code."""

from django.db import models
from django.db.models import Q

from codes.choices import CodeStatus
from codes.models.billing_codes import BillingCode
from codes.models.releases import CodeSetRelease
from policyhub.changelog import ChangeLogSpec
from policyhub.models import CuratedModel, ReviewedModel, current_rows


class DiagnosisCode(CuratedModel):
    """An ICD-10-CM code, stored without its dot (I2510) and shown with it (I25.10)."""

    code = models.CharField(max_length=7, unique=True)
    short_description = models.CharField(max_length=255, blank=True)
    description = models.TextField()
    # Not indexed: three codes in four are billable, so no filter on the flag would use an index.
    is_billable = models.BooleanField(
        "billable",
        default=True,
        help_text="Header rows (categories such as I25) are not billable; leaf codes are.",
    )
    order_number = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=CodeStatus.choices, default=CodeStatus.ACTIVE)
    termination_date = models.DateField(
        null=True, blank=True, help_text="Set when a release no longer lists the code: that release's effective date."
    )
    release = models.ForeignKey(CodeSetRelease, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    change_log = ChangeLogSpec("diagnosis-codes", keys=("code",), shown_in=("coverage_criteria",))

    class Meta:
        ordering = ["code"]
        verbose_name = "diagnosis code"
        # A plain index: db_index on a CharField adds a second, LIKE-pattern index on PostgreSQL,
        # and status is only ever matched exactly (terminated codes are the rare, wanted case).
        indexes = [
            models.Index(fields=["status"], name="diagnosiscode_status"),
            # The pickers look codes up by their beginning (LIKE 'I25%'); PostgreSQL's ordinary index
            # serves that only with the pattern operator class (SQLite ignores opclasses).
            models.Index(fields=["code"], name="diagnosiscode_code_prefix", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            # The second character is a digit in most codes, but FY2026 added letters (QA0...).
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z][0-9A-Z][0-9A-Z][0-9A-Z]{0,4}$"),
                name="diagnosiscode_format",
                violation_error_message="An ICD-10-CM code is 3 to 7 characters, stored without the dot.",
            ),
        ]

    def __str__(self):
        return f"{self.display_code} {self.description}"

    @staticmethod
    def normalise(code: str) -> str:
        return code.replace(".", "").strip().upper()

    @staticmethod
    def dotted(code: str) -> str:
        """'T82857A' as printed in the code set: 'T82.857A' (a dot after the category)."""
        return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code

    @property
    def display_code(self):
        return self.dotted(self.code)

    def clean_fields(self, exclude=None):
        # Normalise before the length check: 'T82.857A' typed with its dot is eight characters.
        if self.code:
            self.code = self.normalise(self.code)
        super().clean_fields(exclude=exclude)


class CodeDiagnosis(ReviewedModel):
    """An ICD-10-CM code associated with a billing code in the brief's diagnosis coding section.
    Reviewed: part of the code's change set."""

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="code_diagnoses")
    diagnosis = models.ForeignKey(DiagnosisCode, on_delete=models.PROTECT, related_name="code_links")
    note = models.CharField(max_length=255, blank=True)

    change_log = ChangeLogSpec("codes", keys=("code__code",), part=True, billing_code="code__code")

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "diagnosis__code"]
        verbose_name = "associated diagnosis"
        verbose_name_plural = "associated diagnoses"
        constraints = [
            *ReviewedModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["code", "diagnosis"],
                condition=current_rows(),
                name="codediagnosis_unique",
                violation_error_message="This diagnosis is already associated with the code.",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} ~ {self.diagnosis.display_code}"
