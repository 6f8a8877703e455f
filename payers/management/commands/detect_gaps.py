from datetime import date

from django.core.management.base import BaseCommand, CommandError

from payers.services import detect_gaps


class Command(BaseCommand):
    help = (
        "Open, update and resolve automatic follow-up gaps by rule (missing coverage for a tracked payer, "
        "site of service, diagnosis codes, documentation, benchmark; overdue policy reviews). "
        "Idempotent: a second run changes nothing. Manual gaps are never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="Judge 'in force' and 'overdue' as of this day (YYYY-MM-DD) instead of today.",
        )

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as error:
                raise CommandError(f"--date {options['date']!r} is not a date like 2025-07-01.") from error
        report = detect_gaps(today=today)
        width = max(len(rule) for rule, *_ in report.rows())
        self.stdout.write(f"{'rule':<{width}}  opened  updated  resolved  unchanged")
        for rule, opened, updated, resolved, unchanged in report.rows():
            self.stdout.write(f"{rule:<{width}}  {opened:>6}  {updated:>7}  {resolved:>8}  {unchanged:>9}")
        self.stdout.write(self.style.SUCCESS(f"Follow-up gaps: {report.summary()}."))
