"""How a browser session finds its user: on every page, and on every API call of an internal reader.

Django's database sessions (`SessionStore`, the `SESSION_ENGINE`) and `ModelBackend`
(`SessionUserBackend`, in `AUTHENTICATION_BACKENDS`), each with its look-up written as one
statement instead of compiled by the ORM on every request: the session row, then the user together
with whether they may read (`policyhub.access.can_read`), as an API token's statement does. The
ORM's two look-ups (and a reader's permission query after them) took 0.8-1 ms of a 1.9 ms 304 answer,
in process (docs/bench.md). The rules are Django's: an expired or unknown session is no
session, an inactive or deleted user is no user, and the session's password hash is still checked
by `django.contrib.auth.get_user` (a password change ends the user's other sessions). Writes
(login, logout, saving the session) are Django's own code.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db
from django.db import connection
from django.utils import timezone

from policyhub.access import holds_read_permission_sql, read_permission_params, remember_can_read
from policyhub.raw_sql import Columns, fetch, quote


class SessionStore(db.SessionStore):
    """Database sessions, read with one prepared statement."""

    def _get_session_from_db(self):
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        rows = fetch(_session_statement(self.model), [self.session_key, now])
        if not rows:
            # As Django's store does: an unknown or expired key is dropped, and a new one is made on save.
            self._session_key = None
            return None
        # `load()` reads only the data.
        return self.model(session_key=self.session_key, session_data=rows[0][0])


@functools.cache
def _session_statement(model) -> str:
    def column(name: str) -> str:
        return quote(model._meta.get_field(name).column)

    return (
        f"SELECT {column('session_data')} FROM {quote(model._meta.db_table)} "  # noqa: S608 - names from the model
        f"WHERE {column('session_key')} = %s AND {column('expire_date')} > %s"
    )


class SessionUserBackend(ModelBackend):
    """Django's `ModelBackend` (passwords, permissions), with the session's user read in one statement
    that also answers whether they may read."""

    def get_user(self, user_id):
        columns, sql = _user_statement()
        rows = fetch(sql, read_permission_params(user=user_id))
        if not rows:
            return None
        user = columns.build(rows[0][:-1])
        remember_can_read(user, rows[0][-1])
        return user if self.user_can_authenticate(user) else None


@functools.cache
def _user_statement() -> tuple[Columns, str]:
    user = Columns.of(get_user_model(), "u")
    sql = (
        f"SELECT {user.sql()}, {holds_read_permission_sql(user.col('id'))} "  # noqa: S608 - names from the models
        f"FROM {user.table} WHERE {user.col('id')} = %(user)s"
    )
    return user, sql
