"""Session limits and account policies that apply on every request of a logged-in user.

``SessionLimitsMiddleware`` ends a session after ``SHUYUAN_SESSION_IDLE_MINUTES`` without a request
and ``SHUYUAN_SESSION_MAX_HOURS`` after login. ``AccountPolicyMiddleware`` then sends a user who must
act first to the page where they do it: set up the second factor (required groups, admin only) or
change an expired password. Bearer-token API calls carry no session and are left alone.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from . import otp, passwords

LOGIN_AT = "_security_login_at"
SEEN_AT = "_security_seen_at"
EXPIRY_RECORDED = "_security_expiry_recorded"
# Refresh the "last seen" time (and so save the session) at most this often.
SEEN_RESOLUTION = 60


def now() -> float:
    """The clock the session limits read (tests move it)."""
    return time.time()


def _session_user(request) -> bool:
    """True when the request is authenticated by its session (not by a bearer token)."""
    session = getattr(request, "session", None)
    return (
        session is not None
        # without a session cookie there is no login to limit; not reading the session then keeps
        # anonymous answers free of "Vary: Cookie", so a CDN may cache them
        and settings.SESSION_COOKIE_NAME in request.COOKIES
        and not request.META.get("HTTP_AUTHORIZATION")
        and session.get(SESSION_KEY) is not None
        and request.user.is_authenticated
    )


class SessionLimitsMiddleware:
    """Idle timeout and absolute lifetime of a login session. A session past either limit is logged
    out (Django's ``user_logged_out`` signal, which the audit log records) and the request goes on
    as an anonymous one, so the page asks for a login as usual."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _session_user(request):
            self.check(request)
        return self.get_response(request)

    @staticmethod
    def check(request) -> None:
        session, current = request.session, now()
        login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
        idle = settings.SHUYUAN_SESSION_IDLE_MINUTES * 60
        lifetime = settings.SHUYUAN_SESSION_MAX_HOURS * 3600
        if login_at is None:
            session[LOGIN_AT] = session[SEEN_AT] = current
            return
        if (seen_at is not None and current - seen_at > idle) or current - login_at > lifetime:
            logout(request)
            messages.info(request, _("登录已超时，请重新登录。"))
            return
        if seen_at is None or current - seen_at >= SEEN_RESOLUTION:
            session[SEEN_AT] = current


def _admin_prefix() -> str:
    return reverse("wagtailadmin_home")


class AccountPolicyMiddleware:
    """What a logged-in user must do before anything else.

    - A user who has a second factor but whose session was not verified with it (logged in before
      setting it up elsewhere) is logged out: every session of a 2FA user is a 2FA session.
    - On the admin, a user whom settings require to use a second factor and who has none is sent to
      the setup page.
    - With password expiry on, a user with an expired password is sent to the password change page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _session_user(request):
            response = self.check(request)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request):
        user, path = request.user, request.path
        admin = path.startswith(_admin_prefix())
        verified = user.is_verified()
        has_device = verified or otp.has_2fa(user)
        if has_device and not verified:
            logout(request)
            messages.info(request, _("该账户已启用双重认证，请使用动态验证码重新登录。"))
            return None
        if path in self.exempt_paths():
            return None
        if admin and not has_device and otp.is_required(user):
            return redirect(reverse("security_2fa"))
        if passwords.password_expired(user):
            if not request.session.get(EXPIRY_RECORDED):
                from cms.audit.log import record

                record("security.password_expired", request=request, user=user)
                request.session[EXPIRY_RECORDED] = True
            target = reverse("security_admin_password") if admin else reverse("password_change")
            return redirect(f"{target}?{urlencode({'next': path})}")
        return None

    @staticmethod
    def exempt_paths() -> set[str]:
        """Pages a user who must act first can still reach: where they act, and the way out."""
        paths = set()
        for name in (
            "security_2fa", "security_admin_password", "password_change", "wagtailadmin_logout",
            "wagtailadmin_javascript_catalog", "wagtailadmin_login", "logout", "login",
        ):
            try:
                paths.add(reverse(name))
            except NoReverseMatch:  # a URL map without the members' pages (e.g. an admin-only install)
                continue
        return paths
