"""The coverage check as HL7 Da Vinci CRD services over CDS Hooks 2.0.

A hook call carries FHIR R4 orders (`ServiceRequest` in `draftOrders` for order-select and
order-sign, `Appointment` in `appointments` for appointment-book) and the patient's `Coverage`
(prefetch `coverage`). The payer is found through `Coverage.payor` identifiers mapped to PolicyHub
payers (`PayerIdentifier`); each order becomes an item of one coverage question. The answer comes
back as one card per order (summary, detail, source and policy links) and a `systemActions` update
that puts the CRD coverage-information extension on each order.
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from briefs.coverage_facts import IDENTIFIER, PAYER, CoverageInputError, CoverageQuestion, OrderItem
from codes.choices import CodeSystem
from codes.models import DiagnosisCode
from payers.models import Payer
from policyhub.raw_sql import fetch_models, placeholders

CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
HCPCS_SYSTEM = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
BILLING_SYSTEMS = {
    CPT_SYSTEM: CodeSystem.CPT,
    HCPCS_SYSTEM: CodeSystem.HCPCS,
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": CodeSystem.HCPCS,
}
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
POS_SYSTEM = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
COVERAGE_INFORMATION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
DETAIL_CODES = "http://terminology.hl7.org/CodeSystem/crd-coverage-detail"
CARD_TYPES = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
CARD_SUMMARY_LIMIT = 140


@dataclass(frozen=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    orders_key: str  # the context field holding the Bundle of orders

    def as_discovery(self) -> dict:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": {"coverage": "Coverage?patient={{context.patientId}}&status=active"},
            "usageRequirements": "The CDS client is registered in PolicyHub (issuer and public keys) and the payer "
            "identifiers of its Coverage resources are mapped to PolicyHub payers.",
        }


_DESCRIPTION = (
    "Coverage Requirements Discovery from PolicyHub's curated payer policies: whether each {what} is covered, "
    "needs prior authorization and what must be documented, with the policy it rests on."
)
SERVICES = {
    service.id: service
    for service in (
        CdsService(
            "policyhub-crd-order-select",
            "order-select",
            "PolicyHub coverage requirements (order select)",
            _DESCRIPTION.format(what="selected order"),
            "draftOrders",
        ),
        CdsService(
            "policyhub-crd-order-sign",
            "order-sign",
            "PolicyHub coverage requirements (order sign)",
            _DESCRIPTION.format(what="order"),
            "draftOrders",
        ),
        CdsService(
            "policyhub-crd-appointment-book",
            "appointment-book",
            "PolicyHub coverage requirements (appointment book)",
            _DESCRIPTION.format(what="booked service"),
            "appointments",
        ),
    )
}


class HookRequestError(Exception):  # noqa: N818  (a refusal of the call)
    """The hook call cannot be read; `field` names what is wrong."""

    def __init__(self, field: str, message: str, *, status: int = 400):
        self.field, self.message, self.status = field, message, status
        super().__init__(f"{field}: {message}")


@dataclass
class HookCall:
    """What a hook call says, read into PolicyHub's terms."""

    service: CdsService
    orders: list[dict]
    coverage: dict
    payer: Payer | None
    payor_identifiers: list[tuple[str, str]]
    question: CoverageQuestion | None = None
    skipped: list[tuple[dict, str]] = field(default_factory=list)  # (order, why it was not judged)
    # Other resources of the call by reference ("ServiceRequest/sr1"): what an order's `basedOn` names.
    related: dict[str, dict] = field(default_factory=dict)

    def audit_request(self, body: dict) -> dict:
        """The parts of the call a dispute needs: the orders and the coverage, not the whole prefetch."""
        return {
            "hook": body.get("hook"),
            "hookInstance": body.get("hookInstance"),
            "orders": self.orders,
            "coverage": {"id": self.coverage.get("id"), "payor_identifiers": self.payor_identifiers},
        }


def read_hook_call(service: CdsService, body) -> HookCall:
    """Check the call's shape, find its orders, coverage and payer; raises `HookRequestError`.

    A part of the wrong JSON type (a number where FHIR has a list) is read as absent, as a missing
    part is: an order without a code is skipped and said so, a Coverage without a payor finds none.
    """
    if not isinstance(body, dict):
        raise HookRequestError("body", "Send a JSON object.")
    nul = _nul_character_at(body)
    if nul is not None:
        # PostgreSQL keeps no NUL in text, nor in the call's audit record (jsonb): a 500 before.
        raise HookRequestError(nul, "A NUL character (U+0000) is not allowed.")
    if body.get("hook") != service.hook:
        raise HookRequestError("hook", f"This service answers the {service.hook!r} hook.")
    if not isinstance(body.get("hookInstance"), str) or not body["hookInstance"]:
        raise HookRequestError("hookInstance", "A UUID string is required.")
    context = body.get("context")
    if not isinstance(context, dict):
        raise HookRequestError("context", "An object is required.")
    orders = _bundle_resources(context.get(service.orders_key), f"context.{service.orders_key}")
    if service.hook == "order-select":
        selections = context.get("selections")
        if not isinstance(selections, list):
            raise HookRequestError("context.selections", "A list of order references is required.")
        orders = [o for o in orders if f"{o.get('resourceType')}/{o.get('id')}" in selections]
    orders = [o for o in orders if o.get("resourceType") in ("ServiceRequest", "Appointment")]
    prefetch = body.get("prefetch") if isinstance(body.get("prefetch"), dict) else {}
    coverage = _coverage(prefetch)
    identifiers = _payor_identifiers(coverage, prefetch)
    call = HookCall(service, orders, coverage, _payer(identifiers), identifiers)
    call.related = _by_reference(
        [*_prefetched_resources(prefetch), *_bundle_resources(context.get(service.orders_key), "")]
    )
    call.question = _question(call) if call.payer else None
    return call


def _nul_character_at(body: dict) -> str | None:
    """Where the parsed call holds a NUL character, in a key or a string ("context.draftOrders.entry[0]
    .resource.code.coding[0].code"), or None. Walked without recursion: the parser allows deep nests."""
    stack: list[tuple[object, str]] = [(body, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str) and "\x00" in node:
            return where or "body"
        if isinstance(node, dict):
            for key, value in node.items():
                path = f"{where}.{key}" if where else str(key)
                if "\x00" in key:
                    return path.replace("\x00", "")
                stack.append((value, path))
        elif isinstance(node, list):
            stack.extend((value, f"{where}[{index}]") for index, value in enumerate(node))
    return None


def _list(value) -> list:
    """`value` where FHIR has a list (`coding`, `payor`, `contained`...), or [] for any other JSON type."""
    return value if isinstance(value, list) else []


def _reference(value) -> str:
    """A `Reference` object's `reference`, or "" (also for a reference that is not a string)."""
    reference = value.get("reference") if isinstance(value, dict) else None
    return reference if isinstance(reference, str) else ""


def _by_reference(resources: list) -> dict[str, dict]:
    return {
        f"{resource['resourceType']}/{resource['id']}": resource
        for resource in resources
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str) and resource.get("id")
    }


def _bundle_resources(bundle, name: str) -> list[dict]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise HookRequestError(name, "A FHIR Bundle is required.")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise HookRequestError(name, "Bundle.entry must be a list.")
    return [e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)]


def _coverage(prefetch: dict) -> dict:
    found = prefetch.get("coverage")
    if isinstance(found, dict) and found.get("resourceType") == "Bundle":
        coverages = [r for r in _bundle_resources(found, "prefetch.coverage") if r.get("resourceType") == "Coverage"]
        found = next((c for c in coverages if c.get("status", "active") == "active"), None)
    if not isinstance(found, dict) or found.get("resourceType") != "Coverage":
        # CDS Hooks: 412 when the service cannot get the FHIR data it needs (PolicyHub never calls back).
        raise HookRequestError("prefetch.coverage", "Send the patient's active Coverage in prefetch.", status=412)
    return found


def _payor_identifiers(coverage: dict, prefetch: dict) -> list[tuple[str, str]]:
    """(system, value) of each Coverage.payor: its identifier, or the identifiers of the Organization it
    references (contained, or in the prefetch)."""
    organizations = {}
    for resource in [*_list(coverage.get("contained")), *_prefetched_resources(prefetch)]:
        if isinstance(resource, dict) and resource.get("resourceType") == "Organization":
            organizations[f"Organization/{resource.get('id')}"] = resource
            organizations[f"#{resource.get('id')}"] = resource
    identifiers = []
    for payor in _list(coverage.get("payor")):
        if not isinstance(payor, dict):
            continue
        found = [payor.get("identifier")] if isinstance(payor.get("identifier"), dict) else []
        organization = organizations.get(_reference(payor))
        if organization:
            found += [i for i in _list(organization.get("identifier")) if isinstance(i, dict)]
        identifiers += [(str(i.get("system", "")), str(i["value"])) for i in found if i.get("value")]
    return identifiers


def _prefetched_resources(prefetch: dict) -> list:
    resources = []
    for value in prefetch.values():
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            resources += [e.get("resource") for e in _list(value.get("entry")) if isinstance(e, dict)]
        elif isinstance(value, dict):
            resources.append(value)
    return resources


def _payer(identifiers: list[tuple[str, str]]) -> Payer | None:
    if not identifiers:
        return None
    values = {value for _, value in identifiers}
    mappings = fetch_models(
        IDENTIFIER,
        # The admin's order (payer name, system, value): which mapping wins stays as it was.
        f"{IDENTIFIER.col('value')} IN ({placeholders(values)}) "
        f"ORDER BY {PAYER.col('name')}, {IDENTIFIER.col('system')}, {IDENTIFIER.col('value')}",
        [*values],
        join=PAYER,
        on=f"{PAYER.col('id')} = {IDENTIFIER.col('payer')}",
    )
    for system, value in identifiers:
        for mapping, payer in mappings:
            if mapping.value == value and mapping.system in ("", system):
                return payer
    return None


def _codings(concepts, system) -> list[str]:
    if isinstance(concepts, dict):
        concepts = [concepts]
    return [
        str(coding["code"])
        for concept in _list(concepts)
        if isinstance(concept, dict)
        for coding in _list(concept.get("coding"))
        if isinstance(coding, dict) and coding.get("code") and coding.get("system") in system
    ]


def _order_date(order: dict) -> date | None:
    if order["resourceType"] == "Appointment":
        candidates = [order.get("start")]
    else:
        period = order.get("occurrencePeriod") if isinstance(order.get("occurrencePeriod"), dict) else {}
        candidates = [order.get("occurrenceDateTime"), period.get("start"), order.get("authoredOn")]
    for value in candidates:
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def _service_request_of(call: HookCall, appointment: dict) -> dict:
    """The first ServiceRequest an Appointment is `basedOn` that names a billing code (in the call's
    prefetch, or beside it in the context), or {}: appointment-book clients often book an order's
    service without repeating its code in `serviceType`."""
    for based_on in _list(appointment.get("basedOn")):
        found = call.related.get(_reference(based_on))
        if found and found.get("resourceType") == "ServiceRequest" and _codings(found.get("code"), BILLING_SYSTEMS):
            return found
    return {}


def _question(call: HookCall) -> CoverageQuestion:
    items = []
    for order in call.orders:
        concept = order.get("code") if order["resourceType"] == "ServiceRequest" else order.get("serviceType")
        codes = _codings(concept, BILLING_SYSTEMS)
        # An appointment is judged as the order it books; what it says itself (reason, date) wins.
        based_on = _service_request_of(call, order) if order["resourceType"] == "Appointment" else {}
        if not codes and based_on:
            codes = _codings(based_on.get("code"), BILLING_SYSTEMS)
        if not codes:
            why = "it carries no CPT or HCPCS code"
            if order["resourceType"] == "Appointment":
                why += ", nor does a ServiceRequest it is based on (send it in the prefetch)"
            call.skipped.append((order, why))
            continue
        source = {**based_on, **{key: value for key, value in order.items() if value}}
        diagnoses = _codings(source.get("reasonCode"), (ICD10CM_SYSTEM,))
        places = _codings(source.get("locationCode"), (POS_SYSTEM,))
        quantity = (
            (source.get("quantityQuantity") or {}).get("value")
            if isinstance(source.get("quantityQuantity"), dict)
            else None
        )
        items.append(
            OrderItem(
                code=codes[0],
                quantity=int(quantity) if isinstance(quantity, int | float) and quantity >= 1 else 1,
                service_date=_order_date(order),
                diagnosis_codes=tuple(diagnoses) if diagnoses else None,
                place_of_service=places[0] if places else "",
                reference=f"{order['resourceType']}/{order.get('id', '')}",
            )
        )
    # Orders that name no diagnosis (an add-on beside its primary) share the order set's.
    shared = tuple(dict.fromkeys(dx for item in items for dx in item.diagnosis_codes or ()))
    dates = [item.service_date for item in items if item.service_date]
    return CoverageQuestion(
        payer=call.payer,
        service_date=dates[0] if dates else timezone.localdate(),
        items=tuple(items),
        diagnosis_codes=shared,
    )


def without_unknown_inputs(call: HookCall, error: CoverageInputError) -> CoverageQuestion:
    """The question without the items and codes the catalogue does not know (CRD: not an error)."""
    unknown_dx, unknown_places = error.unknown.get("diagnoses", set()), error.unknown.get("places", set())
    items = []
    for item in call.question.items:
        if item.code.strip().upper() in error.unknown.get("codes", set()):
            call.skipped.append((_order_for(call, item), f"PolicyHub's catalogue has no billing code {item.code}"))
            continue
        items.append(
            OrderItem(
                code=item.code,
                quantity=item.quantity,
                service_date=item.service_date,
                diagnosis_codes=None
                if item.diagnosis_codes is None
                else tuple(dx for dx in item.diagnosis_codes if DiagnosisCode.normalise(dx) not in unknown_dx),
                place_of_service="" if item.place_of_service in unknown_places else item.place_of_service,
                reference=item.reference,
            )
        )
    q = call.question
    diagnoses = tuple(dx for dx in q.diagnosis_codes if DiagnosisCode.normalise(dx) not in unknown_dx)
    return CoverageQuestion(payer=q.payer, service_date=q.service_date, items=tuple(items), diagnosis_codes=diagnoses)


def _order_for(call: HookCall, item: OrderItem) -> dict:
    return next((o for o in call.orders if f"{o['resourceType']}/{o.get('id', '')}" == item.reference), {})
