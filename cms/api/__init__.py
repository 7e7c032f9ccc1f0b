"""The headless API (Wagtail API v2) for the app, mini-program and big-screen front ends.

Everything the API returns is decided by ``cms.visibility``: pages through ``pages_visible_to``,
documents through their audience, images through the pages that use them. Callers are anonymous or
identified by a bearer token (``cms.api.auth``); a draft is readable only with a short-lived preview
token that an editor minted in the admin (``cms.api.preview``).

This package is also a small Django app (label ``shuyuan_api``) so that it owns its token table and
its admin hooks without touching the ``cms`` migrations.
"""


def __getattr__(name):
    # ``cms.urls`` imports ``api_urlpatterns`` from here; importing the URL module (and with it the
    # models) only on demand keeps this package importable while the app registry is loading.
    if name == "api_urlpatterns":
        from .urls import api_urlpatterns

        return api_urlpatterns
    raise AttributeError(name)
