"""Medicare Coverage Database (MCD) document metadata: LCDs and billing articles of the MACs.

One CSV row is one version of one document (`document_display_id` L36668 or A57345, its
`document_version`) published by one or more Medicare Administrative Contractors, named with their
jurisdiction types: "Noridian Healthcare Solutions, LLC (MAC - Part A, MAC - Part B)". Jointly
published documents (the DME MACs) name several contractors in one cell; each contractor gets its
own copy, since each publishes it for its jurisdiction. A contractor missing from the payers is
added as a payer of kind Medicare Administrative Contractor.

Versions are kept side by side; a document's retirement date ('N/A' while active) ends a version.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.utils.text import slugify

from codes.choices import ReleaseKind
from codes.importers.bulk_sync import BulkSync
from codes.importers.errors import ImportFileError
from codes.importers.gates import Overrides
from codes.importers.progress import Progress
from codes.importers.releases import ImportRun, release_import
from codes.importers.sources import open_checked, read_csv, sha256_of
from codes.importers.values import check_length, parse_date
from payers.choices import PayerKind, PolicyDocumentType
from payers.models import Payer, PolicyDocument
from policyhub.choices import WorkflowState

REQUIRED = (
    "document_type",
    "document_display_id",
    "document_id",
    "document_version",
    "title",
    "contractor_name_type",
    "effective_date",
    "retirement_date",
)
DOCUMENT_TYPES = {"lcd": PolicyDocumentType.LCD, "article": PolicyDocumentType.ARTICLE}
DISPLAY_ID = re.compile(r"[LA][0-9]{4,6}")
# "Name, LLC (jurisdiction types)" repeated: one contractor per parenthesised group.
CONTRACTOR = re.compile(r"\s*([^()]+?)\s*\(([^()]*)\)")
DATE_FORMATS = ("MM/DD/YYYY", "YYYY-MM-DD")
NOT_RETIRED = {"", "N/A", "NA"}
TITLE_LENGTH = PolicyDocument._meta.get_field("title").max_length
URL_LENGTH = PolicyDocument._meta.get_field("url").max_length


@dataclass
class McdRow:
    line: int
    document_type: str
    number: str
    source_id: str
    version: int
    title: str
    contractors: list[tuple[str, str]]
    effective_date: date | None
    retirement_date: date | None
    url: str


def split_contractors(text: str, *, line: int) -> list[tuple[str, str]]:
    """'A, LLC (DME MAC) B, LLC (DME MAC)' -> [('A, LLC', 'DME MAC'), ('B, LLC', 'DME MAC')]."""
    found = CONTRACTOR.findall(text)
    if not found or CONTRACTOR.sub("", text).strip():
        raise ImportFileError(
            f"'{text}' is not 'Contractor name (jurisdiction types)'", line=line, field="contractor_name_type"
        )
    return [(name.strip(), kinds.strip()) for name, kinds in found]


def read_mcd_rows(path: Path, *, progress: Progress) -> Iterator[McdRow]:
    for line, row in read_csv(path, required=REQUIRED, kind="Medicare Coverage Database", progress=progress):
        document_type = DOCUMENT_TYPES.get(row["document_type"].lower())
        if document_type is None:
            raise ImportFileError(
                f"'{row['document_type']}' is neither LCD nor Article", line=line, field="document_type"
            )
        number = row["document_display_id"].upper()
        if not DISPLAY_ID.fullmatch(number):
            raise ImportFileError(
                f"'{number}' is not an MCD document id such as L36668 or A57345",
                line=line,
                field="document_display_id",
            )
        if not row["document_version"].isdigit():
            raise ImportFileError(
                f"'{row['document_version']}' is not a version number", line=line, field="document_version"
            )
        effective = parse_date(row["effective_date"], formats=DATE_FORMATS, line=line, field="effective_date")
        retirement_text = row["retirement_date"]
        retirement = (
            None
            if retirement_text.upper() in NOT_RETIRED
            else parse_date(retirement_text, formats=DATE_FORMATS, line=line, field="retirement_date")
        )
        if retirement and effective and retirement < effective:
            raise ImportFileError(
                f"the document retires ({retirement}) before it takes effect ({effective})",
                line=line,
                field="retirement_date",
            )
        url = row.get("url", "")
        if url and not url.startswith(("https://", "http://")):
            raise ImportFileError(f"'{url}' is not a web address", line=line, field="url")
        if not row["title"]:
            raise ImportFileError("the title is empty", line=line, field="title")
        yield McdRow(
            line=line,
            document_type=document_type,
            number=number,
            source_id=row["document_id"],
            version=int(row["document_version"]),
            title=check_length(row["title"], TITLE_LENGTH, line=line, field="title"),
            contractors=split_contractors(row["contractor_name_type"], line=line),
            effective_date=effective,
            retirement_date=retirement,
            url=check_length(url, URL_LENGTH, line=line, field="url"),
        )


def import_coverage_database(
    path, *, user=None, dry_run: bool = False, overrides: Overrides | None = None, progress_stream=None
) -> ImportRun:
    """Load MCD document metadata as the MAC payers' policy documents, one row per version."""
    path = open_checked(path)
    progress = Progress(path.stat().st_size, label="MCD", stream=progress_stream)
    with release_import(
        kind=ReleaseKind.MCD,
        name=f"Medicare Coverage Database ({path.name})",
        effective_date=None,
        source_file=path.name,
        checksum=sha256_of(path),
        user=user,
        dry_run=dry_run,
        overrides=overrides,
    ) as run:
        payers = BulkSync(run, Payer, key=("name",), fields=(), label="payers")
        documents = BulkSync(
            run,
            PolicyDocument,
            key=("payer_id", "number", "document_version"),
            fields=(
                "document_type",
                "title",
                "url",
                "effective_date",
                "retirement_date",
                "contractor",
                "source_id",
            ),
            label="policy documents",
            descriptor_fields=("title",),
            # Documents are published reference data with their release (outside review); a pending
            # revision of one repeats its key and is not the document the release speaks for.
            scope={"revision_of__isnull": True},
            defaults={"state": WorkflowState.PUBLISHED},
        )
        # The whole file is checked before any payer is added; a few thousand rows fit in memory.
        rows = list(read_mcd_rows(path, progress=progress))
        progress.close()
        names = sorted({name for row in rows for name, _ in row.contractors})
        taken_slugs = set(Payer.objects.values_list("slug", flat=True))
        for name in names:
            payers.feed(
                {"name": name},
                create_values={
                    "slug": _free_slug(name, taken_slugs),
                    "kind": PayerKind.MEDICARE_CONTRACTOR,
                    "is_national": False,
                },
            )
        payers.finish()
        payer_ids = dict(Payer.objects.filter(name__in=names).values_list("name", "id"))
        for row in rows:
            for name, jurisdiction in row.contractors:
                documents.feed(
                    {
                        "payer_id": payer_ids[name],
                        "number": row.number,
                        "document_version": row.version,
                        "document_type": row.document_type,
                        "title": row.title,
                        "url": row.url,
                        "effective_date": row.effective_date,
                        "retirement_date": row.retirement_date,
                        "contractor": f"{name} ({jurisdiction})"[:255],
                        "source_id": row.source_id,
                    },
                    line=row.line,
                )
        documents.finish()
    return run


def _free_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:90] or "contractor"
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    taken.add(slug)
    return slug
