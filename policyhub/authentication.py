"""How downstream systems prove who they are to the API, and how much they may ask of it.

Systems send `Authorization: Token <key>` (an `ApiToken`); internal users browse with their
session. Each token has its own request budget (`DEFAULT_THROTTLE_RATES["api_token"]`).
"""

import functools
import math

from django.contrib.auth import get_user_model
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

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


class ApiTokenRateThrottle(SimpleRateThrottle):
    """Limits each token to the rate in `DEFAULT_THROTTLE_RATES["api_token"]`; sessions are not limited.

    Counted in two fixed windows as long as the rate's period, this one and the one before, which
    counts for the part of it still within the period ("sliding window counter"). Two small numbers
    per token, where DRF's `SimpleRateThrottle` keeps the time of every request of the period in
    one entry and reads and rewrites it on every request: at the default 10,000 an hour a busy
    token's entry grows to 10,000 times (some 90 KB), which cost 5 ms a request more in the
    database cache (docs/bench.md). Rounded up, the estimate never lets through more than the rate.
    """

    scope = "api_token"

    def get_rate(self):
        # Read at request time (SimpleRateThrottle binds the rates at import), so settings changes apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        window, self.elapsed = divmod(self.timer() / self.duration, 1)
        current, before = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        counts = self.cache.get_many([current, before])
        self.current, self.before = counts.get(current, 0), counts.get(before, 0)
        if self.used() >= self.num_requests:
            return False
        # Read, then written, like DRF's own throttle: two workers may both count the same number.
        self.cache.set(current, self.current + 1, 2 * self.duration)
        return True

    def used(self) -> int:
        """Requests within the last period: this window's, and the earlier window's share of it."""
        # The tolerance keeps a float product such as 3 * (1 - 0.0) from rounding up to 4.
        return math.ceil(self.before * (1 - self.elapsed) + self.current - 1e-9)

    def wait(self) -> float | None:
        """Seconds until a request would be allowed again (the `Retry-After` of a 429): until
        `used()` is at most one less than the rate."""
        if self.num_requests == 0:
            return None  # never
        left = self.num_requests - 1 - self.current
        if left < 0:
            # Not in this window: in the next, this window's count is the earlier one's.
            share = (self.num_requests - 1) / self.current
            return (1 - self.elapsed) * self.duration + self.duration * (1 - share)
        # When the earlier window's share has fallen to what is left of the rate.
        return max(self.duration * (1 - left / self.before - self.elapsed), 1)


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
