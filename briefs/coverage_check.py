"""The coverage check: is this order covered by this payer on this date, does it need prior
authorization, and what must be documented — answered from published data only, in the HL7 Da Vinci
CRD coverage-information vocabulary.

`check_coverage()` only reads; `assert_coverage()` also keeps the answer as a `CoverageAssertion`.
Each rule that shaped an answer is named in its `reasons` (`rule` = a row of the decision table in
docs/coverage-check.md), and the answer cites the criteria, requirements, policies and open gaps it
rests on. Facts are read by `briefs.coverage_facts.load_facts()` in a fixed number of queries.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from briefs.choices import AssertionChannel, Covered, DocNeeded, InfoNeeded, PaNeeded
from briefs.coverage_answer import answer_as_dict
from briefs.coverage_facts import CoverageQuestion, Facts, OrderItem, load_facts, normalise_code
from briefs.models import CoverageAssertion
from codes.models import BillingCode
from payers.choices import CRD_COVERED, CRD_PA_NEEDED, CoverageStatus, DocumentationKind, GapCategory, PriorAuth
from payers.models import CoverageCriterion

# From worst to best, for an add-on that cannot be better covered than its primary.
COVERED_RANK = [Covered.NOT_COVERED, Covered.INDETERMINATE, Covered.CONDITIONAL, Covered.COVERED]

# What each requirement kind asks of whom (CRD doc-needed).
DOC_NEEDED = {
    DocumentationKind.PRIOR_AUTH_APPROVAL: DocNeeded.ADMIN,
    DocumentationKind.OTHER: DocNeeded.ADMIN,
}


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str


@dataclass
class ItemAnswer:
    """The answer for one ordered item, and what it rests on."""

    sequence: int
    item: OrderItem
    code: BillingCode
    service_date: date
    diagnoses: tuple[str, ...]
    place_of_service: str
    covered: str = Covered.INDETERMINATE
    pa_needed: str | None = PaNeeded.INDETERMINATE
    doc_needed: list[str] = field(default_factory=list)
    doc_purpose: list[str] = field(default_factory=list)
    info_needed: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    criterion: CoverageCriterion | None = None
    criterion_diagnoses: list[str] = field(default_factory=list)
    documentation: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    primary: BillingCode | None = None

    def because(self, rule: str, text: str) -> None:
        self.reasons.append(Reason(rule, text))

    def need_info(self, code: str) -> None:
        if code not in self.info_needed:
            self.info_needed.append(code)


@dataclass
class CoverageAnswer:
    question: CoverageQuestion
    facts: Facts
    items: list[ItemAnswer]
    assertion_id: uuid.UUID
    asserted_on: date

    def as_dict(self) -> dict:
        return answer_as_dict(self)

    def criteria_versions(self) -> list[dict]:
        used = {a.criterion.pk: a.criterion for a in self.items if a.criterion}
        return [{"id": c.pk, "version": c.version, "code": c.code_id, "payer": c.payer_id} for c in used.values()]


def check_coverage(question: CoverageQuestion) -> CoverageAnswer:
    """Judge every item of the order; raises `CoverageInputError` for unknown inputs."""
    facts = load_facts(question)
    answers = [
        ItemAnswer(
            sequence=i,
            item=item,
            code=facts.codes[normalise_code(item.code)],
            service_date=question.item_date(item),
            diagnoses=question.item_diagnoses(item),
            place_of_service=question.item_place(item),
        )
        for i, item in enumerate(question.items, start=1)
    ]
    # Primaries first: an add-on is judged with its primary's final answer.
    for answer in sorted(answers, key=lambda a: a.code.pk in facts.primaries or a.code.is_add_on):
        _judge(answer, facts, answers)
    return CoverageAnswer(question, facts, answers, uuid.uuid4(), timezone.localdate())


def assert_coverage(
    question: CoverageQuestion, *, channel: AssertionChannel, request_data: dict, user=None
) -> tuple[CoverageAnswer, dict]:
    """Answer the question and keep the answer as a `CoverageAssertion` under its assertion id."""
    answer = check_coverage(question)
    body = answer.as_dict()
    record_assertion(answer, body=body, channel=channel, request_data=request_data, user=user)
    return answer, body


@transaction.atomic
def record_assertion(
    answer: CoverageAnswer | None,
    *,
    body: dict,
    channel: AssertionChannel,
    request_data: dict,
    user=None,
    cds_client=None,
    jwt_id: str = "",
) -> CoverageAssertion:
    """Keep an answer as given (`answer` None: a call that could not be answered, e.g. unknown payer).

    Raises IntegrityError when the CDS client's `jwt_id` was used before."""
    return CoverageAssertion.objects.create(
        assertion_id=answer.assertion_id if answer else uuid.uuid4(),
        channel=channel,
        payer=answer.facts.payer if answer else None,
        service_date=answer.question.service_date if answer else None,
        user=user if getattr(user, "is_authenticated", False) else None,
        cds_client=cds_client,
        jwt_id=jwt_id,
        request=request_data,
        response=body,
        criteria_versions=answer.criteria_versions() if answer else [],
    )


def _judge(answer: ItemAnswer, facts: Facts, order: list[ItemAnswer]) -> None:
    code, day = answer.code, answer.service_date
    answer.gaps = facts.gaps.get(code.pk, [])
    if _code_not_valid(answer, day):
        return _not_covered(answer)
    primaries = facts.primaries.get(code.pk, {})
    primary = next(
        iter(
            sorted(
                (a for a in order if a.code.pk in primaries and a is not answer),
                key=lambda a: COVERED_RANK.index(a.covered),
                reverse=True,
            )
        ),
        None,
    )
    answer.primary = primary.code if primary else None
    if primaries and primary is None:
        answer.because(
            "add-on-without-primary",
            f"{code.code} is an add-on code, reported only with its primary procedure "
            f"({' or '.join(sorted(primaries.values()))}); none is on this order.",
        )
        return _not_covered(answer)

    _apply_criterion(answer, facts)
    if answer.covered in (Covered.COVERED, Covered.CONDITIONAL):
        _apply_diagnoses(answer)
    if answer.covered == Covered.COVERED:
        _apply_place(answer, facts)
    if primary is not None:
        _apply_primary(answer, primary)
    _apply_gaps(answer)
    if answer.covered == Covered.NOT_COVERED:
        return _not_covered(answer)
    _apply_documentation(answer, facts)
    # CRD: info-needed exists exactly when something is conditional.
    if Covered.CONDITIONAL not in (answer.covered, answer.pa_needed, *answer.doc_needed):
        answer.info_needed = []
    elif not answer.info_needed:
        answer.need_info(InfoNeeded.OTHER)


def _not_covered(answer: ItemAnswer) -> None:
    # CRD: a service that is not covered has no prior-authorization or documentation assertion.
    answer.covered = Covered.NOT_COVERED
    answer.pa_needed = None
    answer.doc_needed, answer.doc_purpose, answer.info_needed = [], [], []


def _code_not_valid(answer: ItemAnswer, day: date) -> bool:
    code = answer.code
    if code.termination_date and code.termination_date < day:
        answer.because(
            "code-not-valid", f"{code.code} was terminated on {code.termination_date}, before the date of service."
        )
        return True
    if code.effective_date and code.effective_date > day:
        answer.because(
            "code-not-valid", f"{code.code} takes effect on {code.effective_date}, after the date of service."
        )
        return True
    return False


def _in_force(criterion: CoverageCriterion, day: date) -> bool:
    return (criterion.effective_start is None or criterion.effective_start <= day) and (
        criterion.effective_end is None or criterion.effective_end >= day
    )


def _apply_criterion(answer: ItemAnswer, facts: Facts) -> None:
    periods = facts.criteria.get(answer.code.pk, [])
    day, payer, code = answer.service_date, facts.payer.name, answer.code.code
    criterion = next((c for c in periods if _in_force(c, day)), None)
    if criterion is None:
        answer.covered, answer.pa_needed = Covered.INDETERMINATE, PaNeeded.INDETERMINATE
        upcoming = [c for c in periods if c.effective_start and c.effective_start > day]
        ended = [c for c in periods if c.effective_end and c.effective_end < day]
        if upcoming:
            answer.because(
                "criterion-not-yet-in-force",
                f"{payer}'s published criterion for {code} takes effect on {upcoming[0].effective_start}, "
                f"after the date of service {day}; none is in force on that date.",
            )
        elif ended:
            answer.because(
                "criterion-ended",
                f"{payer}'s last published criterion for {code} ended on {ended[-1].effective_end}; "
                f"none is in force on {day}.",
            )
        else:
            answer.because("no-criterion", f"PolicyHub has no published criterion of {payer} for {code}.")
        return
    answer.criterion = criterion
    answer.criterion_diagnoses = facts.criterion_diagnoses.get(criterion.pk, [])
    status = criterion.coverage_status
    answer.covered = CRD_COVERED[status]
    text = {
        CoverageStatus.COVERED: f"{payer} covers {code} without specific criteria.",
        CoverageStatus.COVERED_WITH_CRITERIA: f"{payer} covers {code} when the policy's criteria are met"
        + (f": {criterion.criteria}" if criterion.criteria else "."),
        CoverageStatus.NOT_COVERED: f"{payer} does not cover {code} (experimental, investigational or not "
        "medically necessary)" + (f": {criterion.limitations}" if criterion.limitations else "."),
        CoverageStatus.NO_POLICY: f"{payer} publishes no policy for {code}.",
        CoverageStatus.UNKNOWN: f"{payer}'s coverage of {code} is not researched yet (recorded as unknown).",
    }[status]
    answer.because(f"status-{status.replace('_', '-')}", text)
    if status == CoverageStatus.COVERED_WITH_CRITERIA:
        answer.need_info(InfoNeeded.OTHER)
    answer.pa_needed = CRD_PA_NEEDED[criterion.prior_auth]
    pa_text = {
        PriorAuth.REQUIRED: "Prior authorization is required",
        PriorAuth.NOT_REQUIRED: "Prior authorization is not required",
        PriorAuth.VARIES: "Prior authorization varies by plan or diagnosis",
        PriorAuth.UNKNOWN: "Whether prior authorization is required is not researched yet",
    }[criterion.prior_auth]
    delegate = f"; {criterion.prior_auth_delegate} handles it for {payer}" if criterion.prior_auth_delegate else ""
    answer.because(f"prior-auth-{criterion.prior_auth.replace('_', '-')}", f"{pa_text}{delegate}.")


def _matches(order_dx: str, listed: list[str]) -> bool:
    # A listed category (I34) supports every code under it (I340, I3481...).
    return any(order_dx.startswith(code) for code in listed)


def _display(dx: str) -> str:
    return f"{dx[:3]}.{dx[3:]}" if len(dx) > 3 else dx


def _apply_diagnoses(answer: ItemAnswer) -> None:
    listed = answer.criterion_diagnoses if answer.criterion else []
    if not listed:
        return
    shown = ", ".join(_display(dx) for dx in listed)
    matching = [dx for dx in answer.diagnoses if _matches(dx, listed)]
    if matching:
        answer.because(
            "diagnosis-supported",
            f"The order's diagnosis {', '.join(_display(dx) for dx in matching)} is among the criterion's "
            f"supporting diagnoses ({shown}).",
        )
    elif answer.diagnoses:
        answer.covered = Covered.INDETERMINATE
        answer.because(
            "diagnosis-not-listed",
            f"None of the order's diagnoses ({', '.join(_display(dx) for dx in answer.diagnoses)}) is among the "
            f"criterion's supporting diagnoses ({shown}), and the criterion does not say whether others qualify.",
        )
    else:
        answer.covered = Covered.CONDITIONAL
        answer.need_info(InfoNeeded.OTHER)
        answer.because(
            "diagnosis-missing",
            f"The criterion lists supporting diagnoses ({shown}); send the order's diagnosis codes to decide.",
        )


def _apply_place(answer: ItemAnswer, facts: Facts) -> None:
    typical = facts.typical_places.get(answer.code.pk, set())
    place = answer.place_of_service
    if not place or not typical or place in typical:
        return
    answer.covered = Covered.CONDITIONAL
    answer.need_info(InfoNeeded.LOCATION)
    answer.because(
        "place-not-typical",
        f"Place of service {place} is not a typical site for {answer.code.code} "
        f"(typical: {', '.join(sorted(typical))}); the payer may not cover it there.",
    )


def _apply_primary(answer: ItemAnswer, primary: ItemAnswer) -> None:
    code = primary.code.code
    if answer.criterion is None:
        # The add-on has no criterion of its own: it follows the procedure it is reported with.
        answer.reasons = [r for r in answer.reasons if not r.rule.startswith(("no-criterion", "criterion-"))]
        answer.covered, answer.pa_needed = primary.covered, primary.pa_needed
        answer.info_needed = list(primary.info_needed)
        answer.because(
            "add-on-follows-primary",
            f"{answer.code.code} is an add-on to {code} on this order and has no criterion of its own in force: "
            f"it is judged as {code} is.",
        )
        return
    if COVERED_RANK.index(primary.covered) < COVERED_RANK.index(answer.covered):
        answer.covered = primary.covered
    answer.because(
        "add-on-with-primary",
        f"{answer.code.code} is an add-on to {code} on this order; it is covered no better than {code} "
        f"({primary.covered}).",
    )


def _apply_gaps(answer: ItemAnswer) -> None:
    payer_gaps = [gap for gap in answer.gaps if gap.payer_id is not None]
    for gap in payer_gaps:
        if gap.category == GapCategory.COVERAGE_CRITERIA:
            answer.covered, answer.pa_needed = Covered.INDETERMINATE, PaNeeded.INDETERMINATE
            answer.because("open-gap-coverage", f"Open follow-up gap #{gap.pk} ({gap.category}): {gap.description}")
        elif gap.category == GapCategory.PRIOR_AUTH and answer.pa_needed is not None:
            answer.pa_needed = PaNeeded.INDETERMINATE
            answer.because("open-gap-prior-auth", f"Open follow-up gap #{gap.pk} ({gap.category}): {gap.description}")


def _apply_documentation(answer: ItemAnswer, facts: Facts) -> None:
    requirements = facts.documentation.get(answer.code.pk, [])
    answer.documentation = requirements
    documentation_gaps = [gap for gap in answer.gaps if gap.category == GapCategory.DOCUMENTATION]
    if documentation_gaps:
        answer.doc_needed = [DocNeeded.INDETERMINATE]
        for gap in documentation_gaps:
            answer.because("open-gap-documentation", f"Open follow-up gap #{gap.pk} (documentation): {gap.description}")
        return
    required = [r for r in requirements if r.level == "required"]
    if not required:
        return
    answer.doc_needed = list(dict.fromkeys(DOC_NEEDED.get(r.kind, DocNeeded.CLINICAL) for r in required))
    purposes = [r.purpose for r in required if r.purpose]
    if answer.pa_needed == PaNeeded.NO_AUTH and "withpa" in purposes:
        # CRD: no documentation goes with a prior authorization that is not needed.
        purposes = [p for p in purposes if p != "withpa"]
        answer.because(
            "documentation-without-pa",
            "Documentation the payer wants with a prior-authorization request is not needed: no authorization is.",
        )
    answer.doc_purpose = list(dict.fromkeys(purposes))
    answer.because(
        "documentation-required",
        "Document: " + "; ".join(f"{r.get_kind_display()} — {r.text}" for r in required),
    )
