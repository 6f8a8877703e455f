"""Reading release files as CMS ships them: streamed, numbered by line, with encoding checks.

Nothing here loads a whole file into memory: lines and rows are yielded one at a time, so the
largest release costs the same memory as the smallest.
"""

import csv
import hashlib
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

from codes.importers.errors import ImportFileError
from codes.importers.gates import LineFeed, check_line_end, check_quote_closed
from codes.importers.progress import NoProgress, Progress

READ_CHUNK = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF8_BOM = "\ufeff"

# CMS workbooks carry page headers openpyxl cannot parse; they hold no data. The warning comes
# while rows stream, so it is silenced here rather than around the workbook's opening.
warnings.filterwarnings("ignore", message="Cannot parse header or footer", category=UserWarning)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def open_checked(path: Path) -> Path:
    """The path, once it is known to be a non-empty readable file."""
    path = Path(path)
    if not path.is_file():
        raise ImportFileError("no such file", path=path)
    if path.stat().st_size == 0:
        raise ImportFileError("the file is empty", path=path)
    return path


def is_spreadsheet(path: Path) -> bool:
    """XLSX files are ZIP archives; CMS names them .xlsx, but the content decides."""
    with open(path, "rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def read_lines(path: Path, *, encoding: str, progress: Progress | None = None) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without line ending) for each line of a text file.

    CMS fixed-width files are ISO-8859-1, where every byte is some character, so a file saved as
    UTF-8 would load as mojibake without complaint: a line that is valid UTF-8 with non-ASCII
    characters is refused when ISO-8859-1 is expected. The last line must end with a line end
    (the truncation gate): it is checked before that line is handed on.
    """
    progress = progress or NoProgress()
    expects_latin1 = encoding.lower().replace("_", "-") in {"latin-1", "latin1", "iso-8859-1", "iso8859-1"}
    with open(path, "rb") as handle:
        for number, raw in _numbered_lines(handle, path):
            progress.advance(len(raw))
            if number == 1 and raw.startswith(UTF16_BOMS):
                raise ImportFileError("the file is UTF-16 encoded; expected plain text", line=1, path=path)
            nul = raw.find(b"\x00")
            if nul >= 0:
                raise ImportFileError(
                    f"NUL byte at column {nul + 1}: this is a binary or UTF-16 file, not a text file",
                    line=number,
                    path=path,
                )
            raw = raw.rstrip(b"\r\n")
            if expects_latin1 and not raw.isascii() and _is_utf8(raw):
                raise ImportFileError(
                    "the text is UTF-8 encoded, but CMS ships this file as ISO-8859-1; "
                    "use the file as downloaded, or pass --encoding utf-8 if it was converted on purpose",
                    line=number,
                    path=path,
                )
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"byte 0x{raw[exc.start]:02X} at column {exc.start + 1} is not valid {encoding}; "
                    "save the file with that encoding or pass --encoding",
                    line=number,
                    path=path,
                ) from None
            if number == 1:
                text = text.removeprefix(UTF8_BOM)
            yield number, text


def _numbered_lines(handle, path) -> Iterator[tuple[int, bytes]]:
    """(number, raw line) of a binary file, one line behind, so the last is checked before it is used."""
    held = None
    for number, raw in enumerate(handle, start=1):
        if held is not None:
            yield held
        held = (number, raw)
    if held is not None:
        check_line_end(held[1], line=held[0], path=path)
        yield held


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_csv(
    path: Path,
    *,
    required: tuple[str, ...],
    kind: str,
    progress: Progress | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for each data row of a UTF-8 CSV file with a header row.

    Values are stripped. The header must name every `required` column, otherwise the file is taken
    for the wrong kind of file. The line number is the physical line on which the row ends, as a
    text editor shows it, even when quoted values span lines.
    """
    source = LineFeed(text + "\n" for _, text in read_lines(path, encoding="utf-8", progress=progress))
    reader = csv.reader(source)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty", path=path) from None
    except csv.Error as exc:
        raise ImportFileError(f"not a CSV file ({exc})", line=1, path=path) from None
    header = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFileError(
            f"the header lacks the column(s) {', '.join(missing)} of a {kind} file "
            f"(found: {', '.join(h for h in header if h) or 'nothing'}); is this the right file?",
            line=1,
            path=path,
        )
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise ImportFileError(f"the header repeats the column(s) {', '.join(duplicated)}", line=1, path=path)
    rows = 0
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                raise ImportFileError(
                    f"the row has {len(values)} values but the header names {len(header)} columns "
                    "(a truncated or shifted row?)",
                    line=reader.line_num,
                    path=path,
                )
            if source.ended:
                # The reader asked for more lines to close a quoted field, and the file had none.
                check_quote_closed(line=reader.line_num, path=path)
            rows += 1
            yield reader.line_num, {name: value.strip() for name, value in zip(header, values, strict=True)}
    except csv.Error as exc:
        raise ImportFileError(f"the CSV is malformed: {exc}", line=reader.line_num, path=path) from None
    if not rows:
        raise ImportFileError(f"the file has a header but no {kind} rows", path=path)


def read_xlsx(path: Path, *, progress: Progress | None = None) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Yield (row number, cell texts) of the first worksheet of an XLSX workbook, streamed."""
    from openpyxl import load_workbook

    progress = progress or NoProgress()
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"not a readable XLSX workbook ({exc})", path=path) from None
    try:
        sheet = workbook.worksheets[0]
        progress.total = max(sheet.max_row or 1, 1)
        # Read every row there is, not only as many as the sheet's recorded size claims.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            progress.advance()
            yield number, tuple(_cell_text(value) for value in values)
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
