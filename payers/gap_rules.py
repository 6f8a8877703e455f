"""The rules of automatic gap detection: what a curated code (or a tracked payer's policy) should have.

Each rule finds the subjects that lack something right now, as a mapping from the subject key
`(code_id, payer_id, policy_id)` to the gap's description; `payers.services.detect_gaps()` opens a
gap for each new subject and resolves the open gaps of the rule whose subject is no longer found.

Code rules look at *curated codes*: active codes with a current brief that is not retired (18,000
catalogue codes without a brief are not curated, so nothing is missing about them yet). Every rule
runs a fixed number of queries whatever the number of codes (the coverage rule one per tracked payer).

| rule key | a gap is open while |
|---|---|
| coverage_missing | a tracked payer has no published criterion in force today for a curated code |
| site_of_service_missing | a curated code has no typical site of service |
| diagnosis_codes_missing | a published covered criterion in force lists no supporting diagnosis codes |
| documentation_missing | a curated code has no published documentation requirement |
| benchmark_missing | a curated code has no reimbursement benchmark (any metric but utilization) |
| policy_review_overdue | a tracked payer's published policy in force is past its next review date, or was last |
|  | reviewed (never reviewed: took effect) more than 12 months ago |
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from codes.choices import CodeStatus
from codes.models import BillingCode, CodeBrief, SiteOfService
from payers.choices import BenchmarkMetric, CoverageStatus, GapCategory, GapPriority
from payers.models import Benchmark, CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.models import current_rows

Key = tuple[int | None, int | None, int | None]

REVIEW_INTERVAL = timedelta(days=365)
COVERED = (CoverageStatus.COVERED, CoverageStatus.COVERED_WITH_CRITERIA)


def curated_codes(code_ids: Iterable[int] | None = None) -> QuerySet[BillingCode]:
    """Active codes with a current brief that is not retired: the codes gap rules look at."""
    briefs = CodeBrief.objects.current().exclude(state=WorkflowState.RETIRED).filter(code=OuterRef("pk"))
    codes = BillingCode.objects.filter(Exists(briefs), status=CodeStatus.ACTIVE)
    return codes if code_ids is None else codes.filter(pk__in=code_ids)


def in_force_coverage(day: date) -> QuerySet[CoverageCriterion]:
    return CoverageCriterion.objects.published().current().in_force_on(day)


@dataclass(frozen=True)
class Scope:
    """What one detection run looks at: all subjects, or only some codes or policies."""

    today: date
    code_ids: frozenset[int] | None = None
    policy_ids: frozenset[int] | None = None

    @property
    def everything(self) -> bool:
        return self.code_ids is None and self.policy_ids is None

    def codes(self) -> QuerySet[BillingCode]:
        return curated_codes(self.code_ids)


class GapRule:
    """One kind of missing data. Subclasses set the class attributes and implement `find()`."""

    key: str
    category: GapCategory
    priority: GapPriority
    # Code rules run when the scope covers codes; policy rules when it covers policies.
    about_policies = False

    def applies_to(self, scope: Scope) -> bool:
        return scope.everything or (scope.policy_ids if self.about_policies else scope.code_ids) is not None

    def find(self, scope: Scope) -> dict[Key, str]:
        """The subjects lacking something now, with each one's gap description."""
        raise NotImplementedError

    def open_gaps(self, scope: Scope) -> QuerySet[FollowUpGap]:
        """This rule's gaps within the scope (any status; detection filters)."""
        # Current rows: not an editor's pending revision of a detected gap, nor a retired gap.
        gaps = FollowUpGap.objects.filter(current_rows(), rule=self.key)
        if self.about_policies and scope.policy_ids is not None:
            gaps = gaps.filter(policy_id__in=scope.policy_ids)
        elif not self.about_policies and scope.code_ids is not None:
            gaps = gaps.filter(code_id__in=scope.code_ids)
        return gaps

    def resolution_note(self, gap: FollowUpGap, context: "Context") -> str:
        """Why the gap's cause is gone: its subject left the rule's scope, or the data arrived."""
        if gap.code_id is not None and gap.code_id not in context.curated_code_ids:
            return f"{gap.code.code} is no longer curated (terminated, or its brief was retired or removed)."
        return self.fixed(gap)

    def fixed(self, gap: FollowUpGap) -> str:
        """Why the gap's cause is gone, when its subject is still in scope."""
        raise NotImplementedError


@dataclass(frozen=True)
class Context:
    """What resolution notes need to know about the subjects of the gaps being resolved."""

    today: date
    curated_code_ids: frozenset[int]
    tracked_payer_ids: frozenset[int]


class CodeRule(GapRule):
    """A rule about each curated code alone (no payer): its subjects are `(code, None, None)`."""

    description = ""

    def missing(self, scope: Scope) -> QuerySet[BillingCode]:
        raise NotImplementedError

    def find(self, scope: Scope) -> dict[Key, str]:
        return {
            (pk, None, None): self.description.format(code=code)
            for pk, code in self.missing(scope).values_list("pk", "code")
        }


class CoverageMissing(GapRule):
    key = "coverage_missing"
    category = GapCategory.COVERAGE_CRITERIA
    priority = GapPriority.HIGH

    def find(self, scope: Scope) -> dict[Key, str]:
        found = {}
        for payer_id, payer in Payer.objects.filter(is_tracked=True).values_list("pk", "name"):
            has_criterion = in_force_coverage(scope.today).filter(code=OuterRef("pk"), payer_id=payer_id)
            for code_id, code in scope.codes().exclude(Exists(has_criterion)).values_list("pk", "code"):
                found[(code_id, payer_id, None)] = (
                    f"{payer} has no published coverage criterion in force for {code}: "
                    "record its coverage, prior authorization and source policy (or 'No published policy')."
                )
        return found

    def resolution_note(self, gap: FollowUpGap, context: Context) -> str:
        if gap.payer_id not in context.tracked_payer_ids:
            return f"{gap.payer} is no longer a tracked payer."
        return super().resolution_note(gap, context)

    def fixed(self, gap: FollowUpGap) -> str:
        return f"A published coverage criterion of {gap.payer} is now in force for {gap.code.code}."


class SiteOfServiceMissing(CodeRule):
    key = "site_of_service_missing"
    category = GapCategory.SITE_OF_SERVICE
    priority = GapPriority.LOW
    description = "No typical site of service is recorded for {code}."

    def missing(self, scope: Scope) -> QuerySet[BillingCode]:
        typical = SiteOfService.objects.published().filter(code=OuterRef("pk"), is_typical=True)
        return scope.codes().exclude(Exists(typical))

    def fixed(self, gap: FollowUpGap) -> str:
        return f"{gap.code.code} now has a typical site of service."


class DiagnosisCodesMissing(GapRule):
    key = "diagnosis_codes_missing"
    category = GapCategory.DIAGNOSIS_CODING
    priority = GapPriority.MEDIUM

    def find(self, scope: Scope) -> dict[Key, str]:
        through = CoverageCriterion.diagnosis_codes.through
        criteria = (
            in_force_coverage(scope.today)
            .filter(coverage_status__in=COVERED, code__in=scope.codes())
            .exclude(Exists(through.objects.filter(coveragecriterion=OuterRef("pk"))))
            .values_list("code_id", "payer_id", "code__code", "payer__name")
            .distinct()
        )
        return {
            (code_id, payer_id, None): (
                f"{payer} covers {code}, but its criterion lists no supporting diagnosis codes (ICD-10-CM)."
            )
            for code_id, payer_id, code, payer in criteria
        }

    def fixed(self, gap: FollowUpGap) -> str:
        return (
            f"{gap.payer}'s covered criteria for {gap.code.code} now list supporting diagnosis codes "
            "(or are no longer published, in force and covered)."
        )


class DocumentationMissing(CodeRule):
    key = "documentation_missing"
    category = GapCategory.DOCUMENTATION
    priority = GapPriority.MEDIUM
    description = "No published documentation requirement is recorded for {code}."

    def missing(self, scope: Scope) -> QuerySet[BillingCode]:
        requirements = DocumentationRequirement.objects.published().current().filter(code=OuterRef("pk"))
        return scope.codes().exclude(Exists(requirements))

    def fixed(self, gap: FollowUpGap) -> str:
        return f"{gap.code.code} now has a published documentation requirement."


class BenchmarkMissing(CodeRule):
    key = "benchmark_missing"
    category = GapCategory.BENCHMARK
    priority = GapPriority.LOW
    description = "No reimbursement benchmark (RVUs, payment or allowed amount) is recorded for {code}."

    def missing(self, scope: Scope) -> QuerySet[BillingCode]:
        reimbursement = (
            Benchmark.objects.published().filter(code=OuterRef("pk")).exclude(metric=BenchmarkMetric.ANNUAL_UTILIZATION)
        )
        return scope.codes().exclude(Exists(reimbursement))

    def fixed(self, gap: FollowUpGap) -> str:
        return f"{gap.code.code} now has a reimbursement benchmark."


class PolicyReviewOverdue(GapRule):
    key = "policy_review_overdue"
    category = GapCategory.POLICY_REVIEW
    priority = GapPriority.MEDIUM
    about_policies = True

    def find(self, scope: Scope) -> dict[Key, str]:
        today = scope.today
        year_ago = today - REVIEW_INTERVAL
        policies = (
            PolicyDocument.objects.published()
            .filter(payer__is_tracked=True)
            .filter(Q(retirement_date__isnull=True) | Q(retirement_date__gt=today))
            .annotate(reviewed=Coalesce("last_reviewed", "effective_date"))
            .filter(Q(next_review__lt=today) | Q(reviewed__lt=year_ago))
            .select_related("payer")
        )
        if scope.policy_ids is not None:
            policies = policies.filter(pk__in=scope.policy_ids)
        found = {}
        for policy in policies:
            if policy.next_review and policy.next_review < today:
                why = f"its next review was due {policy.next_review.isoformat()}"
            elif policy.last_reviewed:
                why = f"it was last reviewed {policy.last_reviewed.isoformat()}, more than 12 months ago"
            else:
                why = f"it took effect {policy.effective_date.isoformat()} and no review is recorded since"
            found[(None, policy.payer_id, policy.pk)] = (
                f"{policy.payer.name} {policy.number}: {why}. Check the payer's current version and update the "
                "review dates and the criteria that cite it."
            )
        return found

    def resolution_note(self, gap: FollowUpGap, context: Context) -> str:
        policy = gap.policy
        if policy.retirement_date and policy.retirement_date <= context.today:
            return f"{policy.number} was retired on {policy.retirement_date.isoformat()}."
        if policy.payer_id not in context.tracked_payer_ids:
            return f"{policy.payer} is no longer a tracked payer."
        return self.fixed(gap)

    def fixed(self, gap: FollowUpGap) -> str:
        return f"{gap.policy.number} has been reviewed: its review dates are current."


RULES: tuple[GapRule, ...] = (
    CoverageMissing(),
    SiteOfServiceMissing(),
    DiagnosisCodesMissing(),
    DocumentationMissing(),
    BenchmarkMissing(),
    PolicyReviewOverdue(),
)
RULES_BY_KEY = {rule.key: rule for rule in RULES}
