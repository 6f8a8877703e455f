"""`load_demo` carries every statement of the two seed briefs and running it again changes nothing.

The seed files are read here, so the test proves the curated text matches them word for word.
"""

import re
from dataclasses import dataclass, field
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from codes.choices import RelationshipKind, SettingType
from codes.models import BillingCode, CodeBrief, CodeRelationship, ModifierGuidance, PlaceOfService
from payers.choices import CoverageStatus, GapCategory, GapStatus, PriorAuth
from payers.demo import load_demo
from payers.models import CoverageCriterion, FollowUpGap, Payer
from policyhub.accounts import SYSTEM_USERNAME
from policyhub.choices import WorkflowState
from policyhub.models import CuratedModel

pytestmark = pytest.mark.django_db

HEADINGS = {
    "Summary & Overview",
    "Billing Code Overview",
    "Clinical & Coding Specifications",
    "Clinical Context",
    "Coding Specifications",
}
# "Label: text" lines of the briefs and the brief field that holds the text.
LABELS = {
    "Headline": "headline",
    "Lead": "lead",
    "What the code represents and why it matters": "significance",
    "Key payers covered": "key_payers_summary",
    "What readers will learn": "reader_takeaways",
    "Service type": "service_type",
    "Typical site of service": "site_of_service_summary",
}
SUMMARY_FIELDS = ("lead", "significance", "key_payers_summary", "reader_takeaways", "audience_note")
BRIEF_TEXT_FIELDS = (*LABELS.values(), *SUMMARY_FIELDS, "clinical_context")
MISSING = "Data not available in the input."


@dataclass
class Seed:
    """One seed brief, parsed into what it states."""

    code: str = ""
    title: str = ""
    labelled: dict = field(default_factory=dict)
    paragraphs: dict = field(default_factory=dict)  # section heading -> unlabelled paragraphs
    modifier_rows: list = field(default_factory=list)  # table rows as lists of cells
    missing_after: list = field(default_factory=list)  # brief fields followed by "Data not available"
    text: str = ""


def parse_seed(path) -> Seed:
    seed = Seed(text=path.read_text())
    section, last_label = None, None
    for raw in seed.text.splitlines():
        line = raw.strip()
        if not line or line == "-":
            continue
        if line in HEADINGS:
            section = line
            continue
        if title := re.fullmatch(r"CPT (\d{5}): (.+)", line):
            seed.code, seed.title = title.groups()
            continue
        if section == "Coding Specifications" and "|" in line:
            if not line.startswith("|"):  # the header row and the |---| rule start with a pipe
                cells = [cell.strip() for cell in line.split("|")]
                seed.modifier_rows.append(cells[:-1] if cells[-1] == "" else cells)
            continue
        if line == MISSING:
            seed.missing_after.append(last_label)
            continue
        label, _, rest = line.partition(": ")
        if label in LABELS:
            seed.labelled[LABELS[label]] = rest
            last_label = LABELS[label]
            continue
        seed.paragraphs.setdefault(section, []).append(line)
    assert seed.code, f"{path.name}: no 'CPT nnnnn: title' line"
    return seed


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip()) if s]


@pytest.fixture
def seeds(seeds_dir, demo):
    parsed = [parse_seed(path) for path in sorted(seeds_dir.glob("*.txt"))]
    assert sorted(seed.code for seed in parsed) == ["93590", "93592"]
    return parsed


def brief_of(code: str) -> CodeBrief:
    return CodeBrief.objects.get(code__code=code, revision_of=None)


def test_every_seed_sentence_is_in_the_curated_data(seeds):
    """Each sentence of each brief appears in the code's descriptor or brief text."""
    for seed in seeds:
        code = BillingCode.objects.get(code=seed.code)
        brief = brief_of(seed.code)
        curated = " ".join([code.long_descriptor, *(getattr(brief, name) for name in BRIEF_TEXT_FIELDS)])
        for paragraph in [*seed.labelled.values(), *(p for ps in seed.paragraphs.values() for p in ps)]:
            for sentence in sentences(paragraph):
                assert sentence in curated, f"{seed.code}: missing sentence {sentence!r}"


def test_labelled_lines_are_in_their_fields(seeds):
    """'Headline:', 'Lead:', 'Service type:' … lines are held word for word in the matching brief field."""
    for seed in seeds:
        brief = brief_of(seed.code)
        assert brief.title == seed.title
        assert BillingCode.objects.get(code=seed.code).short_descriptor == seed.title
        for name, text in seed.labelled.items():
            assert getattr(brief, name) == text, f"{seed.code}: {name}"


def test_sections_are_in_their_fields(seeds):
    """The overview paragraph is the full descriptor; the vignette is the clinical context; the summary
    paragraphs are the brief's summary text."""
    for seed in seeds:
        code = BillingCode.objects.get(code=seed.code)
        brief = brief_of(seed.code)
        assert seed.paragraphs["Billing Code Overview"] == [code.long_descriptor]
        assert seed.paragraphs["Clinical Context"] == [brief.clinical_context]
        summary = " ".join(getattr(brief, name) for name in SUMMARY_FIELDS if getattr(brief, name))
        for paragraph in seed.paragraphs.get("Summary & Overview", []):
            assert paragraph in summary, f"{seed.code}: summary paragraph missing"


def test_modifier_table_rows_are_the_modifier_guidance(seeds):
    """Every table row, in order, is a guidance row: '00 | No modifier' without a fake modifier, and 62."""
    for seed in seeds:
        rows = list(ModifierGuidance.objects.filter(code__code=seed.code).select_related("modifier"))
        assert [row.modifier_label for row in rows] == [cells[0] for cells in seed.modifier_rows]
        for row, cells in zip(rows, seed.modifier_rows, strict=True):
            if cells[0] == "00":
                assert row.modifier is None
            if len(cells) > 1:
                assert row.modifier_description == cells[1]
            if len(cells) > 2:
                assert row.when_to_use == cells[2]
            else:
                # The row breaks off in the seed: its guidance is a follow-up gap, not invented text.
                assert row.when_to_use == ""
                assert FollowUpGap.objects.filter(code=row.code, category=GapCategory.MODIFIERS).exists()
    assert ModifierGuidance.objects.get(code__code="93590", modifier=None).when_to_use == (
        "Standard reporting when no specific modifier applies"
    )
    assert ModifierGuidance.objects.get(code__code="93592", modifier__code="62").when_to_use == (
        "Use when two surgeons work together as primary surgeons during the procedure "
        "(rare for percutaneous PVL closure)."
    )


def test_sites_of_service_are_backed_by_the_seed_sentence(seeds):
    """Each structured site's note is a phrase of the brief's typical-site sentence, and its place of
    service is one the sentence names."""
    names = {"21": "inpatient", "22": "outpatient", "24": "ambulatory surgical center"}
    for seed in seeds:
        sentence = seed.labelled["site_of_service_summary"].lower()
        sites = BillingCode.objects.get(code=seed.code).sites_of_service.select_related("place_of_service")
        assert sites
        for site in sites:
            assert site.setting_note.lower() in sentence
            assert names[site.place_of_service.code] in sentence
            assert site.is_typical


def test_places_of_service(demo):
    """The places of service the briefs need exist with their CMS names; all three are facility settings."""
    assert list(PlaceOfService.objects.values_list("code", "name", "setting")) == [
        ("21", "Inpatient Hospital", SettingType.FACILITY),
        ("22", "On Campus-Outpatient Hospital", SettingType.FACILITY),
        ("24", "Ambulatory Surgical Center", SettingType.FACILITY),
    ]


def test_key_payers_and_their_criteria(seeds):
    """The five key payers named by the briefs exist, each with a researched-later criterion per brief code."""
    for seed in seeds:
        named = re.search(r"(?:payers: |include )(.+?)\.", seed.labelled.get("key_payers_summary") or seed.text)
        payer_names = [n.strip() for n in re.split(r", (?:and )?", named.group(1))]
        assert sorted(payer_names) == sorted(Payer.objects.values_list("name", flat=True))
        for payer in Payer.objects.all():
            criterion = CoverageCriterion.objects.get(code__code=seed.code, payer=payer)
            assert (criterion.coverage_status, criterion.prior_auth) == (CoverageStatus.UNKNOWN, PriorAuth.UNKNOWN)
            assert criterion.state == WorkflowState.PUBLISHED
    assert Payer.objects.get(name="Medicare").kind == "medicare"
    assert Payer.objects.get(name="Blue Cross Blue Shield").kind == "bcbs"


def test_add_on_relationships(demo):
    """93592 is an add-on code reported with 93590 (mitral) or 93591 (aortic)."""
    assert BillingCode.objects.get(code="93592").is_add_on
    assert not BillingCode.objects.get(code="93590").is_add_on
    assert sorted(
        CodeRelationship.objects.filter(from_code__code="93592", kind=RelationshipKind.ADD_ON_TO).values_list(
            "to_code__code", flat=True
        )
    ) == ["93590", "93591"]


def test_a_gap_for_everything_the_seeds_mark_missing(seeds):
    """'Data not available', payer-specific criteria, diagnostic coding, benchmarks and modifier usage
    supplied elsewhere each have an open follow-up gap on the code (criteria: one per payer)."""
    for seed in seeds:
        gaps = FollowUpGap.objects.filter(code__code=seed.code, status=GapStatus.OPEN)
        expected = {GapCategory.COVERAGE_CRITERIA, GapCategory.DIAGNOSIS_CODING, GapCategory.BENCHMARK}
        if "site_of_service_summary" in seed.missing_after:
            expected.add(GapCategory.SITE_OF_SERVICE)
            assert gaps.filter(category=GapCategory.SITE_OF_SERVICE, description__contains=MISSING).exists()
        if "(provided separately)" in seed.text or any(len(cells) < 3 for cells in seed.modifier_rows):
            expected.add(GapCategory.MODIFIERS)
        assert expected <= set(gaps.values_list("category", flat=True)), seed.code
        assert set(gaps.filter(category=GapCategory.COVERAGE_CRITERIA).values_list("payer__name", flat=True)) == set(
            Payer.objects.values_list("name", flat=True)
        )
    assert BillingCode.objects.get(code="93591").gaps.count() == 0


def test_briefs_are_published_and_approved_by_the_system_account(demo):
    """Demo briefs are published, approved by the inactive system account, with an approval time."""
    for brief in CodeBrief.objects.all():
        assert brief.state == WorkflowState.PUBLISHED
        assert brief.reviewed_by.username == SYSTEM_USERNAME
        assert not brief.reviewed_by.is_active
        assert brief.reviewed_at is not None
    assert sorted(CodeBrief.objects.values_list("code__code", flat=True)) == ["93590", "93592"]


def snapshot():
    """Rows, history rows and version counters of every curated model."""
    state = {}
    for model in apps.get_models():
        if issubclass(model, CuratedModel):
            state[model._meta.label] = (
                list(model.objects.order_by("pk").values_list("pk", "version", "updated_at")),
                model.history.count(),
            )
    return state


def test_second_run_changes_nothing(demo):
    """Running load_demo again creates and updates nothing: same rows, versions, history."""
    before = snapshot()
    tally = load_demo()
    assert (tally["created"], tally["updated"]) == (0, 0)
    assert tally["unchanged"] > 50
    assert snapshot() == before


def test_command_reports_what_it_did(db):
    """The command says how many rows it created, then on a second run that it created none."""
    first, second = StringIO(), StringIO()
    call_command("load_demo", stdout=first)
    call_command("load_demo", stdout=second)
    assert re.search(r"Demo data: [1-9]\d* created, 0 updated", first.getvalue())
    assert re.search(r"Demo data: 0 created, 0 updated, \d+ unchanged", second.getvalue())


def test_curator_edits_survive_another_run(demo, staff_user):
    """A criterion or gap a curator has changed is not reset by loading the demo again."""
    criterion = CoverageCriterion.objects.get(code__code="93590", payer__slug="aetna")
    criterion.coverage_status = CoverageStatus.COVERED_WITH_CRITERIA
    criterion.criteria = "Written by a curator."
    criterion.changed_by = staff_user
    criterion.save()
    gap = FollowUpGap.objects.filter(code__code="93590", category=GapCategory.DIAGNOSIS_CODING).get()
    gap.description = "Reworded by a curator."
    gap.changed_by = staff_user
    gap.save()
    gaps = FollowUpGap.objects.count()

    load_demo()

    criterion.refresh_from_db()
    gap.refresh_from_db()
    assert (criterion.coverage_status, criterion.criteria) == (
        CoverageStatus.COVERED_WITH_CRITERIA,
        "Written by a curator.",
    )
    assert gap.description == "Reworded by a curator."
    assert FollowUpGap.objects.count() == gaps


def test_untouched_rows_follow_corrected_content(demo, monkeypatch):
    """A row nobody edited since loading picks up a correction of the demo content on the next run."""
    guidance = ModifierGuidance.objects.get(code__code="93590", modifier=None)
    ModifierGuidance.objects.filter(pk=guidance.pk).update(when_to_use="Outdated wording")
    tally = load_demo()
    guidance.refresh_from_db()
    assert guidance.when_to_use == "Standard reporting when no specific modifier applies"
    assert tally["updated"] == 1
    assert guidance.version == 2
