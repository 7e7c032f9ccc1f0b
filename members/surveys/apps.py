from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "members.surveys"
    label = "surveys"
    verbose_name = "问卷与信箱"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import checks  # noqa: F401 - registers the start-up check
        from .models import LetterReply
        from .signals import reply_deleted, reply_saved

        post_save.connect(reply_saved, sender=LetterReply, dispatch_uid="surveys_reply_saved")
        post_delete.connect(reply_deleted, sender=LetterReply, dispatch_uid="surveys_reply_deleted")
