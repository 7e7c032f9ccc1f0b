"""Bearer tokens, JSON errors and caching headers for every endpoint under ``/api/``.

DRF views authenticate through ``BearerTokenAuthentication`` themselves; this middleware does the
same for the views that aren't DRF (``/api/v2/search/``), so "a member's app sees members-only
results" holds on every endpoint. A bad token gets the same 401 everywhere. On the way out, every
answer goes through ``errors.finish_api_response``: errors from outside the API views (an unknown
path, a CSRF or method refusal, a crash) become the API's JSON error, and answers computed for a
caller become ``private`` with ``Vary: Authorization``. It also keeps API 404s from being redirected
to a language-prefixed URL (see ``plain_urls``).
"""

from rest_framework.exceptions import AuthenticationFailed

from .authentication import BearerTokenAuthentication
from .errors import finish_api_response, is_api, json_error


class BearerTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api(request):
            return self.get_response(request)
        if request.META.get("HTTP_AUTHORIZATION"):
            try:
                result = BearerTokenAuthentication().authenticate(request)
            except AuthenticationFailed as exc:
                response = json_error(str(exc.detail), 401)
                response["WWW-Authenticate"] = 'Bearer realm="api"'
                return finish_api_response(request, response)
            if result is not None:
                request.user = result[0]
        response = self.get_response(request)
        if response.status_code == 404:
            request.urlconf = "cms.api.plain_urls"  # an API 404 stays a 404 (no language redirect)
        return finish_api_response(request, response)
