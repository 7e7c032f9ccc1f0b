from django.apps import AppConfig


class SecrecyConfig(AppConfig):
    """上网信息保密审查: 密级, the scanner, review records, and the hold that keeps uncleared pages offline."""

    name = "cms.secrecy"
    label = "secrecy"
    verbose_name = "保密审查"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals

        signals.connect()
