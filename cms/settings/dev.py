"""Local development and the demo: SQLite, local files, the embedded search engine."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
# Not a secret: development only. production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = ["*"]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
VAR_DIR.mkdir(parents=True, exist_ok=True)

# The demo's static site (port 8001) searches through the CMS's API (port 8000); ``./dev up`` may move
# both with SHUYUAN_CMS_PORT / SHUYUAN_SITE_PORT.
_CMS_PORT = os.environ.get("SHUYUAN_CMS_PORT", "8000")
_SITE_PORT = os.environ.get("SHUYUAN_SITE_PORT", "8001")
SHUYUAN_PUBLIC_API_URL = os.environ.get("SHUYUAN_PUBLIC_API_URL", f"http://127.0.0.1:{_CMS_PORT}")
# The static site's own address (feeds, sitemaps, canonical links, the API's html_url) follows its port.
SHUYUAN_PUBLISH = {"BASE_URL": f"http://127.0.0.1:{_SITE_PORT}", **SHUYUAN_PUBLISH}  # noqa: F405 - PUBLISH_BASE_URL wins
# 内外网隔离 in the demo too: the static site's search asks the public search service (port 8002,
# ``./dev up`` starts it), which serves the bundle of public documents every publish exports and knows
# nothing of the CMS. SHUYUAN_PUBLIC_SEARCH_URL="" sends the search to the CMS's API instead.
_SEARCH_PORT = os.environ.get("SHUYUAN_SEARCH_PORT", "8002")
SHUYUAN_PUBLIC_SEARCH_URL = os.environ.get("SHUYUAN_PUBLIC_SEARCH_URL", f"http://127.0.0.1:{_SEARCH_PORT}") or None
# Surveys and letters sent to the public service land here (./dev up starts it with the same folder).
SHUYUAN_FORMS_INBOX = os.environ.get("SHUYUAN_FORMS_INBOX", str(VAR_DIR / "forms-inbox"))
SHUYUAN_PUBLIC_SEARCH_EXPORT = os.environ.get("SHUYUAN_PUBLIC_SEARCH_EXPORT", str(VAR_DIR / "public-search")) or None
CORS_ALLOWED_ORIGINS = [
    o.strip()
    for o in os.environ.get(
        "SHUYUAN_API_CORS_ORIGINS", f"http://127.0.0.1:{_SITE_PORT},http://localhost:{_SITE_PORT}"
    ).split(",")
    if o.strip()
]
# The CMS-rendered pages may be opened as localhost or 127.0.0.1: both may call the API.
CONTENT_SECURITY_POLICY = {  # noqa: F405
    **CONTENT_SECURITY_POLICY,  # noqa: F405
    "DIRECTIVES": {
        **CONTENT_SECURITY_POLICY["DIRECTIVES"],  # noqa: F405
        "connect-src": ["'self'", f"http://127.0.0.1:{_CMS_PORT}", f"http://localhost:{_CMS_PORT}"]
        + ([SHUYUAN_PUBLIC_SEARCH_URL] if SHUYUAN_PUBLIC_SEARCH_URL else []),
    },
}
# The demo lets its accounts in with a password alone so that it can be tried at once; production
# requires a second factor of administrators and reviewers (SHUYUAN_OTP_REQUIRED_GROUPS). Setting
# SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS=1 and the groups here shows that flow in the demo too.
SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS = os.environ.get("SHUYUAN_OTP_REQUIRED_FOR_SUPERUSERS", "0") == "1"
SHUYUAN_OTP_REQUIRED_GROUPS = [
    g.strip() for g in os.environ.get("SHUYUAN_OTP_REQUIRED_GROUPS", "").split(",") if g.strip()
]
SHUYUAN_OTP_REQUIRED_UNIT_ROLES = [
    r.strip() for r in os.environ.get("SHUYUAN_OTP_REQUIRED_UNIT_ROLES", "").split(",") if r.strip()
]
