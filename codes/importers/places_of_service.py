"""The CMS place-of-service code set, from a CSV with a header row (`code, name, pfs_setting, description`).

`pfs_setting` says whether the Medicare fee schedule pays the facility or the non-facility rate
there. Places of service have no status, so a code missing from a newer file is left as it is and
reported.
"""

import re
from pathlib import Path

from codes.choices import ReleaseKind, SettingType
from codes.importers.bulk_sync import BulkSync
from codes.importers.errors import ImportFileError
from codes.importers.gates import Overrides
from codes.importers.progress import Progress
from codes.importers.releases import ImportRun, release_import
from codes.importers.sources import open_checked, read_csv, sha256_of
from codes.importers.values import check_length
from codes.models import PlaceOfService

REQUIRED = ("code", "name", "pfs_setting")
POS_CODE = re.compile(r"[0-9]{1,2}")
SETTINGS = {
    "facility": SettingType.FACILITY,
    "non-facility": SettingType.NON_FACILITY,
    "non_facility": SettingType.NON_FACILITY,
    "nonfacility": SettingType.NON_FACILITY,
}
NAME_LENGTH = PlaceOfService._meta.get_field("name").max_length


def import_places_of_service(
    path,
    *,
    name: str | None = None,
    user=None,
    dry_run: bool = False,
    overrides: Overrides | None = None,
    progress_stream=None,
) -> ImportRun:
    path = open_checked(path)
    progress = Progress(path.stat().st_size, label="Place of service", stream=progress_stream)
    with release_import(
        kind=ReleaseKind.POS,
        name=name or f"Place of service ({Path(path).name})",
        effective_date=None,
        source_file=Path(path).name,
        checksum=sha256_of(path),
        user=user,
        dry_run=dry_run,
        overrides=overrides,
    ) as run:
        places = BulkSync(
            run, PlaceOfService, key=("code",), fields=("name", "setting", "description"), label="places of service"
        )
        for line, row in read_csv(path, required=REQUIRED, kind="place-of-service", progress=progress):
            code = row["code"]
            if not POS_CODE.fullmatch(code):
                raise ImportFileError(f"'{code}' is not a two-digit place-of-service code", line=line, field="code")
            setting = SETTINGS.get(row["pfs_setting"].lower())
            if setting is None:
                raise ImportFileError(
                    f"'{row['pfs_setting']}' is neither Facility nor Non-Facility", line=line, field="pfs_setting"
                )
            if not row["name"]:
                raise ImportFileError("the name is empty", line=line, field="name")
            places.feed(
                {
                    # Spreadsheet programs drop the leading zero of '01'.
                    "code": code.zfill(2),
                    "name": check_length(row["name"], NAME_LENGTH, line=line, field="name"),
                    "setting": setting,
                    "description": row.get("description", ""),
                },
                line=line,
            )
        progress.close()
        places.finish()
        missing = PlaceOfService.objects.exclude(code__in=list(places.seen_codes())).count()
        if missing:
            run.notes.append(f"{missing} place(s) of service in the database are not in this file; left as they were.")
    return run
