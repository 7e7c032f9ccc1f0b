"""Start-up checks of 问卷与信箱: the inbox folder and the submission rate limit."""

from __future__ import annotations

import os

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def validate() -> None:
    """Raise ImproperlyConfigured for a bad ``SHUYUAN_FORMS_INBOX`` or ``SHUYUAN_FORMS_RATE_LIMIT``."""
    inbox = getattr(settings, "SHUYUAN_FORMS_INBOX", None)
    if inbox is not None:
        if not isinstance(inbox, str | os.PathLike) or not os.path.isabs(os.fspath(inbox)):
            raise ImproperlyConfigured(f"SHUYUAN_FORMS_INBOX must be an absolute folder path, not {str(inbox)[:60]!r}.")
        if os.path.exists(inbox) and not os.path.isdir(inbox):
            raise ImproperlyConfigured(f"SHUYUAN_FORMS_INBOX {os.fspath(inbox)!r} exists and is not a folder.")
    limit = getattr(settings, "SHUYUAN_FORMS_RATE_LIMIT", (5, 600))
    if limit is not None and not (
        isinstance(limit, tuple | list) and len(limit) == 2 and all(isinstance(n, int) and n > 0 for n in limit)
    ):
        raise ImproperlyConfigured("SHUYUAN_FORMS_RATE_LIMIT must be (requests, seconds) such as (5, 600), or None.")


@checks.register()
def check_forms_settings(app_configs=None, **kwargs):
    try:
        validate()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="See README: Surveys and the mailbox.", id="surveys.E001")]
    return []
