"""Reimbursement and utilization benchmarks of a code, per payer or source."""

from django.db import models
from django.db.models import F, Q

from codes.models import BillingCode, CodeSetRelease
from payers.choices import BenchmarkMetric, BenchmarkSetting
from payers.models.payers import Payer
from policyhub.changelog import ChangeLogSpec
from policyhub.models import ReviewedModel, current_rows


class Benchmark(ReviewedModel):
    """A reimbursement or utilization figure for a code: national (no payer) or payer-specific.

    Reviewed: a curated figure is part of its code's change set. Figures a release import loads (the
    PFS RVUs) are published by the import and name their release."""

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

    class Meta(ReviewedModel.Meta):
        ordering = ["code__code", "metric", "setting", "-period_start"]
        constraints = [
            *ReviewedModel.Meta.constraints,
            models.UniqueConstraint(
                fields=["code", "payer", "setting", "metric", "period"],
                condition=current_rows(),
                name="benchmark_unique_payer",
                violation_error_message="This benchmark already exists for the period.",
            ),
            models.UniqueConstraint(
                fields=["code", "setting", "metric", "period"],
                condition=Q(payer__isnull=True) & current_rows(),
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
