"""Login forms for the Wagtail admin and the members' pages, and the 2FA setup form.

Both login forms are Django's ``AuthenticationForm`` (Wagtail's admin form is one) plus two things:
the lockout message when django-axes refuses or locks the login, and a one-time code for accounts that
have a second factor. A wrong code counts as a failed login, so it feeds the same lockout.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import signals
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm

from . import lockout, otp


class OTPLoginMixin(forms.Form):
    """After the password matched: a user with a confirmed device must also give a code. (A Form, so
    that its field is declared on the forms that mix it in.)"""

    otp_token = forms.CharField(
        label=_("动态验证码"),
        required=False,
        max_length=16,
        strip=True,
        help_text=_("已启用双重认证的账户填写：身份验证器上的 6 位数字，或一个恢复码"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "maxlength": 16}),
    )

    def get_invalid_login_error(self):
        if lockout.is_locked_out(self.request):
            return forms.ValidationError(
                lockout.lockout_message(self.request, {"username": self.cleaned_data.get("username")}),
                code="locked",
            )
        return super().get_invalid_login_error()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not otp.has_2fa(user):
            return
        code = self.cleaned_data.get("otp_token", "")
        if not code:
            self.user_cache = None
            raise forms.ValidationError(
                _("该账户已启用双重认证，请同时输入动态验证码或恢复码。"), code="otp_required"
            )
        verified = otp.verify(user, code)
        if verified is None:
            self.user_cache = None
            username = self.cleaned_data.get("username")
            signals.user_login_failed.send(
                sender=__name__, credentials={"username": username}, request=self.request
            )
            if lockout.is_locked_out(self.request):
                raise forms.ValidationError(
                    lockout.lockout_message(self.request, {"username": username}), code="locked"
                )
            raise forms.ValidationError(_("动态验证码错误或已使用，请重试。"), code="otp_invalid")
        # django-otp marks the session as verified by this device when the user is logged in.
        user.otp_device = verified.device
        if verified.recovery_code:
            record_recovery_code_used(self.request, user)


def record_recovery_code_used(request, user) -> None:
    from cms.audit.log import record

    record(
        "security.2fa.recovery_used",
        request=request,
        user=user,
        detail={"remaining": otp.recovery_codes_left(user)},
    )


class AdminLoginForm(OTPLoginMixin, WagtailLoginForm):
    """``WAGTAILADMIN_USER_LOGIN_FORM``: Wagtail's login form with the lockout message and a code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = _("密码")  # Wagtail leaves it unlabelled: "Password" in English


class MemberLoginForm(OTPLoginMixin, AuthenticationForm):
    """The members' login form (``/accounts/login/``)."""


class ConfirmDeviceForm(forms.Form):
    """The first code from the authenticator app, which proves it was set up right."""

    code = forms.CharField(
        label=_("验证码"),
        max_length=8,
        help_text=_("输入身份验证器上显示的 6 位数字"),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
