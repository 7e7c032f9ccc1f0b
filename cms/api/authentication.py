"""Bearer-token authentication, the only way the API learns who is calling.

A missing header means an anonymous caller; a header with an unknown, expired or revoked token is
refused with 401 rather than silently treated as anonymous, so an app notices that it must refresh.
(This module imports no views: DRF loads it from ``REST_FRAMEWORK`` settings while views load.)
"""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import ACCESS_PREFIX, AppToken, digest


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        # The middleware may already have checked this request's token: reuse its answer.
        django_request = getattr(request, "_request", request)
        cached = getattr(django_request, "_shuyuan_api_auth", None)
        if cached is not None:
            return cached
        result = self._authenticate(request)
        if result is not None:
            django_request._shuyuan_api_auth = result
        return result

    def _authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <access token>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token contains invalid characters.") from exc
        if not raw.startswith(ACCESS_PREFIX):
            raise exceptions.AuthenticationFailed("Use an access token here, not a refresh token.")
        token = AppToken.objects.select_related("user").filter(key_digest=digest(raw), kind=AppToken.Kind.ACCESS).first()
        if token is None or not token.is_usable:
            raise exceptions.AuthenticationFailed("The access token is invalid, expired or revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The account is disabled.")
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


def user_from_request(request):
    """The user a bearer token names, or None. For plain Django views (e.g. search) that share the API's
    notion of a caller; raises ``AuthenticationFailed`` for a bad token like the API views do."""
    result = BearerTokenAuthentication().authenticate(request)
    return result[0] if result else None
