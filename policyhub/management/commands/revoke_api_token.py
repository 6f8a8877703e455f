"""`python manage.py revoke_api_token <prefix>`: revokes API tokens by the prefix the admin lists."""

from django.core.management.base import BaseCommand, CommandError

from policyhub.models import ApiToken


class Command(BaseCommand):
    help = "Revoke the API token whose key starts with the given prefix (as listed in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("prefix", help="The key's first characters as the admin lists them, e.g. ph_1a2b3c4.")

    def handle(self, *args, prefix, **options):
        tokens = list(ApiToken.objects.active().filter(prefix=prefix[: ApiToken.PREFIX_LENGTH]))
        if not tokens:
            raise CommandError(f"No active API token with prefix {prefix!r}.")
        if len(tokens) > 1:
            raise CommandError(f"{len(tokens)} active tokens share prefix {prefix!r}; revoke them in the admin.")
        tokens[0].revoke()
        self.stdout.write(f"Revoked API token {tokens[0]}.")
