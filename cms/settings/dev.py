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
CORS_ALLOWED_ORIGINS = [
    o.strip()
    for o in os.environ.get(
        "SHUYUAN_API_CORS_ORIGINS", f"http://127.0.0.1:{_SITE_PORT},http://localhost:{_SITE_PORT}"
    ).split(",")
    if o.strip()
]
