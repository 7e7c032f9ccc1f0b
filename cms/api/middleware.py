"""Bearer tokens for every endpoint under ``/api/``, including plain Django views such as search.

DRF views authenticate through ``BearerTokenAuthentication`` themselves; this middleware does the
same for the views that aren't DRF (``/api/v2/search/``), so "a member's app sees members-only
results" holds on every endpoint. A bad token gets the same 401 everywhere. It also keeps API 404s
from being redirected to a language-prefixed URL (see ``plain_urls``).
"""

from django.http import JsonResponse
from rest_framework.exceptions import AuthenticationFailed

from .authentication import BearerTokenAuthentication


class BearerTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if request.META.get("HTTP_AUTHORIZATION"):
            try:
                result = BearerTokenAuthentication().authenticate(request)
            except AuthenticationFailed as exc:
                response = JsonResponse({"message": str(exc.detail)}, status=401)
                response["WWW-Authenticate"] = 'Bearer realm="api"'
                return response
            if result is not None:
                request.user = result[0]
        response = self.get_response(request)
        if response.status_code == 404:
            request.urlconf = "cms.api.plain_urls"  # an API 404 stays a 404 (no language redirect)
        return response
