"""python manage.py import_mcd medicare_coverage_documents.csv — load MCD LCD and article metadata."""

from codes.importers.command import ImportCommand
from payers.importers.coverage_database import import_coverage_database


class Command(ImportCommand):
    help = (
        "Import Medicare Coverage Database document metadata (CSV) as policy documents of the Medicare "
        "Administrative Contractors, one per document version, with effective and retirement dates."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The MCD documents CSV.")
        super().add_arguments(parser)

    def run_import(self, path, options, user):
        return import_coverage_database(path, user=user, **self.import_options(options))
