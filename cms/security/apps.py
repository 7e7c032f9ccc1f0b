from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Login defence and sessions to 等保 level 3: lockout, password policy, session lifetime, 2FA."""

    name = "cms.security"
    label = "security"
    verbose_name = "安全"
    default_auto_field = "django.db.models.BigAutoField"
