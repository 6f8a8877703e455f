"""The coverage check's question and the published facts it reads, in a fixed number of queries.

`load_facts()` resolves every code of a question and reads everything the decision needs for all
its items at once (eleven queries at most, whatever the number of items or the size of the tables),
each through an index: criteria by (code, payer), requirements and gaps by code, the catalogue by
unique code. Unknown inputs raise `CoverageInputError`, naming each refused field.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from briefs.models import PayerIdentifier
from codes.choices import RelationshipKind
from codes.models import BillingCode, CodeRelationship, DiagnosisCode, Modifier, PlaceOfService, SiteOfService
from payers.choices import OPEN_GAP_STATUSES
from payers.models import CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer, PolicyDocument
from policyhub.choices import WorkflowState
from policyhub.raw_sql import Columns, fetch, fetch_models, placeholders

# The columns each look-up reads: what the decision and the answer's citations use.
PAYER = Columns.of(Payer, "y", {"name", "slug"})
IDENTIFIER = Columns.of(PayerIdentifier, "pi", {"payer", "system", "value"})  # a CDS client's payer ids
CODE = Columns.of(
    BillingCode, "b", {"system", "code", "short_descriptor", "is_add_on", "effective_date", "termination_date"}
)
DIAGNOSIS = Columns.of(DiagnosisCode, "d", {"code"})
PLACE = Columns.of(PlaceOfService, "p", {"code"})
MODIFIER = Columns.of(Modifier, "m", {"code"})
POLICY = Columns.of(
    PolicyDocument,
    "pd",
    {
        "number",
        "document_version",
        "title",
        "url",
        "document_type",
        "original_effective_date",
        "effective_date",
        "retirement_date",
    },
)
CRITERION = Columns.of(
    CoverageCriterion,
    "c",
    {
        "version",
        "code",
        "payer",
        "coverage_status",
        "prior_auth",
        "prior_auth_delegate",
        "criteria",
        "limitations",
        "effective_start",
        "effective_end",
        "last_verified",
    },
)
REQUIREMENT = Columns.of(
    DocumentationRequirement, "dr", {"version", "code", "payer", "kind", "text", "level", "purpose"}
)
GAP = Columns.of(FollowUpGap, "g", {"code", "payer", "category", "description", "status", "priority", "due_date"})


class CoverageInputError(Exception):  # noqa: N818  (a refusal of the question, like ValidationError)
    """Inputs the catalogue does not know. `errors` maps each field path to its messages; `unknown` lists
    the refused values by kind ("codes", "diagnoses", "places", "modifiers")."""

    def __init__(self, errors: dict[str, list[str]], unknown: dict[str, set[str]] | None = None):
        self.errors = errors
        self.unknown = unknown or {}
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items()))


@dataclass(frozen=True)
class OrderItem:
    """One ordered service. Empty date, diagnoses or place fall back to the question's."""

    code: str
    modifiers: tuple[str, ...] = ()
    quantity: int = 1
    service_date: date | None = None
    diagnosis_codes: tuple[str, ...] | None = None
    place_of_service: str = ""
    reference: str = ""  # the FHIR order it came from, e.g. "ServiceRequest/123"


@dataclass(frozen=True)
class CoverageQuestion:
    """Is this order covered by this payer on this date, does it need prior auth, what must be documented?"""

    payer: Payer | str  # a payer, or its slug
    service_date: date
    items: tuple[OrderItem, ...]
    diagnosis_codes: tuple[str, ...] = ()
    place_of_service: str = ""

    def item_date(self, item: OrderItem) -> date:
        return item.service_date or self.service_date

    def item_diagnoses(self, item: OrderItem) -> tuple[str, ...]:
        codes = self.diagnosis_codes if item.diagnosis_codes is None else item.diagnosis_codes
        return tuple(DiagnosisCode.normalise(code) for code in codes)

    def item_place(self, item: OrderItem) -> str:
        return (item.place_of_service or self.place_of_service).strip()


@dataclass
class Facts:
    """The published facts about a question's codes, keyed for the decision's look-ups."""

    payer: Payer
    codes: dict[str, BillingCode]
    diagnoses: dict[str, DiagnosisCode]
    places: dict[str, PlaceOfService]
    primaries: dict[int, dict[int, str]] = field(default_factory=dict)  # add-on code id -> {primary id: code}
    criteria: dict[int, list[CoverageCriterion]] = field(default_factory=dict)  # code id -> periods, oldest first
    criterion_diagnoses: dict[int, list[str]] = field(default_factory=dict)  # criterion id -> diagnosis codes
    documentation: dict[int, list[DocumentationRequirement]] = field(default_factory=dict)
    gaps: dict[int, list[FollowUpGap]] = field(default_factory=dict)
    typical_places: dict[int, set[str]] = field(default_factory=dict)  # code id -> POS codes


def normalise_code(code: str) -> str:
    return code.strip().upper()


def load_facts(question: CoverageQuestion) -> Facts:
    """Resolve the question's inputs and read the facts about them; raises `CoverageInputError`."""
    errors: dict[str, list[str]] = {}
    payer = _payer(question.payer, errors)
    wanted_codes = {normalise_code(item.code) for item in question.items}
    codes = {
        code.code: code
        for code in fetch_models(CODE, f"{CODE.col('code')} IN ({placeholders(wanted_codes)})", [*wanted_codes])
    }
    for i, item in enumerate(question.items):
        if normalise_code(item.code) not in codes:
            errors[f"items[{i}].code"] = [f"Unknown billing code {item.code!r}."]
    diagnoses = _diagnoses(question, errors)
    places = _places(question, errors)
    unknown_modifiers = _check_modifiers(question, errors)
    if errors:
        unknown = {
            "codes": wanted_codes - set(codes),
            "diagnoses": _diagnosis_paths(question).keys() - diagnoses.keys(),
            "places": _place_paths(question).keys() - places.keys(),
            "modifiers": unknown_modifiers,
        }
        raise CoverageInputError(errors, unknown)
    facts = Facts(payer=payer, codes=codes, diagnoses=diagnoses, places=places)
    _read_coverage(facts, [code.pk for code in codes.values()])
    return facts


def _payer(payer: Payer | str, errors: dict) -> Payer | None:
    if isinstance(payer, Payer):
        return payer
    found = next(iter(fetch_models(PAYER, f"{PAYER.col('slug')} = %s", [payer.strip().lower()])), None)
    if found is None:
        errors["payer"] = [f"Unknown payer {payer!r}; use a payer slug such as 'aetna'."]
    return found


def _diagnosis_paths(question: CoverageQuestion) -> dict[str, str]:
    paths = {}
    for i, code in enumerate(question.diagnosis_codes):
        paths.setdefault(DiagnosisCode.normalise(code), f"diagnosis_codes[{i}]")
    for i, item in enumerate(question.items):
        for j, code in enumerate(item.diagnosis_codes or ()):
            paths.setdefault(DiagnosisCode.normalise(code), f"items[{i}].diagnosis_codes[{j}]")
    return paths


def _place_paths(question: CoverageQuestion) -> dict[str, str]:
    paths = {}
    if question.place_of_service:
        paths[question.place_of_service.strip()] = "place_of_service"
    for i, item in enumerate(question.items):
        if item.place_of_service:
            paths.setdefault(item.place_of_service.strip(), f"items[{i}].place_of_service")
    return paths


def _diagnoses(question: CoverageQuestion, errors: dict) -> dict[str, DiagnosisCode]:
    paths = _diagnosis_paths(question)
    if not paths:
        return {}
    found = {
        dx.code: dx for dx in fetch_models(DIAGNOSIS, f"{DIAGNOSIS.col('code')} IN ({placeholders(paths)})", [*paths])
    }
    for code, path in paths.items():
        if code not in found:
            errors[path] = [f"Unknown ICD-10-CM code {code!r}."]
    return found


def _places(question: CoverageQuestion, errors: dict) -> dict[str, PlaceOfService]:
    paths = _place_paths(question)
    if not paths:
        return {}
    found = {p.code: p for p in fetch_models(PLACE, f"{PLACE.col('code')} IN ({placeholders(paths)})", [*paths])}
    for code, path in paths.items():
        if code not in found:
            errors[path] = [f"Unknown place of service {code!r}."]
    return found


def _check_modifiers(question: CoverageQuestion, errors: dict) -> set[str]:
    paths = {}
    for i, item in enumerate(question.items):
        for j, modifier in enumerate(item.modifiers):
            paths.setdefault(normalise_code(modifier), f"items[{i}].modifiers[{j}]")
    if not paths:
        return set()
    known = {m.code for m in fetch_models(MODIFIER, f"{MODIFIER.col('code')} IN ({placeholders(paths)})", [*paths])}
    for code, path in paths.items():
        if code not in known:
            errors[path] = [f"Unknown modifier {code!r}."]
    return set(paths) - known


def _read_coverage(facts: Facts, code_ids: list[int]) -> None:
    """The payer's published criteria (every period: the decision picks the one in force), the
    requirements and open gaps of the codes, add-on pairs and typical places: six queries."""
    payer, ids = facts.payer, placeholders(code_ids)
    rel, to_code = Columns.of(CodeRelationship, "r", set()), Columns.of(BillingCode, "b", set())
    for from_id, to_id, code in fetch(
        f"SELECT {rel.col('from_code')}, {rel.col('to_code')}, {to_code.col('code')} FROM {rel.table} "
        f"JOIN {to_code.table} ON {to_code.col('id')} = {rel.col('to_code')} "
        f"WHERE {rel.col('from_code')} IN ({ids}) AND {rel.col('kind')} = %s AND {rel.col('state')} = %s",
        [*code_ids, RelationshipKind.ADD_ON_TO, WorkflowState.PUBLISHED],
    ):
        facts.primaries.setdefault(from_id, {})[to_id] = code

    criteria = defaultdict(list)
    for criterion, policy in fetch_models(
        CRITERION,
        f"{CRITERION.col('code')} IN ({ids}) AND {CRITERION.col('payer')} = %s AND {CRITERION.col('state')} = %s "
        f"AND {CRITERION.col('revision_of')} IS NULL",
        [*code_ids, payer.pk, WorkflowState.PUBLISHED],
        join=POLICY,
        on=f"{POLICY.col('id')} = {CRITERION.col('policy')}",
    ):
        criterion.policy = policy
        criteria[criterion.code_id].append(criterion)
    for periods in criteria.values():
        periods.sort(key=lambda c: (c.effective_start or date.min, c.pk))
    facts.criteria = dict(criteria)

    criterion_ids = [c.pk for periods in criteria.values() for c in periods]
    if criterion_ids:
        link, dx = (
            Columns.of(CoverageCriterion.diagnosis_codes.through, "l", set()),
            Columns.of(DiagnosisCode, "d", set()),
        )
        for criterion_id, code in fetch(
            f"SELECT {link.col('coveragecriterion')}, {dx.col('code')} FROM {link.table} "
            f"JOIN {dx.table} ON {dx.col('id')} = {link.col('diagnosiscode')} "
            f"WHERE {link.col('coveragecriterion')} IN ({placeholders(criterion_ids)}) ORDER BY {dx.col('code')}",
            criterion_ids,
        ):
            facts.criterion_diagnoses.setdefault(criterion_id, []).append(code)

    for requirement, policy in fetch_models(
        REQUIREMENT,
        f"{REQUIREMENT.col('code')} IN ({ids}) "
        f"AND ({REQUIREMENT.col('payer')} = %s OR {REQUIREMENT.col('payer')} IS NULL) "
        f"AND {REQUIREMENT.col('state')} = %s AND {REQUIREMENT.col('revision_of')} IS NULL "
        f"ORDER BY {REQUIREMENT.col('code')}, {REQUIREMENT.col('kind')}, {REQUIREMENT.col('id')}",
        [*code_ids, payer.pk, WorkflowState.PUBLISHED],
        join=POLICY,
        on=f"{POLICY.col('id')} = {REQUIREMENT.col('policy')}",
    ):
        requirement.policy = policy
        facts.documentation.setdefault(requirement.code_id, []).append(requirement)

    for gap in fetch_models(
        GAP,
        f"{GAP.col('code')} IN ({ids}) AND ({GAP.col('payer')} = %s OR {GAP.col('payer')} IS NULL) "
        f"AND {GAP.col('status')} IN ({placeholders(OPEN_GAP_STATUSES)}) AND {GAP.col('state')} = %s "
        f"ORDER BY {GAP.col('priority')}, {GAP.col('id')}",
        [*code_ids, payer.pk, *OPEN_GAP_STATUSES, WorkflowState.PUBLISHED],
    ):
        facts.gaps.setdefault(gap.code_id, []).append(gap)

    site, place = Columns.of(SiteOfService, "s", set()), Columns.of(PlaceOfService, "p", set())
    for code_id, code in fetch(
        f"SELECT {site.col('code')}, {place.col('code')} FROM {site.table} "
        f"JOIN {place.table} ON {place.col('id')} = {site.col('place_of_service')} "
        f"WHERE {site.col('code')} IN ({ids}) AND {site.col('is_typical')} = %s AND {site.col('state')} = %s",
        [*code_ids, True, WorkflowState.PUBLISHED],
    ):
        facts.typical_places.setdefault(code_id, set()).add(code)
