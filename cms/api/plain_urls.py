"""The API's URLs without language prefixes. Only used as ``request.urlconf`` on 404 answers from
``/api/`` (see ``middleware``): Django's LocaleMiddleware would otherwise turn an API 404 into a
redirect to ``/zh-hans/api/...``, which Wagtail's catch-all page route makes look valid."""

from . import api_urlpatterns

urlpatterns = [*api_urlpatterns]
