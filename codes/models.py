"""The code catalogue: billing codes, their curated briefs, modifiers, places of service and
ICD-10-CM diagnosis codes. Knows nothing of payers."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from codes.choices import (
    CodeStatus,
    CodeSystem,
    ModifierLevel,
    RelationshipKind,
    ReleaseKind,
    SettingType,
)
from policyhub.changelog import ChangeLogSpec
from policyhub.models import CuratedModel, ReviewedModel, TimeStampedModel


class CodeSetRelease(TimeStampedModel):
    """One official release loaded from a file (CMS HCPCS, ICD-10-CM, POS, RVU, MCD)."""

    kind = models.CharField(max_length=16, choices=ReleaseKind.choices, db_index=True)
    name = models.CharField(max_length=100, help_text="E.g. 'HCPCS 2019' or 'ICD-10-CM FY2026'.")
    effective_date = models.DateField(null=True, blank=True)
    source_file = models.CharField(max_length=500, blank=True)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the source file.")
    counts = models.JSONField(
        default=dict,
        blank=True,
        help_text="Created / updated / unchanged / terminated / rejected rows of the import.",
    )
    changes = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the import created, changed and terminated: per kind of row, its model and the "
        "keys of up to 1,000 rows per outcome.",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "code-set release"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "checksum"], name="release_unique_kind_checksum", condition=~Q(checksum="")
            ),
        ]

    def __str__(self):
        return self.name


class CodeCategory(TimeStampedModel):
    """A category codes are filed under (filters, briefs, the coverage matrix).

    A controlled list curators manage in the admin, so a typo in a code's category cannot become a
    new filter value: a code's category must be one of these names.
    """

    name = models.CharField(
        max_length=120, unique=True, help_text="As readers see it, e.g. 'Cardiovascular / structural heart'."
    )
    description = models.TextField(blank=True, help_text="Which codes belong here, for curators who hesitate.")

    class Meta:
        ordering = ["name"]
        verbose_name = "code category"
        verbose_name_plural = "code categories"

    def __str__(self):
        return self.name


class BillingCode(CuratedModel):
    """A CPT or HCPCS Level II code as catalogued: descriptors, status and fee-schedule flags."""

    system = models.CharField("code system", max_length=8, choices=CodeSystem.choices, db_index=True)
    code = models.CharField(
        max_length=5,
        help_text="Five characters: CPT '93590' or '0001F'; HCPCS Level II a letter and four digits.",
    )
    short_descriptor = models.CharField(max_length=255)
    long_descriptor = models.TextField(
        "full descriptor",
        blank=True,
        help_text="For CPT, the text the curators entered (AMA descriptors are not bulk-loaded).",
    )
    category = models.CharField(
        max_length=120,
        blank=True,
        db_index=True,
        help_text="Grouping used for filters, from the code categories list (add a new one there first).",
    )
    is_add_on = models.BooleanField(
        "add-on code",
        default=False,
        db_index=True,
        help_text="Never reported alone; it goes with a primary code (fee schedule global days ZZZ).",
    )
    status = models.CharField(max_length=12, choices=CodeStatus.choices, default=CodeStatus.ACTIVE, db_index=True)
    effective_date = models.DateField(null=True, blank=True)
    termination_date = models.DateField(null=True, blank=True)
    add_date = models.DateField(null=True, blank=True, help_text="When CMS first added the code.")
    action_code = models.CharField(
        max_length=1,
        blank=True,
        help_text="CMS action code of the latest release (A add, C change, D discontinue, N no change...).",
    )
    # Not `effective_date`: CMS dates a discontinuation the day after the termination date, which
    # would break the termination-after-effective invariant.
    action_effective_date = models.DateField(
        null=True, blank=True, help_text="When the CMS action (add, change, discontinue...) took effect."
    )
    coverage_code = models.CharField("CMS coverage code", max_length=2, blank=True)
    type_of_service = models.CharField("CMS type of service", max_length=8, blank=True)
    global_days = models.CharField(
        max_length=3, blank=True, help_text="Medicare fee schedule global period: 000, 010, 090, XXX, YYY, ZZZ, MMM."
    )
    mult_proc = models.CharField("multiple procedure indicator", max_length=1, blank=True)
    bilat_surg = models.CharField("bilateral surgery indicator", max_length=1, blank=True)
    asst_surg = models.CharField("assistant surgeon indicator", max_length=1, blank=True)
    co_surg = models.CharField("co-surgeon indicator", max_length=1, blank=True)
    team_surg = models.CharField("team surgeon indicator", max_length=1, blank=True)
    release = models.ForeignKey(
        CodeSetRelease,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The release this row was last loaded from.",
    )
    diagnosis_codes = models.ManyToManyField(
        "DiagnosisCode",
        through="CodeDiagnosis",
        related_name="billing_codes",
        blank=True,
    )

    change_log = ChangeLogSpec(
        "codes",
        keys=("code",),
        billing_code="code",
        # Payer-side rows that show the code's summary (reverse relations named by the payers app).
        shown_in=("coverage_criteria", "documentation_requirements", "benchmarks", "gaps"),
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "code"],
                name="billingcode_unique_system_code",
                violation_error_message="This code already exists in that code system.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(system=CodeSystem.CPT, code__regex=r"^[0-9]{4}[0-9FTU]$")
                    | Q(system=CodeSystem.HCPCS, code__regex=r"^[A-Z][0-9]{4}$")
                ),
                name="billingcode_code_format",
                violation_error_message=(
                    "A CPT code is four digits and a digit, F, T or U; "
                    "a HCPCS Level II code is a capital letter and four digits."
                ),
            ),
            models.CheckConstraint(
                condition=Q(termination_date__isnull=True)
                | Q(effective_date__isnull=True)
                | Q(termination_date__gte=F("effective_date")),
                name="billingcode_termination_after_effective",
                violation_error_message="The termination date cannot be before the effective date.",
            ),
        ]
        indexes = [models.Index(fields=["code"], name="billingcode_code_idx")]

    def __str__(self):
        return f"{self.code} {self.short_descriptor}"

    def get_absolute_url(self):
        return reverse("codes:detail", args=[self.code])

    def clean(self):
        if self.code:
            self.code = self.code.strip().upper()
        if self.category and not CodeCategory.objects.filter(name=self.category).exists():
            raise ValidationError(
                {"category": f"“{self.category}” is not a code category; pick one from the list or add it there first."}
            )

    @property
    def blank_descriptor_reason(self) -> str:
        """Why a code shows no descriptor: CPT text is AMA-licensed and never bulk-loaded; HCPCS text comes from CMS."""
        if self.short_descriptor:
            return ""
        if self.system == CodeSystem.CPT:
            return "Descriptor licensed by the AMA: not stored"
        return "No descriptor in the loaded HCPCS release"


class CodeBrief(ReviewedModel):
    """The curated publication text of a code: what the seed briefs print around the catalogue facts.

    Reviewed: a draft revision of a published brief waits in `revision_of` until approved.
    """

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="briefs")
    title = models.CharField(
        max_length=255,
        blank=True,
        help_text="The brief's title line, e.g. 'Percutaneous Mitral Valve Occlusion, First Device'.",
    )
    headline = models.CharField(max_length=255, blank=True)
    lead = models.TextField(blank=True)
    significance = models.TextField("what the code represents and why it matters", blank=True)
    key_payers_summary = models.TextField("key payers covered", blank=True)
    reader_takeaways = models.TextField("what readers will learn", blank=True)
    audience_note = models.TextField(
        "audience and use",
        blank=True,
        help_text="Who the brief is for and how it helps them (free text from the publication).",
    )
    service_type = models.CharField(max_length=255, blank=True)
    site_of_service_summary = models.TextField(
        "typical site of service",
        blank=True,
        help_text="The sentence the brief prints; the structured sites are listed below it.",
    )
    clinical_context = models.TextField(
        blank=True,
        help_text="A clinical vignette: who the patient is and how the procedure is done.",
    )

    change_log = ChangeLogSpec("codes", keys=("code__code",), part=True, billing_code="code__code")

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "-updated_at"]
        constraints = [
            *ReviewedModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(revision_of__isnull=True),
                name="codebrief_one_per_code",
                violation_error_message="This code already has a brief; edit it to create a revision.",
            ),
        ]

    def __str__(self):
        return f"Brief for {self.code.code}" + (" (revision)" if self.revision_of_id else "")


class CodeRelationship(CuratedModel):
    """A directed link between two codes, e.g. 93592 is an add-on to primary code 93590."""

    from_code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="relationships_from")
    to_code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="relationships_to")
    kind = models.CharField(
        max_length=16,
        choices=RelationshipKind.choices,
        help_text="Read as: from-code <kind> to-code (93592 add-on to 93590).",
    )
    note = models.CharField(max_length=255, blank=True)

    change_log = ChangeLogSpec("codes", keys=("from_code__code", "to_code__code"), part=True)

    class Meta:
        ordering = ["from_code__code", "kind", "to_code__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_code", "to_code", "kind"],
                name="coderelationship_unique",
                violation_error_message="This relationship already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(from_code=F("to_code")),
                name="coderelationship_not_self",
                violation_error_message="A code cannot be related to itself.",
            ),
        ]

    def __str__(self):
        return f"{self.from_code.code} {self.get_kind_display().lower()} {self.to_code.code}"


class Modifier(CuratedModel):
    """A two-character CPT or HCPCS Level II modifier."""

    code = models.CharField(max_length=2, unique=True)
    description = models.CharField(max_length=255)
    long_description = models.TextField(blank=True)
    level = models.CharField(max_length=8, choices=ModifierLevel.choices, default=ModifierLevel.HCPCS)
    status = models.CharField(max_length=12, choices=CodeStatus.choices, default=CodeStatus.ACTIVE, db_index=True)
    effective_date = models.DateField(null=True, blank=True)
    termination_date = models.DateField(null=True, blank=True)
    action_code = models.CharField(max_length=1, blank=True)
    action_effective_date = models.DateField(
        null=True, blank=True, help_text="When the CMS action (add, change, discontinue...) took effect."
    )
    release = models.ForeignKey(CodeSetRelease, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    change_log = ChangeLogSpec("modifiers", keys=("code",))

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9]{2}$"),
                name="modifier_code_format",
                violation_error_message="A modifier is two capital letters or digits.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.description}"


class ModifierGuidance(CuratedModel):
    """When to report a modifier with a code.

    A row with no modifier is the "no modifier" guidance (the briefs print it as "00"): it says when
    the code is reported bare. Keeping it as a row without inventing a fake "00" modifier lets the
    table keep its order and wording while the modifier catalogue stays true to CMS.
    """

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="modifier_guidance")
    modifier = models.ForeignKey(
        Modifier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guidance",
        help_text="Leave empty for the 'no modifier' row.",
    )
    when_to_use = models.TextField(blank=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    NO_MODIFIER_LABEL = "00"
    NO_MODIFIER_DESCRIPTION = "No modifier"

    change_log = ChangeLogSpec("codes", keys=("code__code",), part=True, billing_code="code__code")

    class Meta:
        ordering = ["code__code", "display_order", "id"]
        verbose_name = "modifier guidance"
        verbose_name_plural = "modifier guidance"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "modifier"],
                name="modifierguidance_unique",
                violation_error_message="This modifier already has guidance for the code.",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(modifier__isnull=True),
                name="modifierguidance_one_no_modifier",
                violation_error_message="The code already has a 'no modifier' row.",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} / {self.modifier_label}"

    @property
    def modifier_label(self):
        return self.modifier.code if self.modifier_id else self.NO_MODIFIER_LABEL

    @property
    def modifier_description(self):
        return self.modifier.description if self.modifier_id else self.NO_MODIFIER_DESCRIPTION


class PlaceOfService(CuratedModel):
    """A CMS place-of-service code (two digits)."""

    code = models.CharField(max_length=2, unique=True)
    name = models.CharField(max_length=255)
    setting = models.CharField(
        max_length=16,
        choices=SettingType.choices,
        help_text="Whether Medicare pays the facility or non-facility rate here.",
    )
    description = models.TextField(blank=True)

    change_log = ChangeLogSpec("places-of-service", keys=("code",))

    class Meta:
        ordering = ["code"]
        verbose_name = "place of service"
        verbose_name_plural = "places of service"
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{2}$"),
                name="pos_code_format",
                violation_error_message="A place-of-service code is two digits.",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class SiteOfService(CuratedModel):
    """Where a code is typically performed."""

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="sites_of_service")
    place_of_service = models.ForeignKey(PlaceOfService, on_delete=models.PROTECT, related_name="sites")
    setting_note = models.CharField(
        max_length=255, blank=True, help_text="E.g. 'catheterization laboratory or hybrid operating room'."
    )
    is_typical = models.BooleanField("typical", default=True)

    change_log = ChangeLogSpec("codes", keys=("code__code",), part=True, billing_code="code__code")

    class Meta:
        ordering = ["code__code", "place_of_service__code"]
        verbose_name = "site of service"
        verbose_name_plural = "sites of service"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "place_of_service"],
                name="siteofservice_unique",
                violation_error_message="This place of service is already listed for the code.",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} at {self.place_of_service}"


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

    @property
    def display_code(self):
        return f"{self.code[:3]}.{self.code[3:]}" if len(self.code) > 3 else self.code

    def clean_fields(self, exclude=None):
        # Normalise before the length check: 'T82.857A' typed with its dot is eight characters.
        if self.code:
            self.code = self.normalise(self.code)
        super().clean_fields(exclude=exclude)


class CodeDiagnosis(CuratedModel):
    """An ICD-10-CM code associated with a billing code in the brief's diagnosis coding section."""

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="code_diagnoses")
    diagnosis = models.ForeignKey(DiagnosisCode, on_delete=models.PROTECT, related_name="code_links")
    note = models.CharField(max_length=255, blank=True)

    change_log = ChangeLogSpec("codes", keys=("code__code",), part=True, billing_code="code__code")

    class Meta:
        ordering = ["code__code", "diagnosis__code"]
        verbose_name = "associated diagnosis"
        verbose_name_plural = "associated diagnoses"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "diagnosis"],
                name="codediagnosis_unique",
                violation_error_message="This diagnosis is already associated with the code.",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} ~ {self.diagnosis.display_code}"
