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
