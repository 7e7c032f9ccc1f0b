"""The members' account page (我的账户): who is signed in, with links to change the password and, where
django-otp is installed and the account may use the admin (where 2FA is set up), to 双重认证.

It is served by the CMS only (members' pages): the static site never shows who is signed in.
Its URL is ``accounts/`` named ``account`` in ``cms/urls.py``; until that URL exists, the site's member
bar links to the password page instead (``theme_tags.account_links``).
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.views.decorators.cache import never_cache


def display_name(user) -> str:
    """The account's name as readers write it: 李华 (family name first) for Chinese names, else Django's."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first
    return user.get_full_name() or user.get_username()


def two_factor(user) -> dict:
    """Whether the account has a second factor, and where it would set one up (None: nowhere for it)."""
    if not apps.is_installed("django_otp"):
        return {"enabled": False, "active": False, "setup_url": None}
    from cms.security.otp import has_2fa, is_required

    setup_url = None
    if user.has_perm("wagtailadmin.access_admin"):
        try:
            setup_url = reverse("security_2fa")
        except NoReverseMatch:
            setup_url = None
    return {"enabled": True, "active": has_2fa(user), "required": is_required(user), "setup_url": setup_url}


@never_cache
@login_required
def account(request):
    user = request.user
    language = translation.get_language()
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    return render(
        request,
        "account/account.html",
        {
            "account_user": user,
            "display_name": display_name(user),
            "groups": list(user.groups.order_by("name").values_list("name", flat=True)),
            "two_factor": two_factor(user),
            "password_change_url": reverse("password_change"),
            "search_url": reverse("search:study", kwargs={"lang": language}),
        },
    )
