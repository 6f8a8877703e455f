import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the admin login if it does not exist. Username and password come from "
        "POLICYHUB_ADMIN_USERNAME / POLICYHUB_ADMIN_PASSWORD; a missing password is generated and printed."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        # An exported but empty variable means the default too.
        username = os.environ.get("POLICYHUB_ADMIN_USERNAME", "").strip() or "admin"
        password = os.environ.get("POLICYHUB_ADMIN_PASSWORD", "")
        user = User.objects.filter(username=username).first()
        if user is not None:
            if password:
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(f"Admin login '{username}' exists; password set from POLICYHUB_ADMIN_PASSWORD.")
            else:
                self.stdout.write(f"Admin login '{username}' exists; password unchanged.")
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"Created admin login '{username}'."))
        if generated:
            self.stdout.write(self.style.WARNING(f"Generated password: {password}  (shown once; keep it)"))
