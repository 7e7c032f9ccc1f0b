from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit log (审计日志) and the separation of the three administrators (三员分立)."""

    name = "cms.audit"
    label = "audit"
    verbose_name = "审计"
    default_auto_field = "django.db.models.BigAutoField"
