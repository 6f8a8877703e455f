from django.core.management.base import BaseCommand

from payers.demo import load_demo


class Command(BaseCommand):
    help = "Load the seed briefs (CPT 93590, 93591, 93592), their payers and gaps as published demo data."

    def handle(self, *args, **options):
        tally = load_demo()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data: {created} created, {updated} updated, {unchanged} unchanged.".format(**tally)
            )
        )
