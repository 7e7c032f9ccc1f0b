from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "会员参与"
    default_auto_field = "django.db.models.BigAutoField"
