"""The admin speaks the organisation's language (``LANGUAGE_CODE``, 简体中文) to every account that has
not chosen one in its profile, whatever the browser asks for.

Wagtail falls back to the browser's language (Accept-Language) for an account without a preference,
and the messages it raises before its views switch language (the "no permission" refusal of
``wagtail.admin.auth``) are always in the browser's language: an editor whose browser says English
met an English refusal in a Chinese admin. An account that picked a language (账号设置 → 语言) keeps it.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


class AdminLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + getattr(settings, "WAGTAILADMIN_PATH", "admin/").strip("/") + "/"

    def __call__(self, request):
        if request.path.startswith(self.prefix):
            language = settings.LANGUAGE_CODE
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                profile = getattr(user, "wagtail_userprofile", None)
                if profile is not None and profile.preferred_language:
                    language = profile.preferred_language
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
