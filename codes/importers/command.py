"""What every `import_*` management command shares: options, error reporting and the summary."""

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from codes.importers.errors import ImportFileError
from codes.importers.gates import Overrides
from codes.importers.releases import ImportRun, describe_counts

LISTED_PER_OUTCOME = 50
# A dry run shows this many codes per outcome even without -v 2: a sample of what the import would do.
SAMPLED_PER_OUTCOME = 10


class ImportCommand(BaseCommand):
    """Base of the release importers: `--dry-run`, `--user`, the gates' overrides, and bad input
    (or a release a gate stops) as a CommandError, so the exit status is 1.

    Subclasses add their own arguments and implement `run_import(path, options, user)`, passing
    `self.import_options(options)` on to their importer.
    """

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and compare everything, report, and write nothing."
        )
        parser.add_argument("--user", help="Username recorded in history as the one who ran the import.")
        parser.add_argument(
            "--accept-terminations",
            action="store_true",
            help="Go ahead although the release terminates or rewrites more of the code set than the "
            "IMPORT_MAX_TERMINATED_SHARE / IMPORT_MAX_REWRITTEN_SHARE settings allow (check with --dry-run first).",
        )
        parser.add_argument(
            "--allow-older",
            action="store_true",
            help="Load a release older than the newest loaded for its code set; rows of newer releases are "
            "left as they are.",
        )

    def import_options(self, options) -> dict:
        """The keyword arguments every importer takes from the command line."""
        return {
            "dry_run": options["dry_run"],
            "overrides": Overrides(
                accept_terminations=options["accept_terminations"], allow_older=options["allow_older"]
            ),
            "progress_stream": self.stderr,
        }

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
        if run.refusal:
            raise CommandError(f"{path or run.source_file}: the real import would stop: {run.refusal}")

    def report(self, run: ImportRun, *, verbosity: int) -> None:
        release = run.release
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"{run.name}")
            + f" from {run.source_file} (sha256 {run.checksum[:12]}…, effective {release.effective_date or 'n/a'})"
        )
        if run.repeat:
            self.stdout.write(
                f"  Already imported (release '{release.name}', {release.created_at:%Y-%m-%d %H:%M}); compared again."
            )
        for label, counter in run.counts.items():
            self.stdout.write(f"  {label}: {describe_counts(counter)}")
            listed = LISTED_PER_OUTCOME if verbosity >= 2 else SAMPLED_PER_OUTCOME if run.dry_run else 0
            if listed:
                for outcome, keys in run.changed_keys.get(label, {}).items():
                    shown = keys[:listed]
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
