"""Fast, isolated tests: immediate tasks, local-memory cache, quick password hashing, temp dirs."""

import os
import tempfile
from pathlib import Path

import dj_database_url

from .base import *  # noqa: F403
from .base import SHUYUAN_SEARCH, STORAGES

SECRET_KEY = "test-only-key"
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "search": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "search"},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SHUYUAN_AUTO_TRADITIONAL = False  # tests that need it turn it on
# django-axes stays on (lockout tests need it; every test's failures roll back with its transaction).
# Forced 2FA setup would send every admin test's superuser to the setup page: tests/security turns it on.
SHUYUAN_OTP_REQUIRED_GROUPS = []
SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS = False
SHUYUAN_OTP_REQUIRED_UNIT_ROLES = []

_TMP = Path(tempfile.mkdtemp(prefix="shuyuan-test-"))
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(_TMP / "db.sqlite3")}}
# The whole suite on a server database: ``pytest -p tests.postgres --postgres`` starts a throwaway
# PostgreSQL cluster and names it here (pytest-django creates its test database in it).
if os.environ.get("SHUYUAN_TEST_DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["SHUYUAN_TEST_DATABASE_URL"])}
MEDIA_ROOT = _TMP / "media"
STATIC_ROOT = _TMP / "static"
STORAGES = {
    **STORAGES,
    "publish": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(_TMP / "site"), "base_url": "/"},
    },
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(_TMP / "private"), "base_url": "/documents/"},
    },
    # the archive of published releases (deploy.releases): private, never under the published site
    "releases": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(_TMP / "releases")}},
}
SHUYUAN_SEARCH = {
    **SHUYUAN_SEARCH,
    "default": {
        **SHUYUAN_SEARCH["default"],
        "OPTIONS": {**SHUYUAN_SEARCH["default"]["OPTIONS"], "PATH": str(_TMP / "search")}
        if SHUYUAN_SEARCH["default"]["BACKEND"] == "search.backends.embedded"
        else SHUYUAN_SEARCH["default"]["OPTIONS"],
        # Embedding every page of every test site costs ~60 ms a page: the tests that are about
        # re-ranking turn it on (tests/search/test_semantic.py).
        "RERANK": None,
    },
}
