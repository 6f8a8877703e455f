"""The coverage check's question and the published facts it reads, in a fixed number of queries.

`load_facts()` resolves every code of a question and reads everything the decision needs for all
its items at once (eleven queries at most, whatever the number of items or the size of the tables),
each through an index: criteria by (code, payer), requirements and gaps by code, the catalogue by
unique code. Unknown inputs raise `CoverageInputError`, naming each refused field.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q

from codes.choices import RelationshipKind
from codes.models import BillingCode, CodeRelationship, DiagnosisCode, Modifier, PlaceOfService, SiteOfService
from payers.choices import OPEN_GAP_STATUSES
from payers.models import CoverageCriterion, DocumentationRequirement, FollowUpGap, Payer


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
    codes = {code.code: code for code in BillingCode.objects.filter(code__in=wanted_codes)}
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
    found = Payer.objects.filter(slug=payer.strip().lower()).first()
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
    found = {dx.code: dx for dx in DiagnosisCode.objects.filter(code__in=paths)}
    for code, path in paths.items():
        if code not in found:
            errors[path] = [f"Unknown ICD-10-CM code {code!r}."]
    return found


def _places(question: CoverageQuestion, errors: dict) -> dict[str, PlaceOfService]:
    paths = _place_paths(question)
    if not paths:
        return {}
    found = {place.code: place for place in PlaceOfService.objects.filter(code__in=paths)}
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
    known = set(Modifier.objects.filter(code__in=paths).values_list("code", flat=True))
    for code, path in paths.items():
        if code not in known:
            errors[path] = [f"Unknown modifier {code!r}."]
    return set(paths) - known


def _read_coverage(facts: Facts, code_ids: list[int]) -> None:
    """The payer's published criteria (every period: the decision picks the one in force), the
    requirements and open gaps of the codes, add-on pairs and typical places: six queries."""
    payer = facts.payer
    for from_id, to_id, to_code in CodeRelationship.objects.filter(
        from_code_id__in=code_ids, kind=RelationshipKind.ADD_ON_TO
    ).values_list("from_code_id", "to_code_id", "to_code__code"):
        facts.primaries.setdefault(from_id, {})[to_id] = to_code

    criteria = defaultdict(list)
    for criterion in (
        CoverageCriterion.objects.published()
        .current()
        .filter(code_id__in=code_ids, payer=payer)
        .select_related("policy")
        .order_by("code_id", "effective_start", "pk")
    ):
        criteria[criterion.code_id].append(criterion)
    facts.criteria = dict(criteria)

    criterion_ids = [c.pk for periods in criteria.values() for c in periods]
    links = CoverageCriterion.diagnosis_codes.through.objects.filter(coveragecriterion_id__in=criterion_ids)
    for criterion_id, dx in links.order_by("diagnosiscode__code").values_list(
        "coveragecriterion_id", "diagnosiscode__code"
    ):
        facts.criterion_diagnoses.setdefault(criterion_id, []).append(dx)

    for_payer = Q(payer=payer) | Q(payer__isnull=True)
    for requirement in (
        DocumentationRequirement.objects.published()
        .current()
        .filter(for_payer, code_id__in=code_ids)
        .select_related("policy")
        .order_by("code_id", "kind", "pk")
    ):
        facts.documentation.setdefault(requirement.code_id, []).append(requirement)

    for gap in FollowUpGap.objects.filter(for_payer, code_id__in=code_ids, status__in=OPEN_GAP_STATUSES).order_by(
        "priority", "pk"
    ):
        facts.gaps.setdefault(gap.code_id, []).append(gap)

    for code_id, place in SiteOfService.objects.filter(code_id__in=code_ids, is_typical=True).values_list(
        "code_id", "place_of_service__code"
    ):
        facts.typical_places.setdefault(code_id, set()).add(place)
