"""URL map of the CMS.

Content URLs carry their language (``/zh-hans/…``, ``/zh-hant/…``, ``/en/…``); ``/`` redirects to the
source language. Feeds, sitemaps and robots come from ``deploy`` (the static publisher renders them
through these same URLs); the members' search page comes from ``search``, the API (search included)
from ``cms.api``.
"""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms.api import api_urlpatterns
from cms.security import views as security_views
from media.views import ImageServeView, serve_media_file
from members import PARTS
from site_theme import account_views

urlpatterns = [
    path("", RedirectView.as_view(url=f"/{settings.LANGUAGE_CODE}/", permanent=False), name="root"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("images/<str:signature>/<int:image_id>/<str:filter_spec>/", ImageServeView.as_view(), name="wagtailimages_serve"),
    # Members' login (lockout message, 2FA code), logout (POST only) and password change: cms.security
    path("accounts/login/", security_views.MemberLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", security_views.MemberPasswordChangeView.as_view(), name="password_change"),
    *(path("accounts/", include(f"{part}.urls")) for part in PARTS),  # surveys, quizzes, study records
    path("accounts/", account_views.account, name="account"),  # 我的账户 (site_theme)
    path("", include("deploy.site_urls")),
    path("", include("search.urls")),
    *api_urlpatterns,
]

# Image files in a local media folder, after the audience check (with S3 media the bucket is private and
# the CMS hands out signed URLs instead); the web server must not serve MEDIA_ROOT itself.
if settings.MEDIA_URL.startswith("/"):
    urlpatterns.insert(0, path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve_media_file, name="shuyuan_media"))

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

urlpatterns += i18n_patterns(
    path("", include(wagtail_urls)),
    prefix_default_language=True,
)
