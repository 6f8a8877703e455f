"""Billing codes (CPT and HCPCS Level II), the categories they are filed under, their curated
briefs and the links between codes."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, ProtectedError, Q
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.urls import reverse

from codes.choices import CodeStatus, CodeSystem, RelationshipKind
from codes.models.releases import CodeSetRelease
from policyhub.changelog import ChangeLogSpec
from policyhub.models import CuratedModel, ReviewedModel, TimeStampedModel, current_rows
from policyhub.representations import route_around


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

    def codes_filed_under(self):
        """The codes filed under this category: while there are any, it keeps its name and stays."""
        return BillingCode.objects.filter(category=self.name)


@receiver(pre_delete, sender=CodeCategory, dispatch_uid="codes.category_in_use")
def keep_a_category_in_use(sender, instance, **kwargs):
    """Codes store their category's name, so a category they use cannot go (a delete() or a queryset's).

    The database refuses the same on PostgreSQL (migration 0010); this also covers SQLite, whose
    delete trigger would break `flush`.
    """
    used_by = instance.codes_filed_under()
    if used_by.exists():
        raise ProtectedError(
            f"The code category “{instance.name}” cannot be deleted: billing codes are filed under it.",
            set(used_by[:20]),
        )


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
        return code_page_url(self.code)

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


class CodeRelationship(ReviewedModel):
    """A directed link between two codes, e.g. 93592 is an add-on to primary code 93590.

    Reviewed: part of the change set of its from-code (the code whose brief lists it first)."""

    from_code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="relationships_from")
    to_code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="relationships_to")
    kind = models.CharField(
        max_length=16,
        choices=RelationshipKind.choices,
        help_text="Read as: from-code <kind> to-code (93592 add-on to 93590).",
    )
    note = models.CharField(max_length=255, blank=True)

    change_log = ChangeLogSpec("codes", keys=("from_code__code", "to_code__code"), part=True)

    class Meta(ReviewedModel.Meta):
        ordering = ["from_code__code", "kind", "to_code__code"]
        constraints = [
            *ReviewedModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["from_code", "to_code", "kind"],
                condition=current_rows(),
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


# Billing codes are letters and digits, which a URL takes as they are.
_PLAIN_CODE = re.compile(r"[A-Za-z0-9]+")


def code_page_url(code: str) -> str:
    """The code's page: `reverse("codes:detail", args=[code])`, which lists and tables call for every
    row, by string formatting (`route_around`); a code needing quoting goes through reverse()."""
    if not _PLAIN_CODE.fullmatch(code):
        return reverse("codes:detail", args=[code])
    before, after = route_around("codes:detail", "code")
    return f"{before}{code}{after}"
