"""The members' search page (included at the site root by cms/urls.py; the search API's URLs are in
cms/api/urls.py)."""

from django.urls import re_path

from search import views

app_name = "search"

urlpatterns = [
    re_path(r"^(?P<lang>zh-hans|zh-hant|en)/study/search/$", views.study_search, name="study"),
]
