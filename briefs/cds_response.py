"""The CDS Hooks response to a coverage question: cards for people, and a systemActions update per
order carrying the HL7 Da Vinci CRD coverage-information extension for systems."""

import copy
import uuid

from briefs.cds_hooks import (
    CARD_SUMMARY_LIMIT,
    CARD_TYPES,
    COVERAGE_INFORMATION,
    CPT_SYSTEM,
    DETAIL_CODES,
    HCPCS_SYSTEM,
    HookCall,
)
from codes.choices import CodeSystem

WARNING_ANSWERS = {"not-covered", "indeterminate", "auth-needed"}


def coverage_information(item: dict, *, coverage_reference: str, assertion_id: str, asserted_on: str) -> dict:
    """The CRD coverage-information extension for one judged item."""
    parts = [
        {"url": "coverage", "valueReference": {"reference": coverage_reference}},
        {"url": "covered", "valueCode": item["covered"]},
    ]
    if item["pa_needed"]:
        parts.append({"url": "pa-needed", "valueCode": item["pa_needed"]})
    parts += [{"url": "doc-needed", "valueCode": value} for value in item["doc_needed"]]
    parts += [{"url": "doc-purpose", "valueCode": value} for value in item["doc_purpose"]]
    parts += [{"url": "info-needed", "valueCode": value} for value in item["info_needed"]]
    system = CPT_SYSTEM if item["code_system"] == CodeSystem.CPT else HCPCS_SYSTEM
    parts.append({"url": "billingCode", "valueCoding": {"system": system, "code": item["code"]}})
    parts += [{"url": "reason", "valueCodeableConcept": {"text": reason["text"]}} for reason in item["reasons"]]
    for policy in item["policies"]:
        if policy["url"]:
            parts.append(_detail("policy-link", {"valueUrl": policy["url"]}))
    for requirement in item["documentation"]:
        parts.append(_detail("instructions", {"valueString": f"{requirement['kind_label']}: {requirement['text']}"}))
    parts += [
        {"url": "date", "valueDate": asserted_on},
        {"url": "coverage-assertion-id", "valueString": assertion_id},
    ]
    return {"url": COVERAGE_INFORMATION, "extension": parts}


def _detail(code: str, value: dict) -> dict:
    return {
        "url": "detail",
        "extension": [
            {"url": "category", "valueCode": "cat-other"},
            {"url": "code", "valueCodeableConcept": {"coding": [{"system": DETAIL_CODES, "code": code}]}},
            {"url": "value", **value},
        ],
    }


def hook_response(call: HookCall, body: dict | None, *, brief_url) -> dict:
    """Cards and system actions for the answered orders, and a card for each order not judged."""
    cards, actions = [], []
    orders = {f"{o['resourceType']}/{o.get('id', '')}": o for o in call.orders}
    coverage_reference = f"Coverage/{call.coverage.get('id', '')}"
    for item in (body or {}).get("items", []):
        order = orders.get(item["reference"])
        cards.append(_card(item, body["payer"]["name"], brief_url(item["code"])))
        if order is None:
            continue
        extension = coverage_information(
            item,
            coverage_reference=coverage_reference,
            assertion_id=body["coverage_assertion_id"],
            asserted_on=body["date"],
        )
        actions.append(_update(order, extension, coverage_reference))
    if call.payer is None:
        shown = ", ".join(f"{system or '(no system)'}|{value}" for system, value in call.payor_identifiers) or "none"
        cards.append(
            _info_card(
                "PolicyHub does not know this coverage's payer.",
                f"Payer identifiers in Coverage.payor: {shown}. Ask PolicyHub's policy staff to map them to a payer.",
            )
        )
    for order, why in call.skipped:
        reference = f"{order.get('resourceType', 'Order')}/{order.get('id', '')}"
        cards.append(_info_card(f"PolicyHub cannot check {reference}: {why}.", ""))
    response = {"cards": cards}
    if actions:
        response["systemActions"] = actions
    return response


def _update(order: dict, extension: dict, coverage_reference: str) -> dict:
    resource = copy.deepcopy(order)
    # Replaces an earlier PolicyHub assertion for the same coverage; other payers' extensions stay.
    kept = [
        ext
        for ext in resource.get("extension") or []
        if not (
            ext.get("url") == COVERAGE_INFORMATION
            and any(
                part.get("url") == "coverage" and part.get("valueReference", {}).get("reference") == coverage_reference
                for part in ext.get("extension") or []
            )
        )
    ]
    resource["extension"] = [*kept, extension]
    return {
        "type": "update",
        "description": f"Record PolicyHub's coverage information on {order['resourceType']}/{order.get('id', '')}.",
        "resource": resource,
    }


def _card(item: dict, payer_name: str, brief_url: str) -> dict:
    summary = item["summary"]
    if len(summary) >= CARD_SUMMARY_LIMIT:
        summary = summary[: CARD_SUMMARY_LIMIT - 2] + "…"
    lines = [f"- {reason['text']}" for reason in item["reasons"]]
    if item["documentation"]:
        lines += ["", "**Documentation**", *(f"- {d['kind_label']}: {d['text']}" for d in item["documentation"])]
    if item["open_gaps"]:
        lines += ["", "**Open follow-up gaps**", *(f"- {g['description']}" for g in item["open_gaps"])]
    policies = [p for p in item["policies"] if p["url"]]
    source = {
        "label": f"PolicyHub · {payer_name}" + (f" {policies[0]['number']}" if policies else ""),
        "url": policies[0]["url"] if policies else brief_url,
        "topic": {"system": CARD_TYPES, "code": "coverage-info", "display": "Coverage Information"},
    }
    links = [{"label": f"{p['number']}: {p['title']}"[:200], "url": p["url"], "type": "absolute"} for p in policies] + [
        {"label": f"PolicyHub brief for {item['code']}", "url": brief_url, "type": "absolute"}
    ]
    return {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "detail": "\n".join(lines),
        "indicator": "warning" if {item["covered"], item["pa_needed"]} & WARNING_ANSWERS else "info",
        "source": source,
        "links": links,
    }


def _info_card(summary: str, detail: str) -> dict:
    card = {
        "uuid": str(uuid.uuid4()),
        "summary": summary[: CARD_SUMMARY_LIMIT - 1],
        "indicator": "info",
        "source": {"label": "PolicyHub"},
    }
    if detail:
        card["detail"] = detail
    return card
