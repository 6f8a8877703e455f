"""Examples of the coverage check shown in the OpenAPI schema (and so in /api/docs/)."""

COVERAGE_CHECK_REQUEST = {
    "payer": "aetna",
    "date_of_service": "2026-03-02",
    "items": [{"code": "93590", "modifiers": [], "quantity": 1}, {"code": "93592", "quantity": 1}],
    "diagnosis_codes": ["I34.0"],
    "place_of_service": "22",
}

_POLICY = {
    "id": 12,
    "number": "CPB 0826",
    "document_version": None,
    "title": "Transcatheter Paravalvular Leak Closure",
    "url": "https://www.aetna.com/cpb/medical/data/800_899/0826.html",
    "document_type": "policy",
    "original_effective_date": "2012-05-01",
    "effective_date": "2025-06-01",
    "retirement_date": None,
}

COVERAGE_CHECK_ANSWER = {
    "coverage_assertion_id": "3f1c2a4e-8d0b-4c55-9a57-0c1e7f5b9d21",
    "date": "2026-02-20",
    "payer": {"slug": "aetna", "name": "Aetna"},
    "service_date": "2026-03-02",
    "diagnosis_codes": ["I34.0"],
    "place_of_service": "22",
    "items": [
        {
            "sequence": 1,
            "reference": "",
            "code": "93590",
            "code_system": "CPT",
            "modifiers": [],
            "quantity": 1,
            "service_date": "2026-03-02",
            "diagnosis_codes": ["I340"],
            "place_of_service": "22",
            "primary_code": None,
            "summary": "93590 (Aetna, 2026-03-02): covered when conditions are met; prior authorization needed.",
            "covered": "conditional",
            "pa_needed": "auth-needed",
            "doc_needed": ["clinical"],
            "doc_purpose": ["withpa"],
            "info_needed": ["OTH"],
            "reasons": [
                {
                    "rule": "status-covered-with-criteria",
                    "text": "Aetna covers 93590 when the policy's criteria are met: symptomatic paravalvular leak.",
                },
                {"rule": "prior-auth-required", "text": "Prior authorization is required."},
                {
                    "rule": "diagnosis-supported",
                    "text": "The order's diagnosis I34.0 is among the criterion's supporting diagnoses "
                    "(I34.0, T82.09).",
                },
                {
                    "rule": "documentation-required",
                    "text": "Document: Imaging (e.g. TEE or echocardiography report) — TEE report showing the leak",
                },
            ],
            "criterion": {
                "id": 41,
                "version": 3,
                "coverage_status": "covered_with_criteria",
                "prior_auth": "required",
                "prior_auth_delegate": "",
                "criteria": "Symptomatic paravalvular leak",
                "limitations": "",
                "diagnosis_codes": ["I340", "T8209"],
                "effective_start": "2025-06-01",
                "effective_end": None,
                "last_verified": "2026-01-10",
                "policy": _POLICY,
            },
            "documentation": [
                {
                    "id": 7,
                    "version": 1,
                    "kind": "imaging",
                    "kind_label": "Imaging (e.g. TEE or echocardiography report)",
                    "text": "TEE report showing the leak",
                    "level": "required",
                    "purpose": "withpa",
                    "all_payers": False,
                    "policy": _POLICY,
                }
            ],
            "policies": [_POLICY],
            "open_gaps": [],
        }
    ],
}
