"""Payers and everything payer-specific: policy documents, coverage criteria, documentation
requirements, benchmarks and follow-up gaps.

One module per family of models; they are all importable from here."""

from payers.models.benchmarks import Benchmark
from payers.models.coverage import CoverageCriterion, CoverageCriterionQuerySet, DocumentationRequirement
from payers.models.gaps import FollowUpGap
from payers.models.payers import Payer, PolicyDocument

__all__ = [
    "Payer",
    "PolicyDocument",
    "CoverageCriterionQuerySet",
    "CoverageCriterion",
    "DocumentationRequirement",
    "Benchmark",
    "FollowUpGap",
]
