"""Give a user their PolicyHub roles: `manage.py assign_role alice "Policy editor"` (or editor,
reviewer, viewer); `--none` removes every role. Staff status follows the roles."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from policyhub.roles import EDITOR, REVIEWER, ROLES, VIEWER, roles_of, set_roles

SHORT_NAMES = {"editor": EDITOR, "reviewer": REVIEWER, "viewer": VIEWER}


class Command(BaseCommand):
    help = "Set a user's roles (replacing the ones they have); editors and reviewers become staff."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("roles", nargs="*", help=f"Any of: {', '.join(ROLES)} (or editor, reviewer, viewer).")
        parser.add_argument("--none", action="store_true", help="Remove every role (the user loses admin access).")

    def handle(self, *args, username, roles, none, **options):
        if bool(roles) == none:
            raise CommandError("Name at least one role, or pass --none to remove every role.")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        wanted = [SHORT_NAMES.get(role.lower(), role) for role in roles]
        try:
            set_roles(user=user, roles=wanted)
        except ValueError as error:
            raise CommandError(str(error)) from None
        held = ", ".join(roles_of(user)) or "no role"
        self.stdout.write(f"{user.username}: {held}; staff: {'yes' if user.is_staff else 'no'}.")
