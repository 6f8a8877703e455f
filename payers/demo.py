"""Loads the seed briefs as published demo data; running it again changes nothing.

Rows a curator has edited since (changed_by is not the system account) are left as the curator
made them; untouched rows follow `demo_content`.
"""

from django.db import transaction
from django.utils import timezone

from codes.choices import RelationshipKind
from codes.models import (
    BillingCode,
    CodeBrief,
    CodeCategory,
    CodeRelationship,
    Modifier,
    ModifierGuidance,
    PlaceOfService,
    SiteOfService,
)
from payers import demo_content
from payers.choices import CoverageStatus, GapCategory, PriorAuth
from payers.models import CoverageCriterion, FollowUpGap, Payer
from policyhub.accounts import system_user
from policyhub.choices import WorkflowState
from policyhub.records import Outcome, sync_record

REASON = "Loaded from the published seed briefs"


def _published(user):
    """Workflow fields of content that the system approved at load time."""
    return {"state": WorkflowState.PUBLISHED, "submitted_by": user, "reviewed_by": user}


@transaction.atomic
def load_demo() -> dict[str, int]:
    """Create or update the demo rows; returns how many rows were created / updated / unchanged."""
    user = system_user()
    tally = {outcome.value: 0 for outcome in Outcome}

    def sync(model, lookup, values):
        obj, outcome = sync_record(model, lookup=lookup, values=values, user=user, reason=REASON, keep_edits=True)
        tally[outcome.value] += 1
        return obj, outcome

    payers = [
        sync(Payer, {"slug": p["slug"]}, {k: v for k, v in p.items() if k != "slug"})[0] for p in demo_content.PAYERS
    ]
    modifiers = {m["code"]: sync(Modifier, {"code": m["code"]}, m)[0] for m in demo_content.MODIFIERS}
    places = {p["code"]: sync(PlaceOfService, {"code": p["code"]}, p)[0] for p in demo_content.PLACES_OF_SERVICE}

    for name in sorted({item["category"] for item in demo_content.CODES if item["category"]}):
        CodeCategory.objects.get_or_create(name=name)
    codes = {}
    for item in demo_content.CODES:
        code, _ = sync(
            BillingCode,
            {"system": item["system"], "code": item["code"]},
            {
                "short_descriptor": item["short_descriptor"],
                "long_descriptor": item["long_descriptor"],
                "category": item["category"],
                "is_add_on": item["is_add_on"],
            },
        )
        codes[code.code] = code
        if item["brief"]:
            sync(CodeBrief, {"code": code, "revision_of": None}, {**item["brief"], **_published(user)})
            for payer in payers:
                sync(
                    CoverageCriterion,
                    {"code": code, "payer": payer, "revision_of": None},
                    {
                        "coverage_status": CoverageStatus.UNKNOWN,
                        "prior_auth": PriorAuth.UNKNOWN,
                        **_published(user),
                    },
                )
        for pos_code, note in item["sites"]:
            sync(
                SiteOfService,
                {"code": code, "place_of_service": places[pos_code], "revision_of": None},
                {"setting_note": note, "is_typical": True, **_published(user)},
            )
        for order, (modifier_code, when) in enumerate(item["modifier_guidance"], start=1):
            sync(
                ModifierGuidance,
                {"code": code, "modifier": modifiers.get(modifier_code), "revision_of": None},
                {"when_to_use": when, "display_order": order, **_published(user)},
            )
        for category, payer_marker, description in item["gaps"]:
            for payer in payers if payer_marker == "*" else [None]:
                sync(
                    FollowUpGap,
                    {"code": code, "payer": payer, "category": GapCategory(category), "revision_of": None},
                    {"description": description, **_published(user)},
                )

    for add_on, primary in demo_content.ADD_ON_PAIRS:
        sync(
            CodeRelationship,
            {
                "from_code": codes[add_on],
                "to_code": codes[primary],
                "kind": RelationshipKind.ADD_ON_TO,
                "revision_of": None,
            },
            _published(user),
        )
    _stamp_review_times()
    return tally


def _stamp_review_times():
    """Published demo rows carry their approval time, like any reviewed row."""
    now = timezone.now()
    for model in (CodeBrief, CoverageCriterion, SiteOfService, ModifierGuidance, CodeRelationship):
        model.objects.filter(state=WorkflowState.PUBLISHED, reviewed_at__isnull=True).update(
            submitted_at=now, reviewed_at=now
        )
