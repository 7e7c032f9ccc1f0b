"""Models of 题库与在线测评: questions (snippets), quizzes (snippets) and members' attempts.

A question has choices (inline), some of them correct; ``validate_choices`` is the one rule of what a
well-formed question is, used by the admin form, the demo and the tests. A quiz is fixed (the questions
an editor chose, in order) or random (N questions drawn from a topic when an attempt starts). An attempt
freezes the questions it drew, with their choices, correct answers, points, explanation and linked study
materials, and the quiz's scoring rule and pass mark, so that scoring and the result never change when
editors later edit or delete a question or the quiz. Scoring is ``members.quiz.scoring``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable
from wagtail.search import index


class Kind(models.TextChoices):
    SINGLE = "single", _("单选题")
    MULTIPLE = "multiple", _("多选题")
    TRUE_FALSE = "true_false", _("判断题")


class PartialCredit(models.TextChoices):
    """How a multiple-choice answer that is not exactly right scores (single choice and true/false are
    all or nothing). Under every rule an answer with any wrong choice, or no choice, scores 0, and the
    exact set of correct choices scores the question's full points."""

    NONE = "none", _("不给分（须全部选对）")
    HALF = "half", _("少选得一半分（选对部分且无错选）")
    PROPORTIONAL = "proportional", _("按比例得分（选对的正确项数 ÷ 正确项总数，无错选）")


def validate_choices(kind: str, choices: list[tuple[str, bool]]) -> None:
    """Raise ValidationError unless ``choices`` ((text, is_correct) pairs) fit a question of ``kind``:
    single choice: at least two choices, exactly one correct; multiple choice: at least two choices, at
    least one correct; true/false: exactly two choices, exactly one correct. Every choice has text."""
    if any(not (text or "").strip() for text, _correct in choices):
        raise ValidationError(_("选项内容不能为空。"))
    correct = sum(1 for _text, ok in choices if ok)
    if kind == Kind.TRUE_FALSE:
        if len(choices) != 2 or correct != 1:
            raise ValidationError(_("判断题须恰有两个选项（如“正确”“错误”），其中一个为正确答案。"))
    elif kind == Kind.SINGLE:
        if len(choices) < 2 or correct != 1:
            raise ValidationError(_("单选题须至少有两个选项，且恰有一个正确答案。"))
    elif kind == Kind.MULTIPLE:
        if len(choices) < 2 or correct < 1:
            raise ValidationError(_("多选题须至少有两个选项，且至少有一个正确答案。"))
    else:
        raise ValidationError(_("未知的题型。"))


class QuestionForm(WagtailAdminModelForm):
    """The admin form: the choices (an inline formset) must fit the question's kind."""

    def clean(self):
        cleaned = super().clean()
        formset = self.formsets.get("choices")
        if formset is None or not formset.is_valid():
            return cleaned
        choices = [
            (form.cleaned_data.get("text", ""), bool(form.cleaned_data.get("is_correct")))
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            validate_choices(cleaned.get("kind"), choices)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class Question(index.Indexed, ClusterableModel):
    """A question of the bank (题库)."""

    kind = models.CharField(_("题型"), max_length=16, choices=Kind.choices, default=Kind.SINGLE)
    stem = models.TextField(_("题干"))
    explanation = models.TextField(_("解析"), blank=True, help_text=_("作答后向会员展示，说明正确答案的依据。"))
    points = models.PositiveSmallIntegerField(
        _("分值"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    topics = ParentalManyToManyField("cms.Topic", verbose_name=_("学习专题"), blank=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    base_form_class = QuestionForm
    panels = [
        FieldRowPanel([FieldPanel("kind"), FieldPanel("points")]),
        FieldPanel("stem"),
        InlinePanel("choices", label=_("选项"), min_num=2, help_text=_("勾选“正确答案”标出正确选项。")),
        FieldPanel("explanation"),
        FieldPanel("topics"),
        InlinePanel("material_links", label=_("关联学习资料")),
    ]
    search_fields = [index.SearchField("stem"), index.AutocompleteField("stem"), index.FilterField("kind")]

    class Meta:
        verbose_name = _("试题")
        verbose_name_plural = _("试题")
        ordering = ["pk"]

    def __str__(self):
        stem = " ".join(self.stem.split())
        return stem if len(stem) <= 40 else stem[:39] + "…"

    def choice_list(self) -> list[QuestionChoice]:
        return list(self.choices.all())

    def full_clean_choices(self) -> None:
        validate_choices(self.kind, [(c.text, c.is_correct) for c in self.choice_list()])

    def frozen(self) -> dict:
        """What an attempt keeps of this question (see the module docstring)."""
        choices = self.choice_list()
        return {
            "question": self.pk,
            "kind": self.kind,
            "stem": self.stem,
            "points": self.points,
            "choices": [
                {"key": chr(ord("A") + i), "text": c.text, "correct": bool(c.is_correct)} for i, c in enumerate(choices)
            ],
            "explanation": self.explanation,
            "materials": [link.page_id for link in self.material_links.all()],
        }


class QuestionChoice(Orderable):
    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(_("选项内容"), max_length=500)
    is_correct = models.BooleanField(_("正确答案"), default=False)

    panels = [FieldRowPanel([FieldPanel("text"), FieldPanel("is_correct")])]

    class Meta(Orderable.Meta):
        verbose_name = _("选项")
        verbose_name_plural = _("选项")

    def __str__(self):
        return self.text


class QuestionMaterial(Orderable):
    """A study material (党建书苑) a question links to: shown with the explanation in the result."""

    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="material_links")
    page = models.ForeignKey(
        "cms.StudyMaterialPage", verbose_name=_("学习资料"), on_delete=models.CASCADE, related_name="+"
    )

    panels = [FieldPanel("page")]

    class Meta(Orderable.Meta):
        verbose_name = _("关联学习资料")
        verbose_name_plural = _("关联学习资料")

    def __str__(self):
        return str(self.page)


class Mode(models.TextChoices):
    FIXED = "fixed", _("固定试题（按顺序）")
    RANDOM = "random", _("随机抽题（从专题中抽取）")


class Quiz(ClusterableModel):
    """An assessment (测评) members take: fixed questions, or N drawn at random from a topic."""

    title = models.CharField(_("标题"), max_length=200)
    intro = models.TextField(_("说明"), blank=True)
    mode = models.CharField(_("组卷方式"), max_length=8, choices=Mode.choices, default=Mode.FIXED)
    topic = models.ForeignKey(
        "cms.Topic",
        verbose_name=_("抽题专题"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("随机抽题时从该专题的试题中抽取。"),
    )
    draw_count = models.PositiveSmallIntegerField(
        _("抽题数量"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    draw_kind = models.CharField(
        _("抽取题型"), max_length=16, choices=Kind.choices, blank=True, help_text=_("留空则不限题型。")
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("及格线（%）"),
        default=60,
        validators=[MaxValueValidator(100)],
        help_text=_("得分占总分的百分比达到此值即为合格。"),
    )
    partial_credit = models.CharField(
        _("多选题部分得分"), max_length=16, choices=PartialCredit.choices, default=PartialCredit.HALF,
        help_text=_("有错选或未作答一律不得分；全部选对得满分。"),
    )
    allow_retries = models.BooleanField(_("允许重做"), default=True)
    max_attempts = models.PositiveSmallIntegerField(
        _("最多作答次数"), null=True, blank=True, validators=[MinValueValidator(1)], help_text=_("留空则不限次数。")
    )
    is_open = models.BooleanField(_("开放作答"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("intro"),
        MultiFieldPanel(
            [
                FieldPanel("mode"),
                InlinePanel("quiz_questions", label=_("固定试题")),
                FieldRowPanel([FieldPanel("topic"), FieldPanel("draw_count"), FieldPanel("draw_kind")]),
            ],
            heading=_("组卷"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("pass_mark"), FieldPanel("partial_credit")]),
                FieldRowPanel([FieldPanel("allow_retries"), FieldPanel("max_attempts")]),
                FieldPanel("is_open"),
            ],
            heading=_("规则"),
        ),
    ]

    class Meta:
        verbose_name = _("测评")
        verbose_name_plural = _("测评")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        if self.mode == Mode.RANDOM:
            errors = {}
            if self.topic_id is None:
                errors["topic"] = _("随机抽题须选择抽题专题。")
            if not self.draw_count:
                errors["draw_count"] = _("随机抽题须填写抽题数量。")
            if errors:
                raise ValidationError(errors)
        if not self.allow_retries and self.max_attempts not in (None, 1):
            raise ValidationError({"max_attempts": _("不允许重做时最多作答一次。")})

    @property
    def attempt_limit(self) -> int | None:
        """How many attempts a member may start (None: no limit)."""
        if not self.allow_retries:
            return 1
        return self.max_attempts

    @property
    def question_count(self) -> int:
        if self.mode == Mode.RANDOM:
            return self.draw_count or 0
        return self.quiz_questions.count()


class QuizQuestion(Orderable):
    quiz = ParentalKey(Quiz, on_delete=models.CASCADE, related_name="quiz_questions")
    question = models.ForeignKey(Question, verbose_name=_("试题"), on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("question")]

    class Meta(Orderable.Meta):
        verbose_name = _("固定试题")
        verbose_name_plural = _("固定试题")
        constraints = [models.UniqueConstraint(fields=["quiz", "question"], name="quiz_question_once")]


class Attempt(models.Model):
    """One member's go at a quiz. ``questions`` is frozen when it starts; ``answers`` (question index →
    chosen keys), ``results``, the score and ``finished_at`` are set once, when it is submitted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("会员"), on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    quiz = models.ForeignKey(Quiz, verbose_name=_("测评"), on_delete=models.CASCADE, related_name="attempts")
    questions = models.JSONField(_("试题（作答时冻结）"), default=list)
    partial_credit = models.CharField(_("多选题部分得分"), max_length=16, choices=PartialCredit.choices)
    pass_mark = models.PositiveSmallIntegerField(_("及格线（%）"))
    answers = models.JSONField(_("作答"), default=dict, blank=True)
    results = models.JSONField(_("逐题得分"), default=list, blank=True)
    score = models.DecimalField(_("得分"), max_digits=8, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(_("总分"), max_digits=8, decimal_places=2, default=Decimal(0))
    passed = models.BooleanField(_("合格"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("交卷时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("作答记录")
        verbose_name_plural = _("作答记录")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["user", "quiz"], name="quiz_attempt_user_quiz")]

    def __str__(self):
        return f"{self.quiz} · {self.user}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def percent(self) -> Decimal | None:
        if self.score is None or not self.max_score:
            return None
        return (self.score * 100 / self.max_score).quantize(Decimal("0.1"))
