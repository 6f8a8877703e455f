"""The coverage check's answer as JSON: the CRD values per item, the reasons, and citations of every
criterion, documentation requirement, policy document and open gap it rests on. The REST API, the
CDS Hooks cards, the brief page and the audit record all show this one shape."""

from briefs.choices import Covered, PaNeeded


def _policy(policy) -> dict | None:
    if policy is None:
        return None
    return {
        "id": policy.pk,
        "number": policy.number,
        "document_version": policy.document_version,
        "title": policy.title,
        "url": policy.url,
        "document_type": policy.document_type,
        "original_effective_date": _iso(policy.original_effective_date),
        "effective_date": _iso(policy.effective_date),
        "retirement_date": _iso(policy.retirement_date),
    }


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def _criterion(answer) -> dict | None:
    c = answer.criterion
    if c is None:
        return None
    return {
        "id": c.pk,
        "version": c.version,
        "coverage_status": c.coverage_status,
        "prior_auth": c.prior_auth,
        "prior_auth_delegate": c.prior_auth_delegate,
        "criteria": c.criteria,
        "limitations": c.limitations,
        "diagnosis_codes": answer.criterion_diagnoses,
        "effective_start": _iso(c.effective_start),
        "effective_end": _iso(c.effective_end),
        "last_verified": _iso(c.last_verified),
        "policy": _policy(c.policy),
    }


def _requirement(r) -> dict:
    return {
        "id": r.pk,
        "version": r.version,
        "kind": r.kind,
        "kind_label": r.get_kind_display(),
        "text": r.text,
        "level": r.level,
        "purpose": r.purpose,
        "all_payers": r.payer_id is None,
        "policy": _policy(r.policy),
    }


def _gap(gap) -> dict:
    return {
        "id": gap.pk,
        "category": gap.category,
        "description": gap.description,
        "payer_specific": gap.payer_id is not None,
        "priority": gap.priority,
        "due_date": _iso(gap.due_date),
    }


SUMMARY_COVERED = {
    Covered.COVERED: "covered",
    Covered.NOT_COVERED: "not covered",
    Covered.CONDITIONAL: "covered when conditions are met",
    Covered.INDETERMINATE: "coverage cannot be decided from PolicyHub's data",
}
SUMMARY_PA = {
    PaNeeded.NO_AUTH: "no prior authorization",
    PaNeeded.AUTH_NEEDED: "prior authorization needed",
    PaNeeded.CONDITIONAL: "prior authorization depends on plan or diagnosis",
    PaNeeded.INDETERMINATE: "prior authorization unknown",
}


def item_summary(answer, payer_name: str) -> str:
    """One sentence a person reads: '93590 (Aetna, 2026-03-02): covered; prior authorization needed.'"""
    text = f"{answer.code.code} ({payer_name}, {answer.service_date}): {SUMMARY_COVERED[answer.covered]}"
    if answer.pa_needed:
        text += f"; {SUMMARY_PA[answer.pa_needed]}"
    return text + "."


def item_as_dict(answer, payer_name: str) -> dict:
    policies = {}
    for policy in [answer.criterion.policy if answer.criterion else None, *(r.policy for r in answer.documentation)]:
        if policy is not None:
            policies.setdefault(policy.pk, _policy(policy))
    return {
        "sequence": answer.sequence,
        "reference": answer.item.reference,
        "code": answer.code.code,
        "code_system": answer.code.system,
        "modifiers": list(answer.item.modifiers),
        "quantity": answer.item.quantity,
        "service_date": answer.service_date.isoformat(),
        "diagnosis_codes": list(answer.diagnoses),
        "place_of_service": answer.place_of_service,
        "primary_code": answer.primary.code if answer.primary else None,
        "summary": item_summary(answer, payer_name),
        "covered": str(answer.covered),
        "pa_needed": str(answer.pa_needed) if answer.pa_needed else None,
        "doc_needed": [str(value) for value in answer.doc_needed],
        "doc_purpose": [str(value) for value in answer.doc_purpose],
        "info_needed": [str(value) for value in answer.info_needed],
        "reasons": [{"rule": r.rule, "text": r.text} for r in answer.reasons],
        "criterion": _criterion(answer),
        "documentation": [_requirement(r) for r in answer.documentation],
        "policies": list(policies.values()),
        "open_gaps": [_gap(gap) for gap in answer.gaps],
    }


def answer_as_dict(answer) -> dict:
    payer = answer.facts.payer
    question = answer.question
    return {
        "coverage_assertion_id": str(answer.assertion_id),
        "date": answer.asserted_on.isoformat(),
        "payer": {"slug": payer.slug, "name": payer.name},
        "service_date": question.service_date.isoformat(),
        "diagnosis_codes": list(question.diagnosis_codes),
        "place_of_service": question.place_of_service,
        "items": [item_as_dict(item, payer.name) for item in answer.items],
    }
