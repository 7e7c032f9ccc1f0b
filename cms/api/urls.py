"""URLs of the headless API, all under ``/api/v2/``."""

from importlib import import_module

from django.urls import path
from wagtail.api.v2.router import WagtailAPIRouter

from members import PARTS

from . import auth, preview, search, views

api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", views.PagesViewSet)
api_router.register_endpoint("images", views.ImagesViewSet)
api_router.register_endpoint("documents", views.DocumentsViewSet)

api_urlpatterns = [
    path("api/v2/auth/token/", auth.ObtainTokenView.as_view(), name="api_token_obtain"),
    path("api/v2/auth/token/refresh/", auth.RefreshTokenView.as_view(), name="api_token_refresh"),
    path("api/v2/auth/token/revoke/", auth.RevokeTokenView.as_view(), name="api_token_revoke"),
    path("api/v2/auth/me/", auth.MeView.as_view(), name="api_me"),
    path("api/v2/preview/", preview.PreviewView.as_view(), name="api_preview"),
    path("api/v2/schema/", views.SchemaView.as_view(), name="api_schema"),
    path("api/v2/search/", search.search, name="api_search"),
    path("api/v2/search/suggest/", search.suggest, name="api_search_suggest"),
    path("api/v2/search/click/", search.click, name="api_search_click"),
    *(pattern for part in PARTS for pattern in import_module(f"{part}.api").urlpatterns),
    path("api/v2/", api_router.urls),
]
