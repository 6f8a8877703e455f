"""Coverage criteria (how a payer covers a code, and when) and the documentation a payer requires."""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import F, Q

from codes.models import BillingCode, DiagnosisCode
from payers.choices import (
    CRD_COVERED,
    CRD_PA_NEEDED,
    CoverageStatus,
    DocumentationKind,
    DocumentationPurpose,
    PriorAuth,
    RequirementLevel,
)
from payers.models.payers import Payer, PolicyDocument
from policyhub.changelog import ChangeLogSpec
from policyhub.choices import WorkflowState
from policyhub.models import ReviewedModel, ReviewedQuerySet, current_rows


class CoverageCriterionQuerySet(ReviewedQuerySet):
    """The effective-period rules of coverage, in one place for filters, selectors, gap rules and `clean()`.

    An empty start or end date is open-ended; both ends are days in force.
    """

    def in_force_on(self, day):
        """Criteria whose effective period includes `day`."""
        return self.filter(
            Q(effective_start__isnull=True) | Q(effective_start__lte=day),
            Q(effective_end__isnull=True) | Q(effective_end__gte=day),
        )

    def overlapping(self, start, end):
        """Criteria whose effective period shares a day with `start`..`end` (None: open-ended)."""
        queryset = self
        if end:
            queryset = queryset.filter(Q(effective_start__isnull=True) | Q(effective_start__lte=end))
        if start:
            queryset = queryset.filter(Q(effective_end__isnull=True) | Q(effective_end__gte=start))
        return queryset


class CoverageCriterion(ReviewedModel):
    """How one payer covers one code during an effective period, and where that is written.

    At most one current criterion per code and payer is in force on any date: the overlap is refused
    by `clean()` on every database and by an exclusion constraint on PostgreSQL.
    """

    code = models.ForeignKey(BillingCode, on_delete=models.PROTECT, related_name="coverage_criteria")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverage_criteria")
    coverage_status = models.CharField(
        max_length=24,
        choices=CoverageStatus.choices,
        default=CoverageStatus.UNKNOWN,
        db_index=True,
        help_text="'No published policy': the payer has none for this code. 'Unknown': not researched yet.",
    )
    prior_auth = models.CharField(
        "prior authorization", max_length=16, choices=PriorAuth.choices, default=PriorAuth.UNKNOWN, db_index=True
    )
    prior_auth_delegate = models.CharField(
        "prior authorization delegate",
        max_length=200,
        blank=True,
        help_text="Vendor that handles prior authorization for the payer, e.g. a cardiology benefit manager.",
    )
    criteria = models.TextField(
        "criteria", blank=True, help_text="The conditions under which the payer covers the code."
    )
    limitations = models.TextField(
        blank=True, help_text="What the policy excludes or limits: settings, frequency, device types."
    )
    diagnosis_codes = models.ManyToManyField(
        DiagnosisCode, blank=True, related_name="coverage_criteria", verbose_name="supporting diagnosis codes"
    )
    policy = models.ForeignKey(
        PolicyDocument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        # Cite the document itself, never a pending revision of it, nor a retired one.
        limit_choices_to=current_rows,
        related_name="coverage_criteria",
        verbose_name="source policy document",
    )
    effective_start = models.DateField(
        null=True, blank=True, db_index=True, help_text="Empty: in force since before records began."
    )
    effective_end = models.DateField(
        null=True, blank=True, db_index=True, help_text="Last day in force. Empty: open-ended."
    )
    last_verified = models.DateField(null=True, blank=True, help_text="When someone last checked the payer's source.")

    objects = CoverageCriterionQuerySet.as_manager()

    change_log = ChangeLogSpec("coverage-criteria", billing_code="code__code")

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "payer__name", "-effective_start"]
        verbose_name = "coverage criterion"
        verbose_name_plural = "coverage criteria"
        constraints = [
            *ReviewedModel.Meta.constraints,
            models.CheckConstraint(
                condition=Q(effective_end__isnull=True)
                | Q(effective_start__isnull=True)
                | Q(effective_end__gte=F("effective_start")),
                name="coveragecriterion_end_after_start",
                violation_error_message="The effective end date cannot be before the start date.",
            ),
        ]
        indexes = [
            models.Index(fields=["code", "payer"], name="coverage_code_payer_idx"),
            models.Index(fields=["updated_at", "id"], name="coverage_updated_idx"),
            # What readers see, per payer: the payer list counts it, the payer page lists it.
            models.Index(
                fields=["payer", "code"],
                condition=Q(state=WorkflowState.PUBLISHED, revision_of__isnull=True),
                name="coverage_published_payer_idx",
            ),
            # Whether a code has a published criterion in force on a day, answered from the index
            # alone (coverage matrix, code filters).
            models.Index(
                fields=["code", "effective_start", "effective_end"],
                condition=Q(state=WorkflowState.PUBLISHED, revision_of__isnull=True),
                name="coverage_published_code_idx",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} / {self.payer.name}: {self.get_coverage_status_display()}"

    @property
    def crd_covered(self):
        return CRD_COVERED[self.coverage_status]

    @property
    def crd_pa_needed(self):
        return CRD_PA_NEEDED[self.prior_auth]

    def period_overlaps(self, other) -> bool:
        """Whether the two effective periods share a day: `CoverageCriterionQuerySet.overlapping` for rows
        not saved yet (two criteria entered in one save)."""
        return (
            self.effective_end is None or other.effective_start is None or other.effective_start <= self.effective_end
        ) and (
            other.effective_end is None or self.effective_start is None or self.effective_start <= other.effective_end
        )

    def overlapping(self):
        """Other current criteria for the same code and payer whose periods overlap this one's."""
        qs = CoverageCriterion.objects.filter(
            code_id=self.code_id, payer_id=self.payer_id, revision_of__isnull=True
        ).exclude(state=WorkflowState.RETIRED)
        if self.pk:
            qs = qs.exclude(pk=self.pk)
        if self.revision_of_id:
            # A revision replaces its published row on approval, so it never stands beside it.
            qs = qs.exclude(pk=self.revision_of_id)
        return qs.overlapping(self.effective_start, self.effective_end)

    def clean(self):
        super().clean()
        errors = {}
        if self.effective_start and self.effective_end and self.effective_end < self.effective_start:
            errors["effective_end"] = "The effective end date cannot be before the start date."
        elif self.code_id and self.payer_id and self.state != WorkflowState.RETIRED:
            # Their newest first, as the model's ordering would give, without joining code and payer to sort.
            clash = self.overlapping().order_by("-effective_start", "pk").first()
            if clash:
                errors[NON_FIELD_ERRORS] = (
                    f"{self.payer.name} already has a criterion for {self.code.code} in force "
                    f"from {clash.effective_start or 'the beginning'} to {clash.effective_end or 'open end'}; "
                    "effective periods for the same code and payer cannot overlap."
                )
        if self.policy_id and self.payer_id and self.policy.payer_id != self.payer_id:
            errors["policy"] = "The source policy belongs to another payer."
        if errors:
            raise ValidationError(errors)


class DocumentationRequirement(ReviewedModel):
    """Documentation a payer (or every payer, when blank) expects for a code."""

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="documentation_requirements")
    payer = models.ForeignKey(
        Payer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="documentation_requirements",
        help_text="Empty: all payers.",
    )
    kind = models.CharField(max_length=24, choices=DocumentationKind.choices)
    text = models.TextField(help_text="What must be documented.")
    level = models.CharField(max_length=12, choices=RequirementLevel.choices, default=RequirementLevel.REQUIRED)
    purpose = models.CharField(
        max_length=12,
        choices=DocumentationPurpose.choices,
        blank=True,
        help_text="When the payer needs it (HL7 Da Vinci CRD doc-needed purpose).",
    )
    policy = models.ForeignKey(
        PolicyDocument,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        limit_choices_to=current_rows,
        related_name="documentation_requirements",
    )

    change_log = ChangeLogSpec("documentation-requirements", billing_code="code__code")

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "payer__name", "kind", "id"]

    def __str__(self):
        who = self.payer.name if self.payer_id else "All payers"
        return f"{self.code.code} / {who}: {self.get_kind_display()}"
