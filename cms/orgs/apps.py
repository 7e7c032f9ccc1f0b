from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "cms.orgs"
    label = "orgs"
    verbose_name = "组织机构"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals

        signals.connect()
