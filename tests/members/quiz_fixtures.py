"""Shared set-up of the 题库与在线测评 tests: a home, a topic, a study material, members and questions."""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib.auth import get_user_model
from wagtail.models import Locale, Page, Site

from cms.visibility import members_group
from members.quiz.models import (
    Kind,
    Mode,
    PartialCredit,
    Question,
    QuestionChoice,
    QuestionMaterial,
    Quiz,
    QuizQuestion,
)
from tests.factories import HomePageFactory, StudyMaterialPageFactory, TopicFactory

User = get_user_model()


def home():
    Locale.objects.get_or_create(language_code="zh-hans")
    root = Page.get_first_root_node()
    for stale in root.get_children().filter(slug="home"):
        stale.delete()
    page = HomePageFactory(parent=root)
    Site.objects.update_or_create(is_default_site=True, defaults={"root_page": page, "hostname": "localhost", "port": 80})
    return page


def question(kind, stem, choices, topics=(), points=1, explanation="", materials=()):
    """``choices``: (text, correct) pairs."""
    q = Question.objects.create(kind=kind, stem=stem, points=points, explanation=explanation or f"解析：{stem}")
    QuestionChoice.objects.bulk_create(
        QuestionChoice(question=q, text=text, is_correct=ok, sort_order=i) for i, (text, ok) in enumerate(choices)
    )
    q.topics.add(*topics)
    q.save()  # ParentalManyToManyField: the links are written on save
    for i, page in enumerate(materials):
        QuestionMaterial.objects.create(question=q, page=page, sort_order=i)
    return q


def fixed_quiz(questions, title="固定测评", **options) -> Quiz:
    options.setdefault("partial_credit", PartialCredit.HALF)
    quiz = Quiz.objects.create(title=title, mode=Mode.FIXED, **options)
    QuizQuestion.objects.bulk_create(QuizQuestion(quiz=quiz, question=q, sort_order=i) for i, q in enumerate(questions))
    return quiz


def build():
    """A member m1 and m2, a non-member, a topic with a material, and three questions (single, multiple
    with three correct of four, true/false) in a fixed quiz of 1 + 4 + 1 = 6 points."""
    s = SimpleNamespace()
    s.home = home()
    s.topic = TopicFactory(name="党章党规", slug="rules")
    s.other_topic = TopicFactory(name="党史学习", slug="history")
    s.material = StudyMaterialPageFactory(parent=s.home, title="中国共产党章程学习辅导", slug="dangzhang-fudao")
    s.m1 = User.objects.create_user("m1", password="pw")
    s.m2 = User.objects.create_user("m2", password="pw")
    s.m1.groups.add(members_group())
    s.m2.groups.add(members_group())
    s.plain = User.objects.create_user("plain", password="pw")
    s.single = question(
        Kind.SINGLE, "预备党员的预备期为多长时间？", [("半年", False), ("一年", True), ("两年", False)],
        topics=[s.topic], explanation="党章规定：预备党员的预备期为一年。", materials=[s.material],
    )
    s.multiple = question(
        Kind.MULTIPLE, "“三会”是指哪些会议？",
        [("支部党员大会", True), ("党支部委员会会议", True), ("党小组会", True), ("党员代表大会", False)],
        topics=[s.topic], points=4, explanation="三会：支部党员大会、党支部委员会会议和党小组会。",
    )
    s.true_false = question(
        Kind.TRUE_FALSE, "预备党员有表决权。", [("正确", False), ("错误", True)],
        topics=[s.topic], explanation="预备党员没有表决权、选举权和被选举权。",
    )
    s.quiz = fixed_quiz([s.single, s.multiple, s.true_false], title="党章基础测评", intro="共三题。")
    return s


EXPLANATIONS = ("党章规定：预备党员的预备期为一年。", "三会：支部党员大会、党支部委员会会议和党小组会。", "预备党员没有表决权")
