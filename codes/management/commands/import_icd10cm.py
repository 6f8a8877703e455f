"""python manage.py import_icd10cm [icd10cm_order_2026.txt] — load an ICD-10-CM release."""

from codes.importers.command import ImportCommand, effective_date_argument
from codes.importers.icd10cm import import_icd10cm


class Command(ImportCommand):
    help = (
        "Import an ICD-10-CM release: a CMS order file (icd10cm_order_<year>.txt), or without a path the "
        "release bundled in the simple-icd-10-cm package. Header rows are kept as non-billable codes; codes "
        "missing from the release are marked terminated."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="A CMS order file; omit it to load the bundled release.")
        parser.add_argument("--effective-date", type=effective_date_argument, help="Overrides the release date.")
        parser.add_argument("--encoding", default="utf-8", help="Encoding of the order file.")
        parser.add_argument("--limit", type=int, help="Load only the first N codes (a trial); terminates nothing.")
        super().add_arguments(parser)

    def run_import(self, path, options, user):
        return import_icd10cm(
            path,
            effective_date=options["effective_date"],
            encoding=options["encoding"],
            user=user,
            **self.import_options(options),
            limit=options["limit"],
        )
