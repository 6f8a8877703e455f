"""python manage.py import_pos place_of_service.csv — load the CMS place-of-service code set."""

from codes.importers.command import ImportCommand
from codes.importers.places_of_service import import_places_of_service


class Command(ImportCommand):
    help = "Import the CMS place-of-service code set from a CSV (code, name, pfs_setting, description)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The place-of-service CSV.")
        parser.add_argument("--name", help="Release name to record, e.g. 'CMS POS 2025'.")
        super().add_arguments(parser)

    def run_import(self, path, options, user):
        return import_places_of_service(path, name=options["name"], user=user, **self.import_options(options))
