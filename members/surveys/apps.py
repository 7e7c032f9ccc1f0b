from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "members.surveys"
    label = "surveys"
    verbose_name = "问卷与信箱"
    default_auto_field = "django.db.models.BigAutoField"
