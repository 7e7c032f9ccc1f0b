from django.apps import AppConfig


class StudyRecordsConfig(AppConfig):
    name = "members.records"
    label = "study_records"
    verbose_name = "学习记录"
    default_auto_field = "django.db.models.BigAutoField"
