from django.apps import AppConfig


class QuizConfig(AppConfig):
    name = "members.quiz"
    label = "quiz"
    verbose_name = "题库与在线测评"
    default_auto_field = "django.db.models.BigAutoField"
