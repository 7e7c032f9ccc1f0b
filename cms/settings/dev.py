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

# The demo's static site (port 8001) searches through the CMS's API (port 8000).
SHUYUAN_PUBLIC_API_URL = os.environ.get("SHUYUAN_PUBLIC_API_URL", "http://127.0.0.1:8000")
CORS_ALLOWED_ORIGINS = [
    o.strip()
    for o in os.environ.get("SHUYUAN_API_CORS_ORIGINS", "http://127.0.0.1:8001,http://localhost:8001").split(",")
    if o.strip()
]
