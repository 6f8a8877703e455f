"""Reading a CMS Alpha-Numeric HCPCS release: Level II procedure codes and modifiers, as entries.

CMS ships one release in three shapes, all read here:

- the fixed-width `HCPC<year>_CONTR_ANWEB*.txt` (ISO-8859-1, CRLF, 320 columns, disclaimer lines
  before the first record). Record type 3 starts a procedure code and 4 continues its long
  description; 7 and 8 do the same for modifiers. Layout: `HCPCS<year>_recordlayout.txt`.
- its `.xlsx` twin: the same records as rows under a header row (HCPC, SEQNUM, RECID, ...).
- a CSV with a header row (`code, short_description, long_description, ...`), as third parties
  convert quarterly releases.

Nothing here writes: `codes.importers.hcpcs` loads the entries into the catalogue.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from codes.importers.errors import ImportFileError
from codes.importers.progress import NoProgress, Progress
from codes.importers.sources import is_spreadsheet, open_checked, read_csv, read_lines, read_xlsx
from codes.importers.values import check_choice, check_pattern, parse_date

PROCEDURE, PROCEDURE_MORE, MODIFIER, MODIFIER_MORE = "3", "4", "7", "8"
FIRST_RECORDS = {PROCEDURE: "procedure", MODIFIER: "modifier"}
CONTINUES = {PROCEDURE_MORE: PROCEDURE, MODIFIER_MORE: MODIFIER}

PROCEDURE_CODE = re.compile(r"[A-Z][0-9]{4}")
MODIFIER_CODE = re.compile(r"[A-Z0-9]{2}")
# Code (or three blanks and a modifier) and a five-digit sequence number: what every record starts with.
RECORD_START = re.compile(r"(?:[A-Z0-9]{5}| {3}[A-Z0-9]{2})[0-9]{4,5}")
ACTION_CODES = set("ABCDFNPRST")
COVERAGE_CODES = set("CDIMS")
DATE_FORMATS = ("YYYYMMDD",)
CSV_DATE_FORMATS = ("YYYYMMDD", "YYYY-MM-DD")
HEADER_MAX_LINES = 50

RELEASE_MONTHS = {"jan": 1, "apr": 4, "jul": 7, "oct": 10}
MONTH_NAMES = {1: "January", 4: "April", 7: "July", 10: "October"}


@dataclass(frozen=True)
class Column:
    """A field of the fixed-width layout, with the 1-based columns the layout document gives."""

    name: str
    start: int
    end: int

    def cut(self, line: str) -> str:
        return line[self.start - 1 : self.end].strip()


CODE = Column("HCPCS code", 1, 5)
SEQUENCE = Column("sequence number", 6, 10)
RECORD_ID = Column("record identification code", 11, 11)
LONG = Column("long description", 12, 91)
SHORT = Column("short description", 92, 119)
COVERAGE = Column("coverage code", 230, 230)
TYPE_OF_SERVICE = Column("type of service", 261, 265)
ADD_DATE = Column("code added date", 269, 276)
ACTION_DATE = Column("action effective date", 277, 284)
TERMINATION_DATE = Column("termination date", 285, 292)
ACTION_CODE = Column("action code", 293, 293)
FIRST_RECORD_LENGTH = ACTION_CODE.end

XLSX_COLUMNS = {
    "HCPC": CODE,
    "SEQNUM": SEQUENCE,
    "RECID": RECORD_ID,
    "LONG DESCRIPTION": LONG,
    "SHORT DESCRIPTION": SHORT,
    "COV": COVERAGE,
    "ADD DT": ADD_DATE,
    "ACT EFF DT": ACTION_DATE,
    "TERM DT": TERMINATION_DATE,
    "ACTION CD": ACTION_CODE,
}
XLSX_TYPE_OF_SERVICE = ("TOS1", "TOS2", "TOS3", "TOS4", "TOS5")


@dataclass
class HcpcsEntry:
    """One procedure code or modifier of the release, its long description reassembled."""

    kind: str
    code: str
    line: int
    short: str = ""
    long_parts: list[str] = field(default_factory=list)
    coverage_code: str = ""
    type_of_service: str = ""
    add_date: date | None = None
    action_date: date | None = None
    termination_date: date | None = None
    action_code: str = ""
    sequence: int = 0

    @property
    def long_description(self) -> str:
        return " ".join(part for part in self.long_parts if part)


@dataclass
class HcpcsFile:
    """A HCPCS release file: where it is, which shape it has, and what release it holds."""

    path: Path
    shape: str
    name: str
    effective_date: date
    encoding: str = "latin-1"

    @classmethod
    def open(cls, path, *, effective_date: date | None = None, encoding: str = "latin-1") -> "HcpcsFile":
        path = open_checked(path)
        if is_spreadsheet(path):
            shape = "xlsx"
        elif path.suffix.lower() == ".csv":
            shape = "csv"
        else:
            shape = "fixed-width"
        name, named_date = release_from_file_name(path.name)
        effective_date = effective_date or named_date
        if effective_date is None:
            raise ImportFileError(
                "cannot tell the release's effective date from the file name; pass --effective-date YYYY-MM-DD",
                path=path,
            )
        if named_date is None or named_date != effective_date:
            name = f"HCPCS {effective_date:%Y-%m-%d}"
        return cls(path=path, shape=shape, name=name, effective_date=effective_date, encoding=encoding)

    def entries(self, progress: Progress | None = None) -> Iterator[HcpcsEntry]:
        progress = progress or NoProgress()
        if self.shape == "csv":
            return read_csv_entries(self.path, progress=progress)
        if self.shape == "xlsx":
            return assemble(read_xlsx_records(self.path, progress=progress), unit="row")
        return assemble(read_fixed_width_records(self.path, encoding=self.encoding, progress=progress))

    @property
    def has_action_fields(self) -> bool:
        return self.shape != "csv"


def release_from_file_name(name: str) -> tuple[str, date | None]:
    """'HCPC2019_CONTR_ANWEB.txt' is the 2019 annual release; 'hcpcs_2026_jan.csv' January 2026."""
    quarterly = re.search(r"(20\d\d)[_-]?(jan|apr|jul|oct)", name, re.IGNORECASE)
    if quarterly:
        year, month = int(quarterly.group(1)), RELEASE_MONTHS[quarterly.group(2).lower()]
        return f"HCPCS {year} {MONTH_NAMES[month]}", date(year, month, 1)
    annual = re.search(r"HCPCS?[_-]?(20\d\d)", name, re.IGNORECASE)
    if annual:
        year = int(annual.group(1))
        return f"HCPCS {year}", date(year, 1, 1)
    return f"HCPCS ({name})", None


@dataclass
class RawRecord:
    """One physical record of the fixed-width file or one row of the workbook, not yet checked."""

    line: int
    values: dict[Column, str]
    type_of_service: str = ""

    def __getitem__(self, column: Column) -> str:
        return self.values.get(column, "")


def read_fixed_width_records(path: Path, *, encoding: str, progress: Progress) -> Iterator[RawRecord]:
    started = False
    for number, line in read_lines(path, encoding=encoding, progress=progress):
        if not line.strip():
            continue
        if not started:
            if not RECORD_START.match(line):
                # The disclaimer lines CMS puts before the first record.
                if number > HEADER_MAX_LINES:
                    raise ImportFileError(
                        f"no HCPCS record in the first {HEADER_MAX_LINES} lines: a record starts with a "
                        "five-character code and a sequence number; is this a CMS HCPCS file?",
                        line=1,
                    )
                continue
            started = True
        if not RECORD_START.match(line):
            raise ImportFileError(
                "not a HCPCS record: columns 1-10 must hold the code and its sequence number "
                "(a shifted or broken line?)",
                line=number,
            )
        record_id = RECORD_ID.cut(line)
        # Every record of the layout, continuations too, is padded to 320 columns (one real 2019
        # record has 316): one shorter than the action code's column was cut.
        if len(line) < FIRST_RECORD_LENGTH:
            raise ImportFileError(
                f"the record is {len(line)} characters long; a type {record_id or '?'} record runs to the "
                f"{ACTION_CODE.name} in column {ACTION_CODE.end} (a truncated line?)",
                line=number,
            )
        columns = (CODE, SEQUENCE, RECORD_ID, LONG, SHORT, COVERAGE, ADD_DATE, ACTION_DATE, TERMINATION_DATE)
        values = {column: column.cut(line) for column in columns}
        values[CODE] = line[:5]
        values[ACTION_CODE] = ACTION_CODE.cut(line)
        yield RawRecord(line=number, values=values, type_of_service=TYPE_OF_SERVICE.cut(line))


def read_xlsx_records(path: Path, *, progress: Progress) -> Iterator[RawRecord]:
    rows = read_xlsx(path, progress=progress)
    positions = None
    for number, cells in rows:
        if positions is None:
            names = [cell.strip().upper() for cell in cells]
            if names and names[0] == "HCPC":
                missing = [name for name in (*XLSX_COLUMNS, *XLSX_TYPE_OF_SERVICE) if name not in names]
                if missing:
                    raise ImportFileError(
                        f"the header row lacks the column(s) {', '.join(missing)} of the CMS HCPCS workbook",
                        line=number,
                        unit="row",
                    )
                positions = {name: names.index(name) for name in (*XLSX_COLUMNS, *XLSX_TYPE_OF_SERVICE)}
            elif number >= HEADER_MAX_LINES:
                raise ImportFileError(
                    f"no header row starting with 'HCPC' in the first {HEADER_MAX_LINES} rows; "
                    "is this the CMS HCPCS workbook?",
                    line=1,
                    unit="row",
                )
            continue
        if not any(cell.strip() for cell in cells):
            continue
        cells = cells + ("",) * (max(positions.values()) + 1 - len(cells))
        values = {column: cells[positions[name]].strip() for name, column in XLSX_COLUMNS.items()}
        code = cells[positions["HCPC"]].rstrip()
        # A spreadsheet program may drop the three blanks before a modifier.
        values[CODE] = code.rjust(5) if len(code.strip()) == 2 else code
        tos = "".join(cells[positions[name]].strip() for name in XLSX_TYPE_OF_SERVICE)
        yield RawRecord(line=number, values=values, type_of_service=tos)
    if positions is None:
        raise ImportFileError("the workbook has no HCPCS header row", line=1, unit="row")


def assemble(records: Iterator[RawRecord], *, unit: str = "line") -> Iterator[HcpcsEntry]:
    """Join continuation records to their first record and check the records' order.

    CMS sorts the file by code (modifiers first, as their code field starts with blanks), so a code
    that sorts before its predecessor means shuffled lines, and a continuation must follow its own
    first record with a higher sequence number.
    """
    current: HcpcsEntry | None = None
    current_field = ""
    seen_any = False
    for record in records:
        seen_any = True
        record_id = record[RECORD_ID]
        code_field = record[CODE]
        sequence = _sequence(record, unit)
        if record_id in FIRST_RECORDS:
            if current is not None:
                yield current
                if code_field == current_field:
                    raise ImportFileError(
                        f"duplicate code {code_field.strip()} (first on {unit} {current.line})",
                        line=record.line,
                        unit=unit,
                    )
                if code_field < current_field:
                    raise ImportFileError(
                        f"code {code_field.strip()} follows {current_field.strip()}: the file is sorted by code, "
                        "so lines are out of order",
                        line=record.line,
                        unit=unit,
                    )
            current = _first_record(record, record_id, unit)
            current.sequence = sequence
            current_field = code_field
        elif record_id in CONTINUES:
            if current is None or code_field != current_field or CONTINUES[record_id] != _record_id_of(current):
                raise ImportFileError(
                    f"continuation record (type {record_id}) for {code_field.strip()} does not follow the first "
                    f"record of that {'modifier' if record_id == MODIFIER_MORE else 'code'} (lines out of order?)",
                    line=record.line,
                    unit=unit,
                )
            if sequence <= current.sequence:
                raise ImportFileError(
                    f"sequence number {record[SEQUENCE]} does not follow {current.sequence} of {code_field.strip()}: "
                    "continuation records are out of order",
                    line=record.line,
                    field=SEQUENCE.name,
                    unit=unit,
                )
            current.sequence = sequence
            current.long_parts.append(record[LONG])
        else:
            raise ImportFileError(
                f"unknown record type '{record_id}' in column {RECORD_ID.start} (expected 3, 4, 7 or 8)",
                line=record.line,
                field=RECORD_ID.name,
                unit=unit,
            )
    if current is not None:
        yield current
    if not seen_any:
        raise ImportFileError("the file holds no HCPCS records")


def _sequence(record: RawRecord, unit: str) -> int:
    text = record[SEQUENCE]
    if not text.isdigit():
        raise ImportFileError(f"'{text}' is not a number", line=record.line, field=SEQUENCE.name, unit=unit)
    return int(text)


def _record_id_of(entry: HcpcsEntry) -> str:
    return PROCEDURE if entry.kind == "procedure" else MODIFIER


def _first_record(record: RawRecord, record_id: str, unit: str) -> HcpcsEntry:
    line = record.line
    kind = FIRST_RECORDS[record_id]
    code_field = record[CODE]
    if kind == "procedure":
        code = check_pattern(
            code_field, PROCEDURE_CODE, line=line, field=CODE.name, expected="a letter and four digits", unit=unit
        )
    else:
        if code_field[:3].strip():
            raise ImportFileError(
                f"'{code_field}' is a modifier record (type 7) but columns 1-3 are not blank",
                line=line,
                field=CODE.name,
                unit=unit,
            )
        code = check_pattern(
            code_field[3:], MODIFIER_CODE, line=line, field="modifier code", expected="two letters or digits", unit=unit
        )

    def when(column: Column) -> date | None:
        return parse_date(record[column], formats=DATE_FORMATS, line=line, field=column.name, unit=unit)

    return HcpcsEntry(
        kind=kind,
        code=code,
        line=line,
        short=record[SHORT],
        long_parts=[record[LONG]],
        coverage_code=check_choice(record[COVERAGE], COVERAGE_CODES, line=line, field=COVERAGE.name, unit=unit),
        type_of_service=record.type_of_service,
        add_date=when(ADD_DATE),
        action_date=when(ACTION_DATE),
        termination_date=when(TERMINATION_DATE),
        action_code=check_choice(record[ACTION_CODE], ACTION_CODES, line=line, field=ACTION_CODE.name, unit=unit),
    )


CSV_REQUIRED = ("code", "short_description", "long_description")


def read_csv_entries(path: Path, *, progress: Progress) -> Iterator[HcpcsEntry]:
    for line, row in read_csv(path, required=CSV_REQUIRED, kind="HCPCS", progress=progress):
        code = row["code"].upper()
        if MODIFIER_CODE.fullmatch(code):
            kind = "modifier"
        else:
            kind = "procedure"
            check_pattern(code, PROCEDURE_CODE, line=line, field="code", expected="a HCPCS Level II code or modifier")

        def when(name: str, row=row, line=line) -> date | None:
            return parse_date(row.get(name, ""), formats=CSV_DATE_FORMATS, line=line, field=name)

        yield HcpcsEntry(
            kind=kind,
            code=code,
            line=line,
            short=row["short_description"],
            long_parts=[row["long_description"]],
            coverage_code=check_choice(
                row.get("coverage_code", "").upper(), COVERAGE_CODES, line=line, field="coverage_code"
            ),
            type_of_service=row.get("type_of_service", "")[:5],
            add_date=when("add_date"),
            termination_date=when("termination_date"),
        )


def check_entry(entry: HcpcsEntry, unit: str) -> None:
    if not entry.short:
        raise ImportFileError(f"{entry.code} has no short description", line=entry.line, field=SHORT.name, unit=unit)
    if entry.termination_date and entry.add_date and entry.termination_date < entry.add_date:
        raise ImportFileError(
            f"{entry.code} is terminated ({entry.termination_date}) before it was added ({entry.add_date})",
            line=entry.line,
            field=TERMINATION_DATE.name,
            unit=unit,
        )
