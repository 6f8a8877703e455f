"""What every `import_*` management command shares: options, error reporting and the summary."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from codes.importers.errors import ImportFileError
from codes.importers.releases import ImportRun, describe_counts

LISTED_PER_OUTCOME = 50


class ImportCommand(BaseCommand):
    """Base of the release importers: `--dry-run`, `--user`, and bad input as a CommandError.

    Subclasses add their own arguments and implement `run_import(path, options, user)`.
    """

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and compare everything, report, and write nothing."
        )
        parser.add_argument("--user", help="Username recorded in history as the one who ran the import.")

    def run_import(self, path, options, user) -> ImportRun:
        raise NotImplementedError

    def handle(self, *args, **options):
        user = self._user(options.get("user"))
        path = options.get("path")
        try:
            run = self.run_import(path, options, user)
        except ImportFileError as exc:
            if exc.path is None and path:
                exc.path = path
            raise CommandError(str(exc)) from exc
        self.report(run, verbosity=options["verbosity"])

    def report(self, run: ImportRun, *, verbosity: int) -> None:
        release = run.release
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"{run.name}")
            + f" from {run.source_file} (sha256 {run.checksum[:12]}…, effective {release.effective_date or 'n/a'})"
        )
        if run.repeat:
            self.stdout.write(f"  This file was imported before ({release.created_at:%Y-%m-%d %H:%M}); compared again.")
        for label, counter in run.counts.items():
            self.stdout.write(f"  {label}: {describe_counts(counter)}")
            if verbosity >= 2:
                for outcome, keys in run.changed_keys.get(label, {}).items():
                    shown = keys[:LISTED_PER_OUTCOME]
                    more = counter[outcome] - len(shown)
                    self.stdout.write(f"    {outcome}: {' '.join(shown)}" + (f" … and {more} more" if more > 0 else ""))
        self.stdout.write(f"  rejected: {sum(run.rejected.values())}")
        for reason, amount in run.rejected.items():
            self.stdout.write(f"    {amount} {reason}")
        for note in run.notes:
            self.stdout.write(f"  {note}")
        if run.dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was written."))
        elif not run.wrote_anything():
            self.stdout.write(self.style.SUCCESS("Nothing changed: the database already matches this release."))
        else:
            self.stdout.write(self.style.SUCCESS("Import complete."))

    @staticmethod
    def _user(username):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--user: no user named '{username}'") from None


def effective_date_argument(text: str) -> date:
    """argparse type for --effective-date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--effective-date: '{text}' is not a date (YYYY-MM-DD)") from None
