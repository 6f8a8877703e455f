"""How downstream systems prove who they are to the API, and how much they may ask of it.

Systems send `Authorization: Token <key>` (an `ApiToken`); internal users browse with their
session. Each token has its own request budget (`policyhub.throttling`).
"""

import functools

from django.contrib.auth import get_user_model
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from policyhub.access import holds_read_permission_sql, read_permission_params, remember_can_read
from policyhub.models import ApiToken
from policyhub.raw_sql import Columns, fetch


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`; a revoked or expired token, or an inactive user, is refused.

    Reading also needs the user's role (`policyhub.access.CanRead`), checked on every request.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the token as 'Authorization: Token <key>', with no spaces in the key.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        token = token_with_user(ApiToken.hash_key(key))
        if token is not None and token.is_expired:
            raise AuthenticationFailed("The token has expired; ask for a new one.")
        if token is None or not token.is_active:
            raise AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise AuthenticationFailed("The token's user is inactive.")
        token.record_use()
        return token.user, token

    def authenticate_header(self, request):
        # Being first in DEFAULT_AUTHENTICATION_CLASSES, this makes anonymous requests answer 401, not 403.
        return f'{self.keyword} realm="api"'


def token_with_user(digest: str) -> ApiToken | None:
    """The token with this digest, its user loaded, and whether that user may read remembered on
    it (`policyhub.access.can_read`): one statement for what every API call needs first.

    Written out, not built with the ORM: compiling the ORM's token-and-user query and then asking
    for the permission separately cost 2.3 ms a call, this one statement about 0.5 ms (docs/bench.md).
    """
    token, user, sql = _token_statement()
    rows = fetch(sql, read_permission_params(digest=digest))
    if not rows:
        return None
    row = rows[0]
    found = token.build(row[: len(token)])
    found.user = user.build(row[len(token) : -1])
    remember_can_read(found.user, row[-1])
    return found


@functools.cache
def _token_statement() -> tuple[Columns, Columns, str]:
    token, user = Columns.of(ApiToken, "t"), Columns.of(get_user_model(), "u")
    sql = (
        f"SELECT {token.sql()}, {user.sql()}, {holds_read_permission_sql(token.col('user'))} "  # noqa: S608 - names from the models
        f"FROM {token.table} JOIN {user.table} ON {user.col('id')} = {token.col('user')} "
        f"WHERE {token.col('digest')} = %(digest)s"
    )
    return token, user, sql


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API token from your PolicyHub administrator, sent as `Token <key>`.",
        }
