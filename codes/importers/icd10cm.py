"""ICD-10-CM releases: the CMS order file, or the release bundled in the `simple-icd-10-cm` package.

Every code of a release is kept, header rows (categories such as I25, non-billable) included, with
the order number CMS sorts them by. Codes an earlier release loaded and this one no longer lists
are marked terminated, never deleted.

The CMS order file (`icd10cm_order_<year>.txt`) is fixed width: order number (columns 1-5), code
without its dot (7-13), 1 for a billable code or 0 for a header (15), short description (17-76) and
long description (78 to the end).

The package ships the CDC tabular list as XML with a list of every valid code. It is read here as a
stream rather than through the package's API, which builds the whole tree in memory (about 200 MB)
on import. The tabular list spells out codes to six characters; seventh-character codes (S00.00XA)
are derived from the `sevenChrDef` of the code or its nearest ancestor, exactly as the package does,
and kept only where the list of valid codes names them.
"""

import hashlib
import importlib.metadata
import importlib.util
import re
import xml.etree.ElementTree as ET  # noqa: S405 - the package's own data file, not user input
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from codes.choices import CodeStatus, ReleaseKind
from codes.importers.bulk_sync import BulkSync
from codes.importers.errors import ImportFileError
from codes.importers.gates import Overrides
from codes.importers.progress import NoProgress, Progress
from codes.importers.releases import ImportRun, release_import
from codes.importers.sources import open_checked, read_lines, sha256_of
from codes.importers.values import check_length
from codes.models import DiagnosisCode

PACKAGE = "simple-icd-10-cm"
PACKAGE_MODULE = "simple_icd_10_cm"
# As the diagnosiscode_format constraint: FY2026 added codes with a letter second (QA0).
CODE = re.compile(r"[A-Z][0-9A-Z][0-9A-Z][0-9A-Z]{0,4}")
SHORT_DESCRIPTION_LENGTH = DiagnosisCode._meta.get_field("short_description").max_length
# Position of the fields of the order file (0-based slices), and the blanks between them.
ORDER, CODE_FIELD, BILLABLE, SHORT, LONG_START = slice(0, 5), slice(6, 13), 14, slice(16, 76), 77
SEPARATORS = (5, 13, 15)


@dataclass
class DiagnosisEntry:
    """One code of a release: its order number, code without dot, billable flag and descriptions."""

    order_number: int
    code: str
    is_billable: bool
    description: str
    short_description: str = ""
    line: int | None = None


@dataclass
class IcdRelease:
    name: str
    effective_date: date | None
    source_file: str
    checksum: str


def order_file_release(path: Path, effective_date: date | None) -> IcdRelease:
    """The release an order file holds: FY2026 ('icd10cm_order_2026.txt') starts on 1 October 2025."""
    match = re.search(r"(20\d\d)", path.name)
    fiscal_year = int(match.group(1)) if match else None
    if effective_date is None and fiscal_year:
        effective_date = date(fiscal_year - 1, 10, 1)
    if effective_date is None:
        raise ImportFileError("cannot tell the release from the file name; pass --effective-date YYYY-MM-DD", path=path)
    name = f"ICD-10-CM FY{fiscal_year}" if fiscal_year else f"ICD-10-CM {effective_date}"
    if fiscal_year and effective_date != date(fiscal_year - 1, 10, 1):
        name += f" ({effective_date:%B %Y} update)"
    return IcdRelease(name=name, effective_date=effective_date, source_file=path.name, checksum=sha256_of(path))


def read_order_file(
    path: Path, *, encoding: str = "utf-8", progress: Progress | None = None
) -> Iterator[DiagnosisEntry]:
    """Yield the codes of a CMS order file, checking layout, order and values line by line."""
    previous = 0
    count = 0
    for number, line in read_lines(path, encoding=encoding, progress=progress):
        if not line.strip():
            continue
        if len(line) <= LONG_START or not line[ORDER].strip().isdigit() or any(line[i] != " " for i in SEPARATORS):
            if count == 0:
                raise ImportFileError(
                    "not an ICD-10-CM order file: a line holds a five-digit order number, the code, "
                    "a 0/1 billable flag and the descriptions in fixed columns",
                    line=number,
                )
            raise ImportFileError(
                f"the line does not follow the order-file layout ({len(line)} characters; "
                "a truncated or shifted line?)",
                line=number,
            )
        order_number = int(line[ORDER])
        if order_number != previous + 1:
            # CMS numbers the codes 1, 2, 3, ...: a gap means lost lines, a step back shuffled ones.
            raise ImportFileError(
                f"order number {order_number} follows {previous}: the numbers run one by one, so lines are "
                + ("missing" if order_number > previous else "out of order"),
                line=number,
                field="order number",
            )
        previous = order_number
        code = check_code(line[CODE_FIELD].strip(), line=number)
        flag = line[BILLABLE]
        if flag not in "01":
            raise ImportFileError(
                f"'{flag}' is neither 1 (billable) nor 0 (header)", line=number, field="billable flag"
            )
        description = line[LONG_START:].strip()
        if not description:
            raise ImportFileError(f"{code} has no description", line=number, field="long description")
        short = check_length(line[SHORT].strip(), SHORT_DESCRIPTION_LENGTH, line=number, field="short description")
        count += 1
        yield DiagnosisEntry(order_number, code, flag == "1", description, short, line=number)
    if count == 0:
        raise ImportFileError("the file holds no ICD-10-CM codes")


def check_code(code: str, *, line: int | None) -> str:
    if not CODE.fullmatch(code):
        raise ImportFileError(
            f"'{code}' is not an ICD-10-CM code (3 to 7 letters and digits, without the dot)", line=line, field="code"
        )
    return code


def bundled_files() -> tuple[Path, Path]:
    """The tabular XML and the list of valid codes shipped in the installed package."""
    spec = importlib.util.find_spec(PACKAGE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportFileError(f"the {PACKAGE} package is not installed; give the path of a CMS order file")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    tabular = sorted(data.glob("icd10c*-tabular-*.xml"))
    codes = sorted(data.glob("code-list-*.txt"))
    if not tabular or not codes:
        raise ImportFileError(f"the {PACKAGE} package has no tabular list in {data}")
    return tabular[-1], codes[-1]


def bundled_release() -> IcdRelease:
    tabular, code_list = bundled_files()
    digest = hashlib.sha256()
    for path in (tabular, code_list):
        digest.update(bytes.fromhex(sha256_of(path)))
    # 'icd10c-tabular-April-1-2026.xml': the file's own date is the release's.
    match = re.search(r"([A-Za-z]+)-(\d{1,2})-(\d{4})", tabular.name)
    effective = datetime.strptime("-".join(match.groups()), "%B-%d-%Y").date() if match else None
    fiscal_year = effective.year + (1 if effective and effective.month >= 10 else 0) if effective else None
    name = f"ICD-10-CM FY{fiscal_year}" if fiscal_year else "ICD-10-CM"
    if effective and effective.month != 10:
        name += f" ({effective:%B %Y} update)"
    version = importlib.metadata.version(PACKAGE)
    return IcdRelease(
        name=name,
        effective_date=effective,
        source_file=f"{PACKAGE} {version}: {tabular.name}",
        checksum=digest.hexdigest(),
    )


@dataclass
class _Diag:
    """A <diag> element being read: what its descendants inherit and whether it was emitted."""

    name: str = ""
    description: str = ""
    inherited_extensions: dict | None = None
    own_extensions: dict | None = None
    has_children: bool = False
    emitted: bool = False
    children_extensions: dict | None = field(default=None)


def read_bundled(progress: Progress | None = None) -> Iterator[DiagnosisEntry]:
    """Yield every code of the bundled release in tabular order, numbered like the CMS order file."""
    progress = progress or NoProgress()
    tabular, code_list = bundled_files()
    progress.total = tabular.stat().st_size
    valid = {line.split(" ")[0].replace(".", "") for line in code_list.read_text(encoding="utf-8").splitlines()}
    order = 0
    stack: list[_Diag] = []
    tags: list[str] = []

    def emit(diag: _Diag, billable: bool) -> DiagnosisEntry:
        nonlocal order
        order += 1
        diag.emitted = True
        return DiagnosisEntry(order, diag.name.replace(".", ""), billable, diag.description)

    with open(tabular, "rb") as handle:
        for event, element in _events(handle, tabular):
            tag = element.tag
            if event == "start":
                parent = tags[-1] if tags else None
                tags.append(tag)
                if tag == "diag":
                    inherited = None
                    if stack:
                        outer = stack[-1]
                        outer.has_children = True
                        if not outer.emitted:
                            yield emit(outer, billable=False)
                        inherited = outer.children_extensions
                    stack.append(_Diag(inherited_extensions=inherited, children_extensions=inherited))
                continue
            tags.pop()
            parent = tags[-1] if tags else None
            if parent == "diag" and stack:
                current = stack[-1]
                if tag == "name":
                    current.name = (element.text or "").strip()
                elif tag == "desc":
                    current.description = (element.text or "").strip()
                elif tag == "sevenChrDef":
                    current.own_extensions = _extensions(element)
                    # Only children listed after the definition inherit it, as in the package.
                    current.children_extensions = current.own_extensions
            if tag == "diag":
                diag = stack.pop()
                if not diag.has_children:
                    extensions = diag.own_extensions or diag.inherited_extensions or {}
                    derived = list(_extended_codes(diag, extensions, valid))
                    yield emit(diag, billable=not derived)
                    for code, description in derived:
                        order += 1
                        yield DiagnosisEntry(order, code, True, description)
                element.clear()
            elif tag == "chapter":
                element.clear()
                progress.advance(handle.tell() - progress.done)
    progress.close()


def _events(handle, path: Path):
    """The XML's start and end events; a damaged or cut-short file is refused at its line."""
    try:
        yield from ET.iterparse(handle, events=("start", "end"))  # noqa: S314
    except ET.ParseError as exc:
        raise ImportFileError(
            f"the tabular list is damaged or cut short ({exc.msg}); reinstall {PACKAGE}",
            path=path,
            line=exc.position[0],
        ) from None


def _extensions(element) -> dict[str, str]:
    extensions: dict[str, str] = {}
    last = None
    for child in element:
        if child.tag == "extension":
            last = child.attrib["char"]
            extensions[last] = child.text or ""
        elif child.tag == "note" and last is not None and child.text:
            extensions[last] += "/" + child.text
    return extensions


def _extended_codes(diag: _Diag, extensions: dict[str, str], valid: set[str]) -> Iterator[tuple[str, str]]:
    """Seventh-character codes of a leaf: padded with the placeholder X to six characters."""
    if not extensions:
        return
    base = diag.name.replace(".", "").ljust(6, "X")
    for char, meaning in extensions.items():
        if base + char in valid:
            yield base + char, f"{diag.description}, {meaning}"


def import_icd10cm(
    path=None,
    *,
    effective_date: date | None = None,
    encoding: str = "utf-8",
    user=None,
    dry_run: bool = False,
    overrides: Overrides | None = None,
    progress_stream=None,
    limit: int | None = None,
) -> ImportRun:
    """Load an ICD-10-CM release (an order file, or the bundled one without a path).

    `limit` loads only the first codes of the release (for trials); it never terminates codes,
    since a partial release says nothing about the codes it leaves out.
    """
    if path is not None:
        path = open_checked(path)
        release = order_file_release(path, effective_date)
        progress = Progress(path.stat().st_size, label="ICD-10-CM", stream=progress_stream)
        entries = read_order_file(path, encoding=encoding, progress=progress)
    else:
        release = bundled_release()
        if effective_date:
            release.effective_date = effective_date
        progress = Progress(1, label="ICD-10-CM", stream=progress_stream)
        entries = read_bundled(progress)
    if limit is not None:
        release.name = f"{release.name} (first {limit} codes)"
        release.checksum = hashlib.sha256(f"{release.checksum}:{limit}".encode()).hexdigest()
    with release_import(
        kind=ReleaseKind.ICD10CM,
        name=release.name,
        effective_date=release.effective_date,
        source_file=release.source_file,
        checksum=release.checksum,
        user=user,
        dry_run=dry_run,
        overrides=overrides,
    ) as run:
        codes = BulkSync(
            run,
            DiagnosisCode,
            key=("code",),
            fields=("short_description", "description", "is_billable", "order_number", "status", "termination_date"),
            label="diagnosis codes",
            descriptor_fields=("short_description", "description"),
        )
        for count, entry in enumerate(entries, start=1):
            if limit is not None and count > limit:
                break
            codes.feed(
                {
                    "code": check_code(entry.code, line=entry.line),
                    "short_description": entry.short_description,
                    "description": entry.description,
                    "is_billable": entry.is_billable,
                    "order_number": entry.order_number,
                    "status": CodeStatus.ACTIVE,
                    "termination_date": None,
                },
                line=entry.line,
            )
        progress.close()
        if limit is None:
            codes.terminate_missing()
        else:
            codes.finish()
            run.notes.append(f"Only the first {limit} codes were loaded; no code was terminated.")
    return run
