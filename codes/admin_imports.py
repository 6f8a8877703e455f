"""Admin spreadsheet imports that refuse rather than guess: limits and file checks before the preview.

django-import-export reads a whole upload into a table before it looks at it, and takes what it
does not understand for "skipped" rows. Every admin with Import buttons (codes' and payers') uses
`GuardedImportExportMixin`, whose form checks the file first, streaming it:

- size: past settings.IMPORT_MAX_UPLOAD_BYTES the upload is dropped as it arrives
  (`policyhub.uploads.ImportSizeLimitHandler`) and the form says so;
- rows and cells: at most IMPORT_MAX_ROWS data rows; a workbook at most IMPORT_MAX_CELLS cells and
  IMPORT_MAX_UNPACKED_BYTES unpacked (an "xlsx bomb" is refused before it is read), read in
  openpyxl's read-only mode;
- shape: the first row names the columns; unknown or missing columns, a file separated by ';' or
  tabs, rows wider or narrower than the header, a quoted field left open at the end of the file
  are file errors naming the file, row and column.

Exports are bounded too: the whole (filtered) list at most ADMIN_EXPORT_MAX_ROWS rows, and a post
naming its rows (`export_items`, what the library's "Export selected" sends) looks up only those.
"""

import csv
import io
import json
import zipfile

import tablib
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.db.models import NOT_PROVIDED
from django.http import HttpResponseRedirect
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ImportForm

from codes.importers.errors import ImportFileError
from codes.importers.gates import LineFeed, check_quote_closed
from policyhub.paginators import count_up_to

OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
MB = 1024 * 1024


def check_upload(upload, *, format_class, resource) -> None:
    """Refuse an uploaded file that is too large, not a table, or not the table `resource` reads."""
    name = upload.name
    if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ImportFileError(_too_large(settings.IMPORT_MAX_UPLOAD_BYTES), path=name)
    upload.seek(0)
    try:
        if issubclass(format_class, base_formats.XLSX):
            _check_xlsx(upload, name, resource)
        elif issubclass(format_class, base_formats.JSON):
            _check_json(upload, name, resource)
        else:
            _check_csv(upload, name, resource)
    finally:
        upload.seek(0)


def _too_large(limit: int) -> str:
    return f"the file is larger than the {limit / MB:.0f} MB an import may be; split it into smaller files"


def _too_many_rows(path, row: int) -> ImportFileError:
    return ImportFileError(
        f"the file has more than {settings.IMPORT_MAX_ROWS:,} rows, the most an import may have; split it",
        path=path,
        line=row,
        unit="row",
    )


def _check_csv(upload, path, resource) -> None:
    text = io.TextIOWrapper(upload, encoding="utf-8-sig", newline="")
    lines = LineFeed(text)
    reader = csv.reader(lines)
    try:
        header = next(reader, [])
        _check_separator(header, path)
        check_columns(header, resource, path=path)
        for values in reader:
            if lines.ended:
                check_quote_closed(line=reader.line_num, path=path)
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                raise ImportFileError(
                    f"the row has {len(values)} values but the header names {len(header)} columns",
                    path=path,
                    line=reader.line_num,
                    unit="line",
                )
            if reader.line_num - 1 > settings.IMPORT_MAX_ROWS:
                raise _too_many_rows(path, reader.line_num)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"the file is not UTF-8 text ({exc.reason}); save it as CSV UTF-8", path=path) from None
    except csv.Error as exc:
        raise ImportFileError(f"not a CSV table: {exc}", path=path, line=reader.line_num) from None
    finally:
        text.detach()


def _check_separator(header: list[str], path) -> None:
    if len(header) == 1:
        for separator, name in OTHER_SEPARATORS.items():
            if separator in header[0]:
                raise ImportFileError(
                    f"the columns are separated by {name}, not commas: save the file as comma-separated CSV",
                    path=path,
                    line=1,
                )


def _check_xlsx(upload, path, resource) -> None:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(upload) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError("not an XLSX workbook (choose the format that matches the file)", path=path) from None
    if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
        raise ImportFileError(
            f"the workbook unpacks to {unpacked / MB:,.0f} MB, more than the "
            f"{settings.IMPORT_MAX_UNPACKED_BYTES / MB:.0f} MB an import may be",
            path=path,
        )
    upload.seek(0)
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"not a readable XLSX workbook ({exc})", path=path) from None
    cells, number = 0, 0
    sheet = workbook.active
    # The sheet's own dimension can understate it (the library's reader would then drop the rest
    # silently): count what is really there, and refuse a sheet that is not what it claims.
    claimed = sheet.max_row
    sheet.reset_dimensions()
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells += len(values)
            if cells > settings.IMPORT_MAX_CELLS:
                raise ImportFileError(
                    f"the sheet has more than {settings.IMPORT_MAX_CELLS:,} cells, the most an import may have",
                    path=path,
                    line=number,
                    unit="row",
                )
            if number == 1:
                header = ["" if value is None else str(value) for value in values]
                while header and not header[-1]:
                    header.pop()
                check_columns(header, resource, path=path)
            elif number - 1 > settings.IMPORT_MAX_ROWS:
                raise _too_many_rows(path, number)
    finally:
        workbook.close()
    if claimed is not None and number > claimed:
        raise ImportFileError(
            f"the sheet's recorded size is {claimed} row(s) but it holds {number} (a damaged or hand-made "
            "file?): open it in a spreadsheet program and save it again",
            path=path,
            line=claimed + 1,
            unit="row",
        )


def _check_json(upload, path, resource) -> None:
    try:
        rows = json.load(upload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"not JSON ({exc})", path=path) from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ImportFileError("a JSON import is a list of objects, one per row", path=path)
    if len(rows) > settings.IMPORT_MAX_ROWS:
        raise _too_many_rows(path, settings.IMPORT_MAX_ROWS + 1)
    check_columns(list(dict.fromkeys(name for row in rows for name in row)), resource, path=path)


def required_columns(resource) -> list[str]:
    """Columns a file must have: the key (other than the database id) and every field a row must fill."""
    model = resource._meta.model
    required = [resource.fields[name].column_name for name in resource.get_import_id_fields() if name != "id"]
    for field in resource.get_import_fields():
        if field.readonly or not field.attribute or "__" in field.attribute:
            continue
        try:
            model_field = model._meta.get_field(field.attribute)
        except FieldDoesNotExist:  # a column that is not a model field is never required
            continue
        if model_field.many_to_many or model_field.auto_created or model_field.blank:
            continue
        if model_field.default is NOT_PROVIDED and field.column_name not in required:
            required.append(field.column_name)
    return required


def check_columns(header: list[str], resource, *, path) -> None:
    names = [str(name).strip() for name in header]
    known = {field.column_name for field in resource.fields.values()}
    unknown = [name or f"(column {index} has no name)" for index, name in enumerate(names, 1) if name not in known]
    missing = [name for name in required_columns(resource) if name not in names]
    if not unknown and not missing:
        return
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    noun = resource._meta.model._meta.verbose_name_plural
    raise ImportFileError(
        f"{'; '.join(problems)}. The first row must name the columns of {noun} "
        f"({', '.join(sorted(known))}); an export shows them",
        path=path,
        line=1,
        unit="row",
    )


class StreamedCSV(base_formats.CSV):
    """CSV read into the table line by line. tablib first copies the whole text into a StringIO,
    four bytes a character: 80 MB more for a 20 MB file, which put an upload at the limits over
    300 MB (docs/bench.md)."""

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        dataset = tablib.Dataset()
        for number, row in enumerate(csv.reader(_lines_of(in_stream))):
            if number == 0:
                dataset.headers = row
            elif row:
                dataset.append(row + [""] * (dataset.width - len(row)))
        return dataset


def _lines_of(text: str):
    """The lines of `text` with their line ends, one at a time (str.splitlines would copy all at once)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


class GuardedImportForm(ImportForm):
    """The import form, refusing a file that is too large or not the expected table before the preview."""

    def __init__(self, formats, resources, *, refused_upload=None, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.import_formats = formats
        self.resource_classes = resources
        self.refused_upload = refused_upload

    def clean(self):
        cleaned = super().clean()
        if self.refused_upload:
            name, limit = self.refused_upload
            self.errors.pop("import_file", None)
            self.add_error("import_file", f"{name}: {_too_large(limit)}")
            return cleaned
        upload, chosen = cleaned.get("import_file"), cleaned.get("format")
        if upload is None or chosen in (None, ""):
            return cleaned
        resource = self.resource_classes[int(cleaned.get("resource") or 0)]()
        try:
            check_upload(upload, format_class=self.import_formats[int(chosen)], resource=resource)
        except ImportFileError as exc:
            self.add_error("import_file", str(exc))
        return cleaned


class GuardedImportExportMixin(ImportExportMixin):
    """Import/Export buttons whose imports pass the checks above first, and whose exports stay within
    what one request can build: the library builds the whole file in memory before it sends a byte."""

    import_form_class = GuardedImportForm
    # The formats of settings.IMPORT_EXPORT_FORMATS, CSV read by StreamedCSV.
    import_formats = [StreamedCSV, base_formats.XLSX, base_formats.JSON]
    import_template_name = "admin/import_export/guarded_import.html"

    def get_import_form_kwargs(self, request):
        kwargs = super().get_import_form_kwargs(request)
        kwargs["refused_upload"] = getattr(request, "refused_upload", None)
        return kwargs

    def export_action(self, request):
        """The library's export page; exporting the whole (filtered) list is refused past
        ADMIN_EXPORT_MAX_ROWS rows. All 1M coverage criteria took about 1.2 ms and a few KB each (some
        20 minutes and gigabytes). A post naming its rows (`export_items`) exports only those, as many
        as a post may carry (DATA_UPLOAD_MAX_NUMBER_FIELDS)."""
        if request.method == "POST" and "export_items" not in request.POST and self.has_export_permission(request):
            limit = settings.ADMIN_EXPORT_MAX_ROWS
            if count_up_to(self.get_export_queryset(request), limit) > limit:
                self.message_user(
                    request,
                    f"Nothing was exported: an export takes at most {limit:,} "
                    f"{self.model._meta.verbose_name_plural} and more match. Narrow the list with its "
                    "filters or search first; whole coverage tables are in the coverage page's CSV and the API.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.get_full_path())
        return super().export_action(request)

    def get_valid_export_item_pks(self, request):
        # Which of the keys a post named (`export_items`) may be exported. The library's own answer
        # is every key of the table (a million for coverage criteria); only those posted matter.
        posted = [key for key in request.POST.getlist("export_items") if key.isdigit()]
        return self.get_queryset(request).filter(pk__in=posted).values_list("pk", flat=True)

    def write_to_tmp_storage(self, import_file, input_format):
        # The library adds chunk to chunk (a copy of the whole file per chunk); join them once.
        tmp_storage = self.get_tmp_storage_class()(
            encoding=None if input_format.is_binary() else self.from_encoding,
            read_mode=input_format.get_read_mode(),
            **self.get_tmp_storage_class_kwargs(),
        )
        tmp_storage.save(b"".join(import_file.chunks()))
        return tmp_storage
