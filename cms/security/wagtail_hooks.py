"""Admin entries of the security app: 2FA (account menu), login locks (设置 menu), password change."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        path("security/2fa/", views.TwoFactorView.as_view(), name="security_2fa"),
        path("security/lockouts/", views.LockoutsView.as_view(), name="security_lockouts"),
        path("security/password/", views.AdminPasswordChangeView.as_view(), name="security_admin_password"),
    ]


class SecurityAdminMenuItem(MenuItem):
    def is_shown(self, request):
        return views.is_security_admin(request.user)


@hooks.register("register_settings_menu_item")
def register_lockouts_menu_item():
    return SecurityAdminMenuItem(
        "登录锁定", reverse("security_lockouts"), name="security-lockouts", icon_name="lock", order=900
    )


@hooks.register("register_account_menu_item")
def register_two_factor_menu_item(request):
    return {
        "url": reverse("security_2fa"),
        "label": "双重认证",
        "help_text": "用手机上的身份验证器为登录加一道动态验证码，并管理恢复码。",
    }
