"""How downstream systems prove who they are to the API, and how much they may ask of it.

Systems send `Authorization: Token <key>` (an `ApiToken`); internal users browse with their
session. Each token has its own request budget (`DEFAULT_THROTTLE_RATES["api_token"]`).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from policyhub.models import ApiToken


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
        token = ApiToken.objects.select_related("user").filter(digest=ApiToken.hash_key(key)).first()
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


class ApiTokenRateThrottle(SimpleRateThrottle):
    """Limits each token to the rate in `DEFAULT_THROTTLE_RATES["api_token"]`; sessions are not limited."""

    scope = "api_token"

    def get_rate(self):
        # Read at request time (SimpleRateThrottle binds the rates at import), so settings changes apply.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


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
