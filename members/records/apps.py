from django.apps import AppConfig


class StudyRecordsConfig(AppConfig):
    name = "members.records"
    label = "study_records"
    verbose_name = "学习记录"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from members.quiz.signals import attempt_finished

        from . import checks  # noqa: F401 - registers the start-up check (SHUYUAN_STUDY_RECORDS_DAYS)
        from .services import record_attempt

        attempt_finished.connect(record_attempt, dispatch_uid="study_records.record_attempt")
