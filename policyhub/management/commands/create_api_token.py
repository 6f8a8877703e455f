"""`python manage.py create_api_token <username> [--name ...]`: prints a new API token's key once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from policyhub.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print its key; the key cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'claim scrubber sync'.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; its token would be refused.")
        token, key = ApiToken.objects.issue(user=user, name=name)
        # The key alone on stdout, so scripts can capture it; the explanation goes to stderr.
        self.stdout.write(key)
        self.stderr.write(f"Created API token {token.prefix}… for {username}. Store the key now: it is not kept.")
