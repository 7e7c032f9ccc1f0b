from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Login defence and sessions to 等保 level 3: lockout, password policy, session lifetime, 2FA."""

    name = "cms.security"
    label = "security"
    verbose_name = "安全"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        roles = set(getattr(settings, "SHUYUAN_OTP_REQUIRED_UNIT_ROLES", ()))
        unknown = roles - {"editors", "reviewers", "admins"}
        if unknown:
            raise ImproperlyConfigured(
                f"SHUYUAN_OTP_REQUIRED_UNIT_ROLES: unknown role(s) {', '.join(sorted(unknown))}; "
                "use editors, reviewers, admins"
            )
