"""Search pages and the search API (included at the site root by cms/urls.py)."""

from django.urls import path, re_path

from search import views

app_name = "search"

urlpatterns = [
    path("api/v2/search/", views.api_search, name="api"),
    path("api/v2/search/suggest/", views.api_suggest, name="suggest"),
    path("api/v2/search/click/", views.click, name="click"),
    re_path(r"^(?P<lang>zh-hans|zh-hant|en)/study/search/$", views.study_search, name="study"),
]
