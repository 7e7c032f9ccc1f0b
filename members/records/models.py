"""Models of 学习记录.

``ReadingRecord`` is one member's reading of one study material on one day: the beacon adds seconds to
it (one row per member, page and day, however many beacons). ``QuizRecord`` is a finished quiz attempt
as the question bank announced it (``members.quiz.signals.attempt_finished``): a copy of what study
records need, so this part never imports the quiz models. ``PointsRule`` is how editors turn records
into 学习积分; points are always computed from the records (``services.points``), never stored.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from wagtail.admin.panels import FieldPanel


class ReadingRecord(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="会员", on_delete=models.CASCADE, related_name="study_readings"
    )
    # The page may be deleted later: its title stays with the member's history.
    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name="学习资料", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    page_title = models.CharField("资料标题", max_length=255)
    day = models.DateField("日期", db_index=True)
    seconds = models.PositiveIntegerField("阅读时长（秒）", default=0)
    opens = models.PositiveIntegerField("打开次数", default=0)
    updated_at = models.DateTimeField("最后记录", auto_now=True)

    class Meta:
        verbose_name = "阅读记录"
        verbose_name_plural = "阅读记录"
        constraints = [
            models.UniqueConstraint(fields=["user", "page", "day"], name="study_reading_one_row_per_day")
        ]
        indexes = [models.Index(fields=["user", "day"], name="study_reading_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.page_title}"


class QuizRecord(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="会员", on_delete=models.CASCADE, related_name="study_quizzes"
    )
    attempt_id = models.PositiveBigIntegerField("答卷编号", unique=True)
    quiz_id = models.PositiveBigIntegerField("测评编号")
    quiz_title = models.CharField("测评名称", max_length=255)
    score = models.FloatField("得分")
    max_score = models.FloatField("满分")
    passed = models.BooleanField("通过", default=False)
    finished_at = models.DateTimeField("完成时间", db_index=True)

    class Meta:
        verbose_name = "测评记录"
        verbose_name_plural = "测评记录"
        indexes = [models.Index(fields=["user", "finished_at"], name="study_quiz_user_time")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.quiz_title} {self.score}/{self.max_score}"


class Action(models.TextChoices):
    READING_MINUTES = "reading_minutes", "阅读时长（每分钟）"
    MATERIAL_OPENED = "material_opened", "打开学习资料（每篇每天）"
    QUIZ_TAKEN = "quiz_taken", "参加测评（每次）"
    QUIZ_PASSED = "quiz_passed", "通过测评（每次）"


class PointsRule(models.Model):
    """A rule of 学习积分: so many points per unit of an action, at most ``daily_cap`` a day."""

    name = models.CharField("规则名称", max_length=100)
    action = models.CharField("行为", max_length=20, choices=Action.choices)
    points = models.PositiveIntegerField(
        "每次积分", default=1, help_text="每个单位（一分钟、一篇、一次）得到的积分。"
    )
    daily_cap = models.PositiveIntegerField(
        "每日上限", default=0, help_text="按此规则每人每天最多得到的积分；0 表示不设上限。"
    )
    enabled = models.BooleanField("启用", default=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("action"),
        FieldPanel("points"),
        FieldPanel("daily_cap"),
        FieldPanel("enabled"),
    ]

    class Meta:
        verbose_name = "积分规则"
        verbose_name_plural = "积分规则"
        ordering = ["action", "pk"]

    def __str__(self) -> str:
        return self.name


class PurgeSchedule(models.Model):
    """The live chain of daily purge jobs (``tasks``): only the job holding ``token`` goes on."""

    name = models.CharField(max_length=40, unique=True)
    token = models.CharField(max_length=32)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "清理计划"
        verbose_name_plural = "清理计划"
