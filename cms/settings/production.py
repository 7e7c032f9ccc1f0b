"""Production: everything comes from the environment; a missing secret stops start-up.

Optional infrastructure (S3 publishing, CDN purge, Elasticsearch, S3 media) turns on only when its
variables are set, and then every variable it needs must be present.
"""

import os
from urllib.parse import urlsplit

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    CONTENT_SECURITY_POLICY,
    SHUYUAN_PUBLIC_API_URL,
    SHUYUAN_PUBLIC_SEARCH_URL,
    STORAGES,
    WAGTAILFRONTENDCACHE,
)
from .base import DATABASES as _BASE_DATABASES


def _require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"Environment variable {name} is required in production.")
    return value


_SQLITE_OPTIONS = _BASE_DATABASES["default"]["OPTIONS"]

def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if value not in ("0", "1"):
        raise ImproperlyConfigured(f"Environment variable {name} must be 0 or 1, not {value!r}.")
    return value == "1"


def _strong_secret_key(name: str) -> str:
    """The secret key, refused when Django's own check (security.W009) would call it weak."""
    key = _require(name)
    if (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        raise ImproperlyConfigured(
            f"Environment variable {name} is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters, and no '{SECRET_KEY_INSECURE_PREFIX}' "
            "prefix. Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
        )
    return key


def _base_url(name: str, setting: str, *, strip: bool = True) -> str:
    """A base URL the CMS builds absolute URLs on: required, and an absolute http(s) URL with no
    query or fragment (base.py's default, the development address 127.0.0.1:8000, is never right here)."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"Environment variable {name} is required in production: the base URL of {setting} "
            "(e.g. https://cms.example.org); every absolute URL the CMS emits starts with it."
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"Environment variable {name} ({setting}) must be an absolute http(s) URL such as "
            f"https://cms.example.org, not {value[:80]!r}."
        )
    return value.rstrip("/") if strip else value


DEBUG = False
SECRET_KEY = _strong_secret_key("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = [h.strip() for h in _require("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# --- http hardening ---
# HTTPS only: plain HTTP is redirected, and browsers are told (HSTS) to use HTTPS for a year, on every
# subdomain. Behind a proxy that terminates TLS, either let the proxy redirect (DJANGO_SECURE_SSL_REDIRECT=0)
# or name the header it sets (DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https"), else every
# request looks like plain HTTP and is redirected for ever. DJANGO_SECURE_HSTS_SECONDS=0 turns HSTS off
# while trying HTTPS out; browsers remember the header for its whole lifetime.
SECURE_SSL_REDIRECT = _flag("DJANGO_SECURE_SSL_REDIRECT", True)
_proxy_header = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    _name, _sep, _value = _proxy_header.partition(":")
    if not _sep or not _name.strip() or not _value.strip():
        raise ImproperlyConfigured(
            "Environment variable DJANGO_SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https'."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
try:
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
except ValueError as e:
    raise ImproperlyConfigured("Environment variable DJANGO_SECURE_HSTS_SECONDS must be a number of seconds.") from e
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = _flag("DJANGO_SECURE_HSTS_PRELOAD", False)
# Cookies: HTTPS only (DJANGO_SECURE_COOKIES=0 only for a plain-HTTP trial), out of reach of scripts, and
# not sent with cross-site POSTs. Wagtail's admin and our pages read the CSRF token from the page, never
# from the cookie, so the CSRF cookie can be HttpOnly too.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _flag("DJANGO_SECURE_COOKIES", True)
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# The browser may fetch from (connect-src) the public search API and show images and media from the
# media bucket when they live on other hosts than the CMS.
_api_origin = urlsplit(SHUYUAN_PUBLIC_API_URL)
CONTENT_SECURITY_POLICY = {
    **CONTENT_SECURITY_POLICY,
    "DIRECTIVES": {**CONTENT_SECURITY_POLICY["DIRECTIVES"]},
}
if _api_origin.scheme and _api_origin.netloc:
    _directives = CONTENT_SECURITY_POLICY["DIRECTIVES"]
    _directives["connect-src"] = [*_directives["connect-src"], f"{_api_origin.scheme}://{_api_origin.netloc}"]
_search_origin = urlsplit(SHUYUAN_PUBLIC_SEARCH_URL or "")
if _search_origin.scheme and _search_origin.netloc:
    _directives = CONTENT_SECURITY_POLICY["DIRECTIVES"]
    _directives["connect-src"] = [*_directives["connect-src"], f"{_search_origin.scheme}://{_search_origin.netloc}"]
elif SHUYUAN_PUBLIC_SEARCH_URL:
    raise ImproperlyConfigured("SHUYUAN_PUBLIC_SEARCH_URL must be an absolute URL such as https://so.example.org.")

# PostgreSQL in production (``postgres://…``); a single-machine install may say ``sqlite:///path`` on
# purpose, and then keeps the SQLite options of base.py (WAL, immediate transactions).
DATABASES = {"default": dj_database_url.parse(_require("DATABASE_URL"), conn_max_age=600)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # connections kept between requests as on PostgreSQL: opening SQLite with its options per request
    # cost 4 ms of CPU a search (bench.search_load)
    DATABASES["default"] = {**DATABASES["default"], "CONN_MAX_AGE": 600, "CONN_HEALTH_CHECKS": True, "OPTIONS": _SQLITE_OPTIONS}

# Every absolute URL the CMS emits starts with a configured base, never with base.py's development
# address (127.0.0.1): links in notification e-mails and the admin (WAGTAILADMIN_BASE_URL), the API's
# detail_url and the preview client (WAGTAILAPI_BASE_URL), the static site's feeds, sitemaps and CDN
# purges (SHUYUAN_PUBLISH["BASE_URL"]). The API's html_url (pages, translations, links inside bodies,
# search hits) is where a reader reads the page: a public page on the static site (PUBLISH_BASE_URL),
# anything else on the CMS's members' pages (SHUYUAN_API_BASE_URL), never the request's host.
WAGTAILADMIN_BASE_URL = _base_url("SHUYUAN_ADMIN_BASE_URL", "WAGTAILADMIN_BASE_URL")
WAGTAILAPI_BASE_URL = _base_url("SHUYUAN_API_BASE_URL", "WAGTAILAPI_BASE_URL")
WAGTAIL_HEADLESS_PREVIEW = {
    **WAGTAIL_HEADLESS_PREVIEW,  # noqa: F405
    "CLIENT_URLS": {
        "default": _base_url("SHUYUAN_PREVIEW_CLIENT_URL", "the preview client", strip=False)
        if os.environ.get("SHUYUAN_PREVIEW_CLIENT_URL", "").strip()
        else f"{WAGTAILAPI_BASE_URL}/api/v2/preview/"
    },
}
SHUYUAN_PUBLISH = {**SHUYUAN_PUBLISH, "BASE_URL": _base_url("PUBLISH_BASE_URL", 'SHUYUAN_PUBLISH["BASE_URL"], the static site')}  # noqa: F405

# One cache shared by every worker process (rate limits count in it): Redis when there is one, else a
# table in the database (`manage.py createcachetable`). cms/http_checks.py refuses, at start-up, a
# per-process cache when more than one worker runs (WEB_CONCURRENCY / GRANIAN_WORKERS).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]},
        "search": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"],
                   "KEY_PREFIX": "search"},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "shuyuan_cache"},
        "search": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "shuyuan_search_cache",
                   "OPTIONS": {"MAX_ENTRIES": 20000}},
    }


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


def _s3_origin(options: dict) -> str:
    """The origin the browser loads a bucket's objects from (for the CSP); SHUYUAN_CSP_MEDIA_ORIGINS
    overrides it, e.g. for a custom domain in front of the bucket."""
    bucket, endpoint = options["bucket_name"], options["endpoint_url"]
    if not endpoint:
        region = options["region_name"]
        return f"https://{bucket}.s3.{region}.amazonaws.com" if region else f"https://{bucket}.s3.amazonaws.com"
    parts = urlsplit(endpoint)
    if options["addressing_style"] == "virtual":
        return f"{parts.scheme}://{bucket}.{parts.netloc}"
    return f"{parts.scheme}://{parts.netloc}"


STORAGES = {**STORAGES}
if os.environ.get("PUBLISH_S3_BUCKET"):
    STORAGES["publish"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options("PUBLISH_S3")}
    SHUYUAN_PUBLISH_TARGET = {"BACKEND": "deploy.targets.S3Target", "OPTIONS": {"STORAGE": "publish"}}
    # (feeds, sitemaps and CDN purges use PUBLISH_BASE_URL, required above)
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
    # Renditions and media files are fetched from the bucket by the browser (signed URLs).
    _media_origins = [
        o.strip() for o in os.environ.get("SHUYUAN_CSP_MEDIA_ORIGINS", _s3_origin(_media)).split(",") if o.strip()
    ]
    _directives = CONTENT_SECURITY_POLICY["DIRECTIVES"]
    _directives["img-src"] = [*_directives["img-src"], *_media_origins]
    _directives["media-src"] = [*_directives["media-src"], *_media_origins]

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
if os.environ.get("CDN_ALIYUN_ACCESS_KEY_ID"):
    WAGTAILFRONTENDCACHE["aliyun"] = {
        "BACKEND": "deploy.cdn.aliyun.AliyunCdnBackend",
        "ACCESS_KEY_ID": os.environ["CDN_ALIYUN_ACCESS_KEY_ID"],
        "ACCESS_KEY_SECRET": _require("CDN_ALIYUN_ACCESS_KEY_SECRET"),
        "DAILY_URL_QUOTA": int(os.environ.get("CDN_ALIYUN_DAILY_URL_QUOTA", "10000")),
    }
if os.environ.get("CDN_TENCENT_SECRET_ID"):
    WAGTAILFRONTENDCACHE["tencent"] = {
        "BACKEND": "deploy.cdn.tencent.TencentCdnBackend",
        "SECRET_ID": os.environ["CDN_TENCENT_SECRET_ID"],
        "SECRET_KEY": _require("CDN_TENCENT_SECRET_KEY"),
        "AREA": os.environ.get("CDN_TENCENT_AREA") or None,
        "DAILY_URL_QUOTA": int(os.environ.get("CDN_TENCENT_DAILY_URL_QUOTA", "10000")),
    }
if os.environ.get("CDN_PURGE_URL"):
    WAGTAILFRONTENDCACHE["http_purge"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
        "LOCATION": os.environ["CDN_PURGE_URL"],
    }

# Mail (workflow notifications, password resets): an SMTP server when SHUYUAN_EMAIL_HOST is set,
# otherwise messages go to the log (nobody is e-mailed, nothing fails).
if os.environ.get("SHUYUAN_EMAIL_HOST", "").strip():
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["SHUYUAN_EMAIL_HOST"].strip()
    EMAIL_PORT = int(os.environ.get("SHUYUAN_EMAIL_PORT", "465"))
    EMAIL_HOST_USER = os.environ.get("SHUYUAN_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("SHUYUAN_EMAIL_PASSWORD", "")
    EMAIL_USE_SSL = _flag("SHUYUAN_EMAIL_SSL", EMAIL_PORT == 465)
    EMAIL_USE_TLS = not EMAIL_USE_SSL and _flag("SHUYUAN_EMAIL_STARTTLS", True)
    EMAIL_TIMEOUT = 15
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# SMS reminders (members.notify): Alibaba Cloud SMS or Tencent Cloud SMS, when their keys are set.
if os.environ.get("SMS_ALIYUN_ACCESS_KEY_ID", "").strip():
    SHUYUAN_NOTIFY = {**SHUYUAN_NOTIFY, "sms": {"BACKEND": "members.notify.aliyun.AliyunSmsBackend", "OPTIONS": {  # noqa: F405
        "ACCESS_KEY_ID": _require("SMS_ALIYUN_ACCESS_KEY_ID"), "ACCESS_KEY_SECRET": _require("SMS_ALIYUN_ACCESS_KEY_SECRET"),
        "SIGN_NAME": _require("SHUYUAN_SMS_SIGN_NAME"), "TEMPLATE_CODE": _require("SHUYUAN_SMS_TEMPLATE")}}}
elif os.environ.get("SMS_TENCENT_SECRET_ID", "").strip():
    SHUYUAN_NOTIFY = {**SHUYUAN_NOTIFY, "sms": {"BACKEND": "members.notify.tencent.TencentSmsBackend", "OPTIONS": {  # noqa: F405
        "SECRET_ID": _require("SMS_TENCENT_SECRET_ID"), "SECRET_KEY": _require("SMS_TENCENT_SECRET_KEY"),
        "SDK_APP_ID": _require("SMS_TENCENT_SDK_APP_ID"), "SIGN_NAME": _require("SHUYUAN_SMS_SIGN_NAME"),
        "TEMPLATE_ID": _require("SHUYUAN_SMS_TEMPLATE")}}}
