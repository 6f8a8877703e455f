"""The synthetic payer side of the scale data set, written by COPY: payers, policy documents,
coverage criteria with diagnosis links, documentation requirements and gaps.

Deterministic: the same `criteria` always gives the same rows. Each generator yields dicts of
column values; columns it leaves out take the model's default.
"""

import random
from datetime import UTC, date, datetime, timedelta
from itertools import chain

from django.apps import apps
from django.db import connection

from codes.models import BillingCode, DiagnosisCode
from payers import choices
from payers.models import Payer

PAYERS = 300
POLICIES_PER_PAYER = 10
PAYERS_PER_CODE = 25
# Every 10th criterion also supports one common diagnosis (as E11.9 or I10 turn up across many
# policies), so that a diagnosis filter reads a full page at 1k rows as at 1M.
COMMON_DIAGNOSIS_EVERY = 10
# At least this many gaps in any data set, and half of them open, so that the open worklist fills
# an API page at 1k rows as at 1M.
MIN_GAPS = 200
# Two periods per code and payer that never overlap (the exclusion constraint refuses overlaps).
PERIODS = ((date(2020, 1, 1), date(2023, 12, 31)), (date(2024, 1, 1), None))
HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
HISTORY_SPAN_SECONDS = 2 * 365 * 24 * 3600
VOCABULARY = (
    "transesophageal echocardiography documents the defect anatomy and the patient is at prohibitive surgical "
    "risk heart team evaluation symptomatic regurgitation despite medical therapy catheter closure device "
    "imaging guidance fluoroscopy prior treatment failed conservative management functional class"
)
WORDS = VOCABULARY.split()
TABLES = (
    "payers_payer",
    "payers_policydocument",
    "payers_coveragecriterion",
    "payers_coveragecriterion_diagnosis_codes",
    "payers_documentationrequirement",
    "payers_followupgap",
)


def stamp(number: int) -> datetime:
    """A time between 2024 and 2026 that spreads rows evenly (deterministic in `number`)."""
    return HISTORY_START + timedelta(seconds=(number * 7919) % HISTORY_SPAN_SECONDS)


def copy_rows(table: str, rows) -> int:
    """COPY the dicts `rows` (all with the same keys) into `table`; other columns take their default."""
    model = next(model for model in apps.get_models(include_auto_created=True) if model._meta.db_table == table)
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    columns = tuple(first)
    rest = [field for field in model._meta.concrete_fields if field.column not in columns and not field.primary_key]
    defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in rest)
    names = ", ".join((*columns, *(field.column for field in rest)))
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in chain([first], rows):
            copy.write_row((*row.values(), *defaults))
            count += 1
    return count


class Synthetic:
    """The synthetic rows for a data set of `criteria` published coverage criteria."""

    def __init__(self, criteria: int, code_ids: list[int] | None = None, diagnosis_ids: list[int] | None = None):
        """`code_ids` and `diagnosis_ids` default to the database's codes and billable diagnoses."""
        self.criteria = criteria
        self.pairs = criteria // len(PERIODS)
        self.rng = random.Random(15)
        if code_ids is None:
            code_ids = list(BillingCode.objects.order_by("code", "id").values_list("id", flat=True))
        if diagnosis_ids is None:
            diagnosis_ids = list(
                DiagnosisCode.objects.filter(is_billable=True).order_by("code").values_list("id", flat=True)
            )
        self.code_ids, self.diagnosis_ids = code_ids, diagnosis_ids
        self.payer_ids = list(range(1, PAYERS + 1))
        self.policy_ids = {
            payer: [n * POLICIES_PER_PAYER + k + 1 for k in range(POLICIES_PER_PAYER)]
            for n, payer in enumerate(self.payer_ids)
        }

    def sentence(self, words: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    def pair(self, j: int) -> tuple[int, int]:
        """The j-th (code, payer) pair: codes in code order, each with 25 payers.

        The first payer (first by name too, as a national payer with a policy on every code) is
        each code's first; the other 24 are spread over the 299 others: 12 (r - 1) + code index
        repeats modulo 299 for no r from 1 to 24, so no pair comes twice. The first code has 50
        criteria in every data set; the first payer two per code (40 at 1k rows, 40,000 at 1M).
        """
        code_index, rounds = divmod(j, PAYERS_PER_CODE)
        code = self.code_ids[code_index % len(self.code_ids)]
        if rounds == 0:
            return code, self.payer_ids[0]
        return code, self.payer_ids[1 + (12 * (rounds - 1) + code_index) % (PAYERS - 1)]

    def payers(self):
        kinds = choices.PayerKind.values
        for n, pk in enumerate(self.payer_ids):
            yield {
                "id": pk,
                "created_at": stamp(pk),
                "updated_at": stamp(pk),
                "name": f"Payer {n:03d} Health Plan",
                "slug": f"payer-{n:03d}",
                "kind": kinds[n % len(kinds)],
                "is_national": n % 3 == 0,
                "is_tracked": n % 2 == 0,
                "website": f"https://payer-{n:03d}.example",
            }

    def policies(self):
        for n, payer in enumerate(self.payer_ids):
            for k, pk in enumerate(self.policy_ids[payer]):
                yield {
                    "id": pk,
                    "created_at": stamp(pk),
                    "updated_at": stamp(pk),
                    "state": "published",
                    "reviewed_at": stamp(pk),
                    "payer_id": payer,
                    "number": f"MP-{n:03d}-{k:02d}",
                    "title": f"Cardiac procedures policy {k} of payer {n:03d}",
                    "effective_date": date(2024, 1 + k, 1),
                }

    def coverage(self):
        statuses, auths = choices.CoverageStatus.values, choices.PriorAuth.values
        pk = 0
        for j in range(self.pairs):
            code, payer = self.pair(j)
            for start, end in PERIODS:
                pk += 1
                when = stamp(pk)
                yield {
                    "id": pk,
                    "created_at": when,
                    "updated_at": when,
                    "state": "published",
                    "reviewed_at": when,
                    "code_id": code,
                    "payer_id": payer,
                    "coverage_status": statuses[pk % len(statuses)],
                    "prior_auth": auths[pk % len(auths)],
                    "criteria": self.sentence(24),
                    "limitations": self.sentence(8),
                    "policy_id": self.rng.choice(self.policy_ids[payer]),
                    "effective_start": start,
                    "effective_end": end,
                    "last_verified": when.date() if pk % 4 else None,
                }

    def diagnosis_links(self):
        known = self.diagnosis_ids
        step = max(1, len(known) // 7)
        common = known[0]
        for criterion in range(1, self.pairs * len(PERIODS) + 1):
            first = 1 + (criterion * 37) % (len(known) - 1)
            yield {"coveragecriterion_id": criterion, "diagnosiscode_id": known[first]}
            yield {"coveragecriterion_id": criterion, "diagnosiscode_id": known[1 + (first + step) % (len(known) - 1)]}
            if criterion % COMMON_DIAGNOSIS_EVERY == 1:
                yield {"coveragecriterion_id": criterion, "diagnosiscode_id": common}

    def requirements(self):
        kinds, levels = choices.DocumentationKind.values, choices.RequirementLevel.values
        purposes = ["", *choices.DocumentationPurpose.values]
        for pk in range(1, self.criteria // 5 + 1):
            code, payer = self.pair(pk % self.pairs)
            when = stamp(pk * 3)
            every_payer = pk % 10 == 0
            yield {
                "id": pk,
                "created_at": when,
                "updated_at": when,
                "state": "published",
                "reviewed_at": when,
                "code_id": code,
                "payer_id": None if every_payer else payer,
                "kind": kinds[pk % len(kinds)],
                "text": self.sentence(14),
                "level": levels[pk % 2],
                "purpose": purposes[pk % len(purposes)],
                "policy_id": None if every_payer else self.rng.choice(self.policy_ids[payer]),
            }

    def gaps(self):
        categories, statuses = choices.GapCategory.values, choices.GapStatus.values
        closed = {choices.GapStatus.RESOLVED, choices.GapStatus.WONT_FIX}
        for pk in range(1, max(self.criteria // 20, MIN_GAPS) + 1):
            code, payer = self.pair((pk * 13) % self.pairs)
            when = stamp(pk * 5)
            # Half open (the worklist), the rest spread over the other statuses.
            status = choices.GapStatus.OPEN if pk % 2 else statuses[1 + pk // 2 % (len(statuses) - 1)]
            yield {
                "id": pk,
                "created_at": when,
                "updated_at": when,
                "code_id": code,
                "payer_id": payer,
                "category": categories[pk % len(categories)],
                "description": self.sentence(12),
                "status": status,
                "priority": 1 + pk % 3,
                "due_date": date(2026, 1, 1) + timedelta(days=pk % 700),
                "opened_at": when,
                "resolved_at": when if status in closed else None,
                "state": "published",
            }


def write_synthetic(criteria: int, step) -> dict:
    """Write every synthetic table (into an empty payer side); `step(label)` reports progress."""
    if Payer.objects.exists():
        raise RuntimeError("The scale data set's payers are written into a database without payers.")
    rows = Synthetic(criteria)
    counts = {
        "payers": copy_rows("payers_payer", rows.payers()),
        "policy documents": copy_rows("payers_policydocument", rows.policies()),
    }
    step("payers and policy documents")
    counts["coverage criteria"] = copy_rows("payers_coveragecriterion", rows.coverage())
    step(f"{counts['coverage criteria']:,} coverage criteria")
    counts["diagnosis links"] = copy_rows("payers_coveragecriterion_diagnosis_codes", rows.diagnosis_links())
    step(f"{counts['diagnosis links']:,} criterion-diagnosis links")
    counts["documentation requirements"] = copy_rows("payers_documentationrequirement", rows.requirements())
    counts["gaps"] = copy_rows("payers_followupgap", rows.gaps())
    step("documentation requirements and gaps")
    with connection.cursor() as cursor:
        for table in TABLES:
            # Ids were given explicitly: move each sequence past them.
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608 - our table names
            )
    return counts
