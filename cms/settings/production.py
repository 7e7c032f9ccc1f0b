"""Production: everything comes from the environment; a missing secret stops start-up.

Optional infrastructure (S3 publishing, CDN purge, Elasticsearch, S3 media) turns on only when its
variables are set, and then every variable it needs must be present.
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DATABASES as _BASE_DATABASES
from .base import STORAGES, WAGTAILFRONTENDCACHE


def _require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Environment variable {name} is required in production.")
    return value


_SQLITE_OPTIONS = _BASE_DATABASES["default"]["OPTIONS"]

DEBUG = False
SECRET_KEY = _require("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in _require("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("DJANGO_SECURE_COOKIES", "1") == "1"

# PostgreSQL in production (``postgres://…``); a single-machine install may say ``sqlite:///path`` on
# purpose, and then keeps the SQLite options of base.py (WAL, immediate transactions).
DATABASES = {"default": dj_database_url.parse(_require("DATABASE_URL"), conn_max_age=600)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"] = {**DATABASES["default"], "CONN_MAX_AGE": 0, "OPTIONS": _SQLITE_OPTIONS}

if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}}


def _s3_options(prefix: str) -> dict:
    options = {
        "bucket_name": _require(f"{prefix}_BUCKET"),
        "region_name": os.environ.get(f"{prefix}_REGION") or None,
        "endpoint_url": os.environ.get(f"{prefix}_ENDPOINT_URL") or None,
        "location": os.environ.get(f"{prefix}_PREFIX", ""),
        "addressing_style": os.environ.get(f"{prefix}_ADDRESSING_STYLE", "path"),
        "default_acl": None,
        "querystring_auth": False,
        "file_overwrite": True,
    }
    if os.environ.get(f"{prefix}_ACCESS_KEY_ID"):
        options["access_key"] = _require(f"{prefix}_ACCESS_KEY_ID")
        options["secret_key"] = _require(f"{prefix}_SECRET_ACCESS_KEY")
    return options


STORAGES = {**STORAGES}
if os.environ.get("PUBLISH_S3_BUCKET"):
    STORAGES["publish"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options("PUBLISH_S3")}
    # Feeds, sitemaps and CDN purges need the public address of the static site.
    SHUYUAN_PUBLISH = {**SHUYUAN_PUBLISH, "BASE_URL": _require("PUBLISH_BASE_URL")}  # noqa: F405
if os.environ.get("MEDIA_S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3_options("MEDIA_S3"), "querystring_auth": True, "file_overwrite": False},
    }
    # Document files in the same private bucket under their own prefix; only the audience-checking
    # views hand them out (media/storage.py).
    _media = _s3_options("MEDIA_S3")
    STORAGES["documents"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_media, "location": "/".join(p for p in (_media["location"].strip("/"), "private") if p),
                    "querystring_auth": True, "file_overwrite": False},
    }

WAGTAILFRONTENDCACHE = {**WAGTAILFRONTENDCACHE}
if os.environ.get("CDN_CLOUDFRONT_DISTRIBUTION_ID"):
    WAGTAILFRONTENDCACHE["cloudfront"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudfrontBackend",
        "DISTRIBUTION_ID": os.environ["CDN_CLOUDFRONT_DISTRIBUTION_ID"],
    }
if os.environ.get("CDN_CLOUDFLARE_ZONEID"):
    WAGTAILFRONTENDCACHE["cloudflare"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudflareBackend",
        "BEARER_TOKEN": _require("CDN_CLOUDFLARE_BEARER_TOKEN"),
        "ZONEID": os.environ["CDN_CLOUDFLARE_ZONEID"],
    }
if os.environ.get("CDN_PURGE_URL"):
    WAGTAILFRONTENDCACHE["http_purge"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
        "LOCATION": os.environ["CDN_PURGE_URL"],
    }
