"""The CMS Alpha-Numeric HCPCS release: loads Level II procedure codes and modifiers.

Reads any of the three shapes CMS ships (`codes.importers.hcpcs_files`). Every code of the file is
kept, terminated ones included: a code whose termination date falls before the release's effective
date is stored as terminated. Codes an earlier release loaded and this one no longer lists are
marked terminated, never deleted.
"""

from datetime import date

from codes.choices import CodeStatus, CodeSystem, ModifierLevel, ReleaseKind
from codes.importers.bulk_sync import BulkSync
from codes.importers.gates import Overrides
from codes.importers.hcpcs_files import HcpcsFile, check_entry
from codes.importers.progress import Progress
from codes.importers.releases import ImportRun, release_import
from codes.importers.sources import sha256_of
from codes.models import BillingCode, Modifier


def import_hcpcs(
    path,
    *,
    effective_date: date | None = None,
    encoding: str = "latin-1",
    user=None,
    dry_run: bool = False,
    overrides: Overrides | None = None,
    progress_stream=None,
) -> ImportRun:
    """Load a HCPCS release file into the billing codes and modifiers; returns what it did."""
    release_file = HcpcsFile.open(path, effective_date=effective_date, encoding=encoding)
    unit = "row" if release_file.shape == "xlsx" else "line"
    progress = Progress(release_file.path.stat().st_size, label="HCPCS", stream=progress_stream)
    action_fields = ("action_code", "action_effective_date") if release_file.has_action_fields else ()
    with release_import(
        kind=ReleaseKind.HCPCS,
        name=release_file.name,
        effective_date=release_file.effective_date,
        source_file=release_file.path.name,
        checksum=sha256_of(release_file.path),
        user=user,
        dry_run=dry_run,
        overrides=overrides,
    ) as run:
        codes = BulkSync(
            run,
            BillingCode,
            key=("code",),
            fields=(
                "short_descriptor",
                "long_descriptor",
                "status",
                "effective_date",
                "add_date",
                "termination_date",
                "coverage_code",
                "type_of_service",
                *action_fields,
            ),
            label="billing codes",
            scope={"system": CodeSystem.HCPCS},
            defaults={"system": CodeSystem.HCPCS},
            descriptor_fields=("short_descriptor", "long_descriptor"),
        )
        modifiers = BulkSync(
            run,
            Modifier,
            key=("code",),
            fields=(
                "description",
                "long_description",
                "level",
                "status",
                "effective_date",
                "termination_date",
                *action_fields,
            ),
            label="modifiers",
            descriptor_fields=("description", "long_description"),
        )
        for entry in release_file.entries(progress):
            check_entry(entry, unit)
            terminated = entry.termination_date is not None and entry.termination_date < release_file.effective_date
            common = {
                "code": entry.code,
                "status": CodeStatus.TERMINATED if terminated else CodeStatus.ACTIVE,
                "effective_date": entry.add_date,
                "termination_date": entry.termination_date,
            }
            if action_fields:
                common.update(action_code=entry.action_code, action_effective_date=entry.action_date)
            if entry.kind == "procedure":
                record = {
                    **common,
                    "short_descriptor": entry.short,
                    "long_descriptor": entry.long_description,
                    "add_date": entry.add_date,
                    "coverage_code": entry.coverage_code,
                    "type_of_service": entry.type_of_service,
                }
                codes.feed(record, line=entry.line)
            else:
                record = {
                    **common,
                    "description": entry.short,
                    "long_description": entry.long_description,
                    "level": ModifierLevel.HCPCS,
                }
                modifiers.feed(record, line=entry.line)
        progress.close()
        codes.terminate_missing()
        if modifiers.seen:
            modifiers.terminate_missing(scope={"level": ModifierLevel.HCPCS})
        else:
            run.notes.append("The file lists no modifiers; modifiers were left as they were.")
    return run
