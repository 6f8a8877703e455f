"""python manage.py import_rvu pfs_rvu_2024_jul.csv — load Medicare PFS RVUs as national benchmarks."""

from codes.importers.command import ImportCommand
from payers.importers.rvu import import_rvu


class Command(ImportCommand):
    help = (
        "Import a Medicare Physician Fee Schedule national RVU file (CSV): RVUs and national payment amounts "
        "become benchmarks for the file's period; global days and surgery indicators go onto the codes."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The PFS RVU CSV.")
        super().add_arguments(parser)

    def run_import(self, path, options, user):
        return import_rvu(path, user=user, **self.import_options(options))
