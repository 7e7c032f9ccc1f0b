"""Admin of 题库与在线测评: the 试题 and 测评 snippets (menu 题库与测评), the quiz listing doubling as the
report of attempts per quiz (作答次数, 平均得分率, 合格率)."""

from django.db.models import Avg, Count, ExpressionWrapper, F, FloatField, Q
from django.db.models.functions import NullIf
from wagtail.admin.ui.tables import Column
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import Question, Quiz


class QuestionViewSet(SnippetViewSet):
    model = Question
    icon = "help"
    menu_label = "试题"
    list_display = ["__str__", "kind", "points", "updated_at"]
    list_filter = ["kind", "topics"]
    search_fields = ["stem"]
    ordering = ["-pk"]


class PercentColumn(Column):
    """A share (0–100) with one decimal and a per cent sign; blank without attempts."""

    def get_value(self, instance):
        value = super().get_value(instance)
        return "" if value is None else f"{value:.1f}%"


class QuizViewSet(SnippetViewSet):
    model = Quiz
    icon = "tasks"
    menu_label = "测评"
    list_filter = ["mode", "is_open"]
    search_fields = ["title"]
    list_display = [
        "title",
        "mode",
        "is_open",
        Column("attempt_count", label="作答次数"),
        PercentColumn("average_percent", label="平均得分率"),
        PercentColumn("pass_rate", label="合格率"),
    ]

    def get_queryset(self, request):
        """The quizzes with the report of their finished attempts (every member's, counted only)."""
        finished = Q(attempts__finished_at__isnull=False, attempts__max_score__gt=0)
        share = ExpressionWrapper(F("attempts__score") * 100.0 / F("attempts__max_score"), output_field=FloatField())
        passed = Count("attempts", filter=finished & Q(attempts__passed=True))
        return Quiz.objects.annotate(
            attempt_count=Count("attempts", filter=finished),
            average_percent=Avg(share, filter=finished),
            pass_rate=ExpressionWrapper(
                passed * 100.0 / NullIf(Count("attempts", filter=finished), 0), output_field=FloatField()
            ),
        )


class QuizGroup(SnippetViewSetGroup):
    menu_label = "题库与测评"
    menu_icon = "help"
    menu_order = 252
    items = (QuestionViewSet, QuizViewSet)


register_snippet(QuizGroup)
