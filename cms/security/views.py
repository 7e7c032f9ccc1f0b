"""Pages of the security app: 2FA setup, login locks (security administrators), password change.

Admin pages use Wagtail's admin furniture; the members' password change page uses the site theme.
The audit log hears of logins, password changes and 2FA devices added or removed from signals
(cms.audit); what only these views know (unlocks, recovery codes regenerated) is recorded here.
"""

from __future__ import annotations

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import lockout, otp
from .forms import ConfirmDeviceForm, MemberLoginForm


def _record(action: str, request, **detail) -> None:
    from cms.audit.log import record

    record(action, request=request, user=request.user, detail=detail or None)


def is_security_admin(user) -> bool:
    """Superusers and the security administrators (三员分立: 安全管理员) manage locks."""
    return user.is_authenticated and (
        user.is_superuser or user.groups.filter(name=settings.SHUYUAN_SECURITY_ADMIN_GROUP).exists()
    )


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


class TwoFactorView(WagtailAdminTemplateMixin, View):
    """双重认证: set up TOTP (QR code, secret, first code), then see, regenerate or disable."""

    page_title = gettext_lazy("双重认证")
    header_icon = "key"
    template_name = "security/two_factor.html"

    def get(self, request):
        return self.show(request)

    def post(self, request):
        action = request.POST.get("action")
        if action == "confirm":
            return self.confirm(request)
        if action in ("regenerate", "disable"):
            return self.change(request, action)
        return redirect("security_2fa")

    def show(self, request, form=None, codes=None, status=200):
        context = self.get_context_data(
            enabled=otp.has_2fa(request.user),
            required=otp.is_required(request.user),
            codes=codes,
            codes_left=otp.recovery_codes_left(request.user),
            form=form or ConfirmDeviceForm(),
        )
        if not context["enabled"]:
            device = otp.pending_totp(request.user)
            context.update(qr_svg=otp.qr_svg(device), secret=otp.secret_base32(device))
        return self.render_to_response(context, status=status)

    def render_to_response(self, context, status=200, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response.status_code = status
        return response

    def confirm(self, request):
        form = ConfirmDeviceForm(request.POST)
        if otp.has_2fa(request.user):
            return redirect("security_2fa")
        if form.is_valid():
            device = otp.pending_totp(request.user)
            codes = otp.confirm(device, form.cleaned_data["code"])
            if codes is not None:
                device.refresh_from_db()
                django_otp.login(request, device)  # this session is now a verified one
                messages.success(request, _("双重认证已启用。请立即保存下面的恢复码，它们只显示这一次。"))
                return self.show(request, codes=codes)
            form.add_error("code", _("验证码不正确，请核对手机时间后重试。"))
        return self.show(request, form=form, status=400)

    def change(self, request, action):
        """Regenerating codes or turning 2FA off asks for a current code, so a session left open
        cannot silently weaken the account."""
        form = ConfirmDeviceForm(request.POST)
        if not otp.has_2fa(request.user):
            return redirect("security_2fa")
        if not form.is_valid() or otp.verify(request.user, form.cleaned_data["code"]) is None:
            messages.error(request, _("动态验证码错误，未作更改。"))
            return redirect("security_2fa")
        if action == "regenerate":
            codes = otp.regenerate_recovery_codes(request.user)
            _record("security.2fa.recovery_regenerated", request)
            messages.success(request, _("已生成新的恢复码，旧恢复码已失效。请立即保存，它们只显示这一次。"))
            return self.show(request, codes=codes)
        otp.disable(request.user)
        messages.success(request, _("双重认证已关闭。"))
        return redirect("security_2fa")


class LockoutsView(WagtailAdminTemplateMixin, View):
    """登录锁定: accounts and addresses locked now, each with an unlock button. Security
    administrators only."""

    page_title = gettext_lazy("登录锁定")
    header_icon = "lock"
    template_name = "security/lockouts.html"

    def dispatch(self, request, *args, **kwargs):
        if not is_security_admin(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        locks = lockout.current_locks()
        return self.render_to_response(
            self.get_context_data(
                accounts=[lock for lock in locks if lock.kind == "username"],
                addresses=[lock for lock in locks if lock.kind == "ip_address"],
                limit=lockout.failure_limit(),
                minutes=settings.SHUYUAN_LOGIN_LOCKOUT_MINUTES,
            )
        )

    def post(self, request):
        kind, value = request.POST.get("kind", ""), request.POST.get("value", "")
        if kind not in ("username", "ip_address") or not value:
            messages.error(request, _("解锁请求不完整。"))
            return redirect("security_lockouts")
        removed = lockout.unlock(kind, value)
        _record("security.unlock", request, kind=kind, value=value, attempts_removed=removed)
        label = _("账户") if kind == "username" else _("地址")
        messages.success(
            request, _("已解除%(label)s %(value)s 的登录锁定。") % {"label": label, "value": value}
        )
        return redirect("security_lockouts")


class AdminPasswordChangeView(WagtailAdminTemplateMixin, View):
    """修改密码 inside the admin, where an expired password sends administrators."""

    page_title = gettext_lazy("修改密码")
    header_icon = "key"
    template_name = "security/password_change.html"

    def get(self, request):
        return self.render_to_response(
            self.get_context_data(form=PasswordChangeForm(request.user), next=_safe_next(request, ""))
        )

    def post(self, request):
        form = PasswordChangeForm(request.user, request.POST)
        if form.is_valid():
            form.save()
            update_session_auth_hash(request, form.user)
            messages.success(request, _("密码已修改。"))
            return redirect(_safe_next(request, reverse("wagtailadmin_home")))
        response = self.render_to_response(self.get_context_data(form=form, next=_safe_next(request, "")))
        response.status_code = 400
        return response


class MemberPasswordChangeView(LoginRequiredMixin, auth_views.PasswordChangeView):
    """修改密码 for members, in the site theme; also where an expired password sends them."""

    template_name = "account/password_change.html"

    def get_success_url(self):
        return _safe_next(self.request, settings.LOGIN_REDIRECT_URL)

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "next": _safe_next(self.request, "")}


class MemberLoginView(auth_views.LoginView):
    """会员登录: Django's login view with the lockout message and the 2FA code field."""

    template_name = "account/login.html"
    form_class = MemberLoginForm
    redirect_authenticated_user = True
