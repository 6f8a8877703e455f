"""python manage.py import_hcpcs HCPC2019_CONTR_ANWEB.txt — load a CMS HCPCS Level II release."""

from codes.importers.command import ImportCommand, effective_date_argument
from codes.importers.hcpcs import import_hcpcs


class Command(ImportCommand):
    help = (
        "Import a CMS Alpha-Numeric HCPCS release: the fixed-width HCPC<year>_CONTR_ANWEB*.txt, its .xlsx "
        "twin, or a CSV with a header row. Adds, changes and terminates codes and modifiers; deletes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The release file (.txt fixed width, .xlsx or .csv).")
        parser.add_argument(
            "--effective-date",
            type=effective_date_argument,
            help="The release's effective date, when the file name does not tell it (HCPC2019 → 2019-01-01).",
        )
        parser.add_argument(
            "--encoding", default="latin-1", help="Encoding of the fixed-width file (CMS ships ISO-8859-1)."
        )
        super().add_arguments(parser)

    def run_import(self, path, options, user):
        return import_hcpcs(
            path,
            effective_date=options["effective_date"],
            encoding=options["encoding"],
            user=user,
            **self.import_options(options),
        )
