"""Payers and everything payer-specific: policy documents, coverage criteria, documentation
requirements, benchmarks and follow-up gaps."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from codes.models import BillingCode, CodeSetRelease, DiagnosisCode
from payers.choices import (
    CRD_COVERED,
    CRD_PA_NEEDED,
    OPEN_GAP_STATUSES,
    BenchmarkMetric,
    BenchmarkSetting,
    CoverageStatus,
    DocumentationKind,
    DocumentationPurpose,
    GapCategory,
    GapPriority,
    GapStatus,
    PayerKind,
    PolicyDocumentType,
    PriorAuth,
    RequirementLevel,
)
from policyhub.changelog import ChangeLogSpec
from policyhub.choices import WorkflowState
from policyhub.models import CuratedModel, ReviewedModel, ReviewedQuerySet


class Payer(CuratedModel):
    """A health plan, government program or Medicare contractor whose policies are tracked."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=PayerKind.choices, db_index=True)
    is_national = models.BooleanField(
        "national", default=False, help_text="Covers members nationwide rather than in one state or region."
    )
    is_tracked = models.BooleanField(
        "tracked",
        default=True,
        db_index=True,
        help_text="Tracked payers are expected to have a coverage criterion for every active code "
        "with a brief; a missing one opens a follow-up gap.",
    )
    website = models.URLField(blank=True)

    change_log = ChangeLogSpec(
        "payers",
        keys=("slug",),
        shown_in=("policies", "coverage_criteria", "documentation_requirements", "benchmarks", "gaps"),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("payers:detail", args=[self.slug])


class PolicyDocument(CuratedModel):
    """A payer's policy document (medical policy, LCD, billing article): the citation behind criteria."""

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="policies")
    document_type = models.CharField(
        max_length=16, choices=PolicyDocumentType.choices, default=PolicyDocumentType.POLICY
    )
    number = models.CharField(
        "policy number",
        max_length=50,
        db_index=True,
        help_text="E.g. Aetna CPB 0826, Medicare LCD L36668 or Article A57345.",
    )
    # Not `version`: that name is CuratedModel's optimistic-lock counter.
    document_version = models.PositiveIntegerField(
        "document version",
        null=True,
        blank=True,
        help_text="The payer's own version number, where it numbers them (Medicare Coverage Database).",
    )
    title = models.CharField(max_length=500)
    url = models.URLField("URL", max_length=500, blank=True)
    original_effective_date = models.DateField(null=True, blank=True)
    effective_date = models.DateField("revision effective date", null=True, blank=True)
    last_reviewed = models.DateField("last reviewed", null=True, blank=True)
    next_review = models.DateField("next review", null=True, blank=True, db_index=True)
    retirement_date = models.DateField(null=True, blank=True)
    contractor = models.CharField(
        max_length=255, blank=True, help_text="For Medicare documents: the contractor and its jurisdiction type."
    )
    source_id = models.CharField(max_length=50, blank=True, help_text="The source system's id (MCD document id).")

    change_log = ChangeLogSpec("payer-policies", shown_in=("coverage_criteria", "documentation_requirements", "gaps"))

    class Meta:
        ordering = ["payer__name", "number", "-document_version"]
        verbose_name = "payer policy document"
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "number", "document_version"],
                name="policydocument_unique_version",
                violation_error_message="This payer already has that policy number and version.",
            ),
            models.UniqueConstraint(
                fields=["payer", "number"],
                condition=Q(document_version__isnull=True),
                name="policydocument_unique_unversioned",
                violation_error_message="This payer already has that policy number.",
            ),
            models.CheckConstraint(
                condition=Q(retirement_date__isnull=True)
                | Q(effective_date__isnull=True)
                | Q(retirement_date__gte=F("effective_date")),
                name="policydocument_retired_after_effective",
                violation_error_message="The retirement date cannot be before the effective date.",
            ),
            models.CheckConstraint(
                condition=Q(next_review__isnull=True)
                | Q(last_reviewed__isnull=True)
                | Q(next_review__gte=F("last_reviewed")),
                name="policydocument_next_review_after_last",
                violation_error_message="The next review date cannot be before the last review.",
            ),
        ]

    def __str__(self):
        version = f" v{self.document_version}" if self.document_version else ""
        return f"{self.payer.name} {self.number}{version}: {self.title}"


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
            clash = self.overlapping().first()
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
        PolicyDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="documentation_requirements"
    )

    change_log = ChangeLogSpec("documentation-requirements", billing_code="code__code")

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "payer__name", "kind", "id"]

    def __str__(self):
        who = self.payer.name if self.payer_id else "All payers"
        return f"{self.code.code} / {who}: {self.get_kind_display()}"


class Benchmark(CuratedModel):
    """A reimbursement or utilization figure for a code: national (no payer) or payer-specific."""

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, related_name="benchmarks")
    payer = models.ForeignKey(
        Payer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="benchmarks",
        help_text="Empty: national (e.g. Medicare PFS).",
    )
    setting = models.CharField(max_length=16, choices=BenchmarkSetting.choices, default=BenchmarkSetting.ANY)
    metric = models.CharField(max_length=24, choices=BenchmarkMetric.choices, db_index=True)
    value = models.DecimalField(max_digits=14, decimal_places=4)
    unit = models.CharField(max_length=30, blank=True, help_text="E.g. RVU, USD, procedures per year.")
    period = models.CharField(max_length=40, help_text="E.g. '2024 Q3' or 'CY2023'.")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=255, help_text="E.g. 'CMS PFS PPRRVU July 2024'.")
    release = models.ForeignKey(CodeSetRelease, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    change_log = ChangeLogSpec("benchmarks", billing_code="code__code")

    class Meta:
        ordering = ["code__code", "metric", "setting", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "payer", "setting", "metric", "period"],
                name="benchmark_unique_payer",
                violation_error_message="This benchmark already exists for the period.",
            ),
            models.UniqueConstraint(
                fields=["code", "setting", "metric", "period"],
                condition=Q(payer__isnull=True),
                name="benchmark_unique_national",
                violation_error_message="This national benchmark already exists for the period.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__isnull=True)
                | Q(period_start__isnull=True)
                | Q(period_end__gte=F("period_start")),
                name="benchmark_period_end_after_start",
                violation_error_message="The period end cannot be before its start.",
            ),
        ]

    def __str__(self):
        return f"{self.code.code} {self.get_metric_display()} {self.value} ({self.period})"


class FollowUpGap(CuratedModel):
    """A known unknown with an owner: what is still missing about a code and who chases it."""

    code = models.ForeignKey(BillingCode, on_delete=models.CASCADE, null=True, blank=True, related_name="gaps")
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, null=True, blank=True, related_name="gaps")
    policy = models.ForeignKey(PolicyDocument, on_delete=models.CASCADE, null=True, blank=True, related_name="gaps")
    category = models.CharField(max_length=24, choices=GapCategory.choices, db_index=True)
    description = models.TextField(help_text="What is missing and, where known, where to find it.")
    status = models.CharField(max_length=12, choices=GapStatus.choices, default=GapStatus.OPEN, db_index=True)
    priority = models.PositiveSmallIntegerField(choices=GapPriority.choices, default=GapPriority.MEDIUM, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="gaps"
    )
    due_date = models.DateField(null=True, blank=True, db_index=True)
    resolution_note = models.TextField(blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    rule = models.CharField(
        max_length=40, blank=True, db_index=True, help_text="Set when the gap was opened by automatic detection."
    )

    change_log = ChangeLogSpec("gaps", billing_code="code__code")

    class Meta:
        ordering = ["status", "priority", "due_date", "id"]
        verbose_name = "follow-up gap"
        constraints = [
            models.CheckConstraint(
                condition=Q(code__isnull=False) | Q(policy__isnull=False),
                name="gap_has_subject",
                violation_error_message="A gap concerns a code or a policy document.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[GapStatus.RESOLVED, GapStatus.WONT_FIX]) | Q(resolved_at__isnull=True),
                name="gap_open_has_no_resolved_at",
                violation_error_message="Only resolved gaps have a resolution time.",
            ),
            # Coalesce: most gaps have no payer or policy, and NULLs never clash in a plain unique index.
            models.UniqueConstraint(
                "rule",
                Coalesce("code", 0, output_field=models.BigIntegerField()),
                Coalesce("payer", 0, output_field=models.BigIntegerField()),
                Coalesce("policy", 0, output_field=models.BigIntegerField()),
                condition=~Q(rule="") & Q(status__in=OPEN_GAP_STATUSES),
                name="gap_one_open_per_rule_and_subject",
                violation_error_message="An open gap already exists for this rule.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "category"], name="gap_status_category_idx"),
            # The worklist's order (Meta.ordering): a page is read from the index, not sorted.
            models.Index(fields=["status", "priority", "due_date", "id"], name="gap_worklist_order_idx"),
        ]

    def __str__(self):
        subject = self.code.code if self.code_id else (self.policy.number if self.policy_id else "?")
        return f"{subject}: {self.get_category_display()} ({self.get_status_display()})"

    def get_absolute_url(self):
        return reverse("gap-detail", args=[self.pk])

    def save(self, *args, **kwargs):
        # The resolution time follows the status, so reopening a gap (e.g. in the admin, where
        # resolved_at is read-only) cannot trip gap_open_has_no_resolved_at.
        resolved_at = None if self.is_open else (self.resolved_at or timezone.now())
        if resolved_at != self.resolved_at:
            self.resolved_at = resolved_at
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "resolved_at"}
        super().save(*args, **kwargs)

    @property
    def is_open(self):
        return self.status in OPEN_GAP_STATUSES
