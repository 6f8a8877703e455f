"""`python manage.py create_api_token <username> [--name ...] [--expires-in 90d]`: prints a new API token's key once."""

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from policyhub.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for a user and print its key; the key cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The user the token acts as.")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'claim scrubber sync'.")
        parser.add_argument(
            "--expires-in",
            type=lifetime,
            default=None,
            help="Refuse the token after this long: a number with d (days), h (hours) or m (minutes), e.g. 90d.",
        )

    def handle(self, *args, username, name, expires_in, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; its token would be refused.")
        expires_at = timezone.now() + expires_in if expires_in else None
        token, key = ApiToken.objects.issue(user=user, name=name, expires_at=expires_at)
        # The key alone on stdout, so scripts can capture it; the explanation goes to stderr.
        self.stdout.write(key)
        until = f", valid until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
        self.stderr.write(
            f"Created API token {token.prefix}… for {username}{until}. Store the key now: it is not kept."
        )


UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def lifetime(value: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", value.lower())
    if not match or int(match[1]) == 0:
        raise ValueError(value)
    return timedelta(**{UNITS[match[2]]: int(match[1])})


lifetime.__name__ = "lifetime (e.g. 90d, 12h or 30m)"
