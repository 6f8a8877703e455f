"""Payers and the policy documents their coverage rules are written in."""

from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from payers.choices import PayerKind, PolicyDocumentType
from policyhub.changelog import ChangeLogSpec
from policyhub.models import CuratedModel, ReviewedModel, current_rows


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


class PolicyDocument(ReviewedModel):
    """A payer's policy document (medical policy, LCD, billing article): the citation behind criteria.

    Reviewed like the criteria that cite it, since readers see its number, title and dates beside
    every criterion: a new document is a draft until approved (with the change set of a code whose
    criteria cite it, or on its own page), and an edit of a published one is a draft revision.
    Documents loaded from the Medicare Coverage Database are reference data, published on import.
    """

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

    class Meta(ReviewedModel.Meta):
        ordering = ["payer__name", "number", "-document_version"]
        verbose_name = "payer policy document"
        constraints = [
            *ReviewedModel.Meta.constraints,
            # Among current rows: a draft revision repeats its published row's number and version.
            models.UniqueConstraint(
                fields=["payer", "number", "document_version"],
                condition=current_rows(),
                name="policydocument_unique_version",
                violation_error_message="This payer already has that policy number and version.",
            ),
            models.UniqueConstraint(
                fields=["payer", "number"],
                condition=Q(document_version__isnull=True) & current_rows(),
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
