"""Sessions logged in before the upgrade stay logged in.

Django keeps in each session the backend that logged it in, and accepts the session only while
that backend is listed in AUTHENTICATION_BACKENDS. Django's ModelBackend gave way to
`policyhub.sessions.SessionUserBackend` (the same rules, its look-up one statement): live sessions
get the new name, so the upgrade logs nobody out. Undone, they get the old name back.
"""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import migrations
from django.utils import timezone

DJANGOS = "django.contrib.auth.backends.ModelBackend"
OURS = "policyhub.sessions.SessionUserBackend"


def renamer(old: str, new: str):
    def rename(apps, schema_editor):
        # Django's own encoding (signed with SECRET_KEY); a session that does not decode is left as it is.
        from django.contrib.sessions.backends.db import SessionStore

        session_model = apps.get_model("sessions", "Session")
        store = SessionStore()
        renamed = []
        for session in session_model.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=2000):
            data = store.decode(session.session_data)
            if data.get(BACKEND_SESSION_KEY) == old:
                data[BACKEND_SESSION_KEY] = new
                session.session_data = store.encode(data)
                renamed.append(session)
        session_model.objects.bulk_update(renamed, ["session_data"], batch_size=1000)

    return rename


class Migration(migrations.Migration):
    dependencies = [("policyhub", "0006_i11_request_counts"), ("sessions", "0001_initial")]

    operations = [migrations.RunPython(renamer(DJANGOS, OURS), renamer(OURS, DJANGOS))]
