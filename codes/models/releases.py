"""The official code-set releases (CMS HCPCS, ICD-10-CM, POS...) that catalogue rows are loaded from."""

from django.db import models
from django.db.models import Q

from codes.choices import ReleaseKind
from policyhub.models import TimeStampedModel


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
