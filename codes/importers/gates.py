"""Plausibility gates: what every import (command or admin) must pass before anything it did is kept.

A release file can be well formed line by line and still be wrong as a whole: cut short by a
failed download, an older release than the one loaded, a file that would end most of a code set.
Each gate here refuses such a file with a message naming the file, the line and what to do; the
import's transaction then rolls back, so the database is as it was. docs/imports.md lists the
gates and how a person overrides them knowingly.

- truncation: the last line must end with a line end and no quoted field may still be open at the
  end of the file (`check_line_end`, `check_quote_closed`); fixed-width layouts check their own
  record length and numbering where they read them (hcpcs_files.py, icd10cm.py); admin uploads pass the
  same CSV check (`codes/admin_imports.py`);
- release order: a release older than the newest one loaded for its code set is refused unless
  `--allow-older`, and even then leaves the rows of newer releases alone (`newer_releases`);
- mass change: a release that would terminate, or give new descriptors to, more than a share of
  the active rows of its code set is stopped before it commits (`mass_change_refusal`);
- termination dates: a code an import terminates always gets a date (`termination_date_for`).
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

from codes.importers.errors import ImportFileError

SAMPLE_SIZE = 20


@dataclass(frozen=True)
class Overrides:
    """What a person accepted knowingly for one import (command options, or the admin's confirmation)."""

    accept_terminations: bool = False
    allow_older: bool = False


class ImplausibleRelease(ImportFileError):
    """A well-formed file whose effect on the catalogue is not believable without a person's say-so."""


def check_line_end(raw: bytes, *, line: int, path) -> None:
    """The last line of a text file ends with a line end; a file cut short mid-line does not."""
    if not raw.endswith(b"\n"):
        raise ImportFileError(
            "the last line has no line end: the file looks cut short (an interrupted download or copy?); "
            "download the release again",
            line=line,
            path=path,
        )


class LineFeed:
    """Lines for csv.reader that remember whether the file ran out: a row the end of the file
    completed, rather than a line end, was cut inside a quoted field (`check_quote_closed`)."""

    def __init__(self, lines):
        self.lines = iter(lines)
        self.ended = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            return next(self.lines)
        except StopIteration:
            self.ended = True
            raise


def check_quote_closed(*, line: int, path) -> None:
    """Called when the file ended while a quoted field was still open."""
    raise ImportFileError(
        "the file ends inside a quoted field (its closing quote is missing): the file looks cut short; "
        "download it again",
        line=line,
        path=path,
    )


def newer_releases(*, kind: str, effective_date: date | None, checksum: str, overrides: Overrides) -> set[int]:
    """The ids of loaded releases of `kind` newer than this one; refuses an older release unless allowed."""
    from codes.models import CodeSetRelease

    if effective_date is None:
        return set()
    newer = CodeSetRelease.objects.filter(kind=kind, effective_date__gt=effective_date).exclude(checksum=checksum)
    newest = newer.order_by("-effective_date", "-pk").first()
    if newest is None:
        return set()
    if not overrides.allow_older:
        raise ImplausibleRelease(
            f"this release (effective {effective_date}) is older than {newest.name} (effective "
            f"{newest.effective_date}), already loaded: importing it would turn newer codes and descriptors "
            "back. Pass --allow-older to load it anyway; it then never terminates or rewrites codes a newer "
            "release has."
        )
    return set(newer.values_list("pk", flat=True))


def mass_change_refusal(run, overrides: Overrides) -> str | None:
    """Why this import changes too much of its code set to go ahead unconfirmed, or None.

    Shares are of the rows in scope that were active before the import (`BulkSync.active_before`);
    a code set's first load and changes below `IMPORT_MASS_CHANGE_MIN_ROWS` rows always pass.
    """
    if overrides.accept_terminations:
        return None
    reasons = []
    minimum = settings.IMPORT_MASS_CHANGE_MIN_ROWS
    for sync in run.syncs:
        if not sync.active_before:
            continue
        counts = run.counts.get(sync.label, {})
        keys = run.changed_keys.get(sync.label, {})
        checks = [("terminated", "terminated", settings.IMPORT_MAX_TERMINATED_SHARE)]
        if sync.descriptor_fields:
            checks.append(("descriptor changes", "given new descriptors", settings.IMPORT_MAX_REWRITTEN_SHARE))
        for outcome, verb, limit in checks:
            amount = counts.get(outcome, 0)
            if amount < minimum or amount <= limit * sync.active_before:
                continue
            sample = " ".join(keys.get(outcome, [])[:SAMPLE_SIZE])
            reasons.append(
                f"{sync.label}: {amount} of {sync.active_before} active would be {verb} "
                f"({amount / sync.active_before:.1%}, more than the {limit:.0%} allowed); first {SAMPLE_SIZE}: {sample}"
            )
    if not reasons:
        return None
    return (
        "the release would change too much of the catalogue to be taken on trust (a file cut short, or the "
        "wrong file?): " + "; ".join(reasons) + ". Nothing was written. Check the file; if these changes are "
        "right, run the import again with --accept-terminations."
    )


def termination_date_for(obj, release_date: date | None) -> date:
    """The date a code terminated by a release ends: the release's effective date (today without one),
    never before the code itself took effect."""
    ends = release_date or timezone.localdate()
    starts = getattr(obj, "effective_date", None)
    return max(ends, starts) if starts else ends
