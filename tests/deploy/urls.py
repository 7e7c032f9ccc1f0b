"""The public part of ``cms.urls``, for the publisher's tests.

The publisher only renders public URLs; using this copy keeps these tests independent of the API and
search URL modules that other parts of the project are changing.
"""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    path("", RedirectView.as_view(url=f"/{settings.LANGUAGE_CODE}/", permanent=False), name="root"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("", include("deploy.site_urls")),
]
urlpatterns += i18n_patterns(path("", include(wagtail_urls)), prefix_default_language=True)
