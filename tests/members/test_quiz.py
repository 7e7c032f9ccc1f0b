"""题库与在线测评 on the members' pages: who may see what, scoring, drawing, retries, the signal.

Negative tests first: anonymous callers are sent to the login page from every quiz URL, non-members are
refused, another member's attempt is a 404, and nobody sees a correct choice or an explanation before
their own attempt is finished.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from members.quiz import services
from members.quiz.models import Attempt, Kind, Mode, PartialCredit, Question, Quiz, validate_choices
from members.quiz.scoring import score_question
from members.quiz.signals import attempt_finished

from .quiz_fixtures import EXPLANATIONS, build, fixed_quiz, question

User = get_user_model()


@pytest.fixture
def s(db):
    return build()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def urls(s, attempt):
    return [
        reverse("quiz_list"),
        reverse("quiz_detail", kwargs={"pk": s.quiz.pk}),
        reverse("quiz_attempt", kwargs={"pk": attempt.pk}),
    ]


# --- negatives -------------------------------------------------------------------------------------


def test_anonymous_callers_are_sent_to_login_from_every_quiz_url(s):
    attempt, _ = services.start(s.quiz, s.m1)
    client = Client()
    for url in urls(s, attempt):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (method, url)
            assert response["Location"].startswith("/accounts/login/?next="), (method, url)
    assert Attempt.objects.count() == 1
    assert Attempt.objects.get().finished_at is None


def test_signed_in_non_members_are_refused(s):
    attempt, _ = services.start(s.quiz, s.m1)
    client = signed_in(s.plain)
    for url in urls(s, attempt):
        assert client.get(url).status_code == 403, url
        assert client.post(url).status_code == 403, url
    assert Attempt.objects.count() == 1


def test_another_members_attempt_is_not_found(s):
    attempt, _ = services.start(s.quiz, s.m1)
    client = signed_in(s.m2)
    url = reverse("quiz_attempt", kwargs={"pk": attempt.pk})
    # (the locale middleware tries /zh-hans/… for a path that is not found: follow it to the end)
    assert client.get(url, follow=True).status_code == 404
    assert client.post(url, {"q1": "B"}, follow=True).status_code == 404
    attempt.refresh_from_db()
    assert attempt.finished_at is None and attempt.answers == {}
    services.submit(attempt, {"1": ["B"]})
    response = client.get(url, follow=True)  # finished: still not theirs
    assert response.status_code == 404
    assert EXPLANATIONS[0] not in response.content.decode()


def test_no_answers_or_explanations_before_the_members_own_attempt_is_finished(s):
    client = signed_in(s.m1)
    pages = [client.get(reverse("quiz_list")), client.get(reverse("quiz_detail", kwargs={"pk": s.quiz.pk}))]
    started = client.post(reverse("quiz_detail", kwargs={"pk": s.quiz.pk}))
    assert started.status_code == 302
    attempt = Attempt.objects.get(user=s.m1)
    assert started["Location"] == reverse("quiz_attempt", kwargs={"pk": attempt.pk})
    form = client.get(started["Location"])
    pages.append(form)
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        for explanation in EXPLANATIONS:
            assert explanation not in html
        assert "choice-correct" not in html and "正确答案" not in html
        assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    html = form.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    assert html.count('type="radio" name="q1"') == 3 and html.count('type="checkbox" name="q2"') == 4


def test_retry_refused_when_the_quiz_does_not_allow_it(s):
    s.quiz.allow_retries = False
    s.quiz.save()
    client = signed_in(s.m1)
    detail = reverse("quiz_detail", kwargs={"pk": s.quiz.pk})
    client.post(detail)
    attempt = Attempt.objects.get()
    # resuming the unfinished attempt is not a retry
    assert client.post(detail)["Location"] == reverse("quiz_attempt", kwargs={"pk": attempt.pk})
    client.post(reverse("quiz_attempt", kwargs={"pk": attempt.pk}), {"q1": "B"})
    response = client.post(detail, follow=True)
    assert "该测评只能作答一次，您已作答过。" in response.content.decode()
    assert Attempt.objects.count() == 1
    with pytest.raises(services.QuizRefused):
        services.start(s.quiz, s.m1)
    # another member still may
    assert services.start(s.quiz, s.m2)[1] is True


def test_retry_refused_when_max_attempts_reached(s):
    s.quiz.max_attempts = 2
    s.quiz.save()
    for _ in range(2):
        attempt, created = services.start(s.quiz, s.m1)
        assert created
        services.submit(attempt, {})
    with pytest.raises(services.QuizRefused, match="最多可作答 2 次"):
        services.start(s.quiz, s.m1)
    response = signed_in(s.m1).get(reverse("quiz_detail", kwargs={"pk": s.quiz.pk}))
    assert "最多可作答 2 次，您已用完。" in response.content.decode()
    assert Attempt.objects.filter(user=s.m1).count() == 2


def test_closed_quiz_is_not_listed_and_refuses_new_attempts(s):
    attempt, _ = services.start(s.quiz, s.m1)
    s.quiz.is_open = False
    s.quiz.save()
    client = signed_in(s.m2)
    assert s.quiz.title not in client.get(reverse("quiz_list")).content.decode()
    assert client.get(reverse("quiz_detail", kwargs={"pk": s.quiz.pk}), follow=True).status_code == 404
    assert client.post(reverse("quiz_detail", kwargs={"pk": s.quiz.pk}), follow=True).status_code == 404
    with pytest.raises(services.QuizRefused, match="已关闭"):
        services.start(s.quiz, s.m2)
    services.submit(attempt, {"1": ["B"]})  # one already started may still be handed in
    assert Attempt.objects.count() == 1


def test_question_validation():
    with pytest.raises(ValidationError):
        validate_choices(Kind.SINGLE, [("甲", True), ("乙", True)])
    with pytest.raises(ValidationError):
        validate_choices(Kind.SINGLE, [("甲", False), ("乙", False)])
    with pytest.raises(ValidationError):
        validate_choices(Kind.SINGLE, [("甲", True)])
    with pytest.raises(ValidationError):
        validate_choices(Kind.MULTIPLE, [("甲", True)])
    with pytest.raises(ValidationError):
        validate_choices(Kind.MULTIPLE, [("甲", False), ("乙", False)])
    with pytest.raises(ValidationError):
        validate_choices(Kind.TRUE_FALSE, [("正确", True), ("错误", False), ("不知道", False)])
    with pytest.raises(ValidationError):
        validate_choices(Kind.TRUE_FALSE, [("正确", True), ("错误", True)])
    with pytest.raises(ValidationError):
        validate_choices(Kind.MULTIPLE, [("甲", True), (" ", False)])
    validate_choices(Kind.SINGLE, [("甲", True), ("乙", False)])
    validate_choices(Kind.MULTIPLE, [("甲", True), ("乙", False)])
    validate_choices(Kind.MULTIPLE, [("甲", True), ("乙", True)])
    validate_choices(Kind.TRUE_FALSE, [("正确", False), ("错误", True)])


def admin_form_data(kind, choices, **fields):
    data = {
        "kind": kind, "points": "1", "stem": "题干", "explanation": "",
        "choices-TOTAL_FORMS": str(len(choices)), "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "2", "choices-MAX_NUM_FORMS": "1000",
        "material_links-TOTAL_FORMS": "0", "material_links-INITIAL_FORMS": "0",
        "material_links-MIN_NUM_FORMS": "0", "material_links-MAX_NUM_FORMS": "1000",
    }
    for i, (text, ok) in enumerate(choices):
        data[f"choices-{i}-text"] = text
        data[f"choices-{i}-ORDER"] = str(i + 1)
        if ok:
            data[f"choices-{i}-is_correct"] = "on"
    data.update(fields)
    return data


def test_the_admin_refuses_a_question_whose_choices_do_not_fit_its_kind(s):
    admin = User.objects.create_superuser("boss", password="pw")
    client = signed_in(admin)
    add = reverse(Question.snippet_viewset.get_url_name("add"))
    for url in (
        add,
        reverse(Question.snippet_viewset.get_url_name("edit"), args=[s.single.pk]),
        reverse(Quiz.snippet_viewset.get_url_name("add")),
        reverse(Quiz.snippet_viewset.get_url_name("edit"), args=[s.quiz.pk]),
    ):
        assert client.get(url).status_code == 200, url
    before = Question.objects.count()
    response = client.post(add, admin_form_data(Kind.SINGLE, [("甲", True), ("乙", True)]))
    assert response.status_code == 200
    assert "单选题须至少有两个选项，且恰有一个正确答案。" in response.content.decode()
    response = client.post(add, admin_form_data(Kind.TRUE_FALSE, [("正确", True), ("错误", False), ("其他", False)]))
    assert "判断题须恰有两个选项" in response.content.decode()
    assert Question.objects.count() == before
    response = client.post(add, admin_form_data(Kind.MULTIPLE, [("甲", True), ("乙", True), ("丙", False)]))
    assert response.status_code == 302
    made = Question.objects.latest("pk")
    assert [(c.text, c.is_correct) for c in made.choices.all()] == [("甲", True), ("乙", True), ("丙", False)]


def test_a_random_quiz_needs_a_topic_and_a_count(s):
    quiz = Quiz(title="随机", mode=Mode.RANDOM)
    with pytest.raises(ValidationError) as info:
        quiz.full_clean()
    assert {"topic", "draw_count"} <= set(info.value.message_dict)
    quiz = Quiz(title="一次", allow_retries=False, max_attempts=3)
    with pytest.raises(ValidationError):
        quiz.full_clean()


# --- scoring ---------------------------------------------------------------------------------------

MULTI = {
    "kind": "multiple",
    "points": 4,
    "choices": [
        {"key": "A", "text": "甲", "correct": True},
        {"key": "B", "text": "乙", "correct": True},
        {"key": "C", "text": "丙", "correct": True},
        {"key": "D", "text": "丁", "correct": False},
    ],
}


@pytest.mark.parametrize(
    ("chosen", "none", "half", "proportional"),
    [
        (["A", "B", "C"], "4.00", "4.00", "4.00"),  # exact
        (["A", "B"], "0.00", "2.00", "2.67"),  # a correct subset (少选)
        (["C"], "0.00", "2.00", "1.33"),
        (["A", "B", "C", "D"], "0.00", "0.00", "0.00"),  # every correct one and a wrong one
        (["A", "D"], "0.00", "0.00", "0.00"),  # a wrong choice
        (["D"], "0.00", "0.00", "0.00"),
        ([], "0.00", "0.00", "0.00"),  # empty
    ],
)
def test_multiple_choice_partial_credit(chosen, none, half, proportional):
    for rule, expected in ((PartialCredit.NONE, none), (PartialCredit.HALF, half), (PartialCredit.PROPORTIONAL, proportional)):
        assert score_question(MULTI, chosen, rule) == Decimal(expected), (rule, chosen)


def test_single_and_true_false_are_all_or_nothing():
    single = {"kind": "single", "points": 2, "choices": [
        {"key": "A", "text": "甲", "correct": False}, {"key": "B", "text": "乙", "correct": True}]}
    true_false = {"kind": "true_false", "points": 1, "choices": [
        {"key": "A", "text": "正确", "correct": True}, {"key": "B", "text": "错误", "correct": False}]}
    for rule in PartialCredit.values:
        assert score_question(single, ["B"], rule) == Decimal("2.00")
        assert score_question(single, ["A"], rule) == 0
        assert score_question(single, [], rule) == 0
        assert score_question(true_false, ["A"], rule) == Decimal("1.00")
        assert score_question(true_false, ["B"], rule) == 0


def test_submitting_scores_the_attempt_and_marks_pass(s):
    attempt, _ = services.start(s.quiz, s.m1)  # 1 + 4 + 1 points, half credit, pass mark 60%
    attempt = services.submit(attempt, {"1": ["B"], "2": ["A", "B"], "3": ["A"]})
    assert (attempt.score, attempt.max_score, attempt.passed) == (Decimal("3.00"), Decimal("6.00"), False)
    assert [r["correct"] for r in attempt.results] == [True, False, False]
    attempt2, _ = services.start(s.quiz, s.m1)
    attempt2 = services.submit(attempt2, {"1": ["B"], "2": ["A", "B"], "3": ["B"]})
    assert (attempt2.score, attempt2.passed) == (Decimal("4.00"), True)  # 4/6 = 66.7% ≥ 60%


def test_results_page_shows_score_correct_choices_and_explanations(s):
    client = signed_in(s.m1)
    client.post(reverse("quiz_detail", kwargs={"pk": s.quiz.pk}))
    attempt = Attempt.objects.get()
    url = reverse("quiz_attempt", kwargs={"pk": attempt.pk})
    bad = client.post(url, {"q1": "Z"})
    assert bad.status_code == 400 and "第 1 题没有选项" in bad.content.decode()
    response = client.post(url, {"q1": "B", "q2": ["A", "B", "C"], "q3": "A"}, follow=True)
    html = response.content.decode()
    assert "得分 5 / 6" in html and "合格" in html
    for explanation in EXPLANATIONS:
        assert explanation in html
    assert "choice-correct" in html and "中国共产党章程学习辅导" in html  # the linked material
    assert client.post(url, {"q1": "A"}, follow=True).status_code == 200  # a second hand-in is refused
    attempt.refresh_from_db()
    assert attempt.score == Decimal("5.00")
    listing = client.get(reverse("quiz_list")).content.decode()
    assert "最好成绩 5 分" in listing


# --- drawing and freezing -------------------------------------------------------------------------


def test_random_draw_takes_n_distinct_questions_of_the_topic_and_freezes_them(s):
    extra = [
        question(Kind.SINGLE, f"专题题目{i}", [("对", True), ("错", False)], topics=[s.topic]) for i in range(5)
    ]
    outside = question(Kind.SINGLE, "别的专题", [("对", True), ("错", False)], topics=[s.other_topic])
    broken = question(Kind.SINGLE, "坏题：两个正确", [("对", True), ("也对", True)], topics=[s.topic])
    quiz = Quiz.objects.create(title="随机", mode=Mode.RANDOM, topic=s.topic, draw_count=4)
    in_topic = {q.pk for q in [s.single, s.multiple, s.true_false, *extra]}
    seen = set()
    for user_index in range(6):
        user = User.objects.create_user(f"drawer{user_index}")
        user.groups.add(*s.m1.groups.all())
        attempt, _ = services.start(quiz, user)
        drawn = [q["question"] for q in attempt.questions]
        assert len(drawn) == 4 and len(set(drawn)) == 4
        assert set(drawn) <= in_topic
        assert outside.pk not in drawn and broken.pk not in drawn
        seen.update(drawn)
    assert len(seen) > 4  # not the same four every time
    # by kind: only the true/false question qualifies, so fewer than N are drawn
    by_kind = Quiz.objects.create(title="判断", mode=Mode.RANDOM, topic=s.topic, draw_count=3, draw_kind=Kind.TRUE_FALSE)
    attempt, _ = services.start(by_kind, s.m1)
    assert [q["question"] for q in attempt.questions] == [s.true_false.pk]


def test_resuming_does_not_redraw(s):
    quiz = Quiz.objects.create(title="随机", mode=Mode.RANDOM, topic=s.topic, draw_count=2)
    first, created = services.start(quiz, s.m1)
    again, created_again = services.start(quiz, s.m1)
    assert created and not created_again and again.pk == first.pk and again.questions == first.questions


def test_scoring_uses_the_frozen_questions(s):
    attempt, _ = services.start(s.quiz, s.m1)
    # editors change the question and the rule after the attempt started
    s.single.choices.update(is_correct=False)
    s.single.choices.filter(text="半年").update(is_correct=True)
    s.single.points = 10
    s.single.save()
    s.quiz.partial_credit = PartialCredit.NONE
    s.quiz.save()
    attempt = services.submit(attempt, {"1": ["B"], "2": ["A"]})
    assert attempt.score == Decimal("3.00")  # 1 (一年 still right) + 2 (half of 4)
    s.multiple.delete()
    attempt.refresh_from_db()
    view = services.view(attempt, s.m1)
    assert view["questions"][1]["stem"] == "“三会”是指哪些会议？" and view["score"] == 3.0


# --- the signal ------------------------------------------------------------------------------------


def test_attempt_finished_is_sent_once_with_the_documented_arguments(s):
    calls = []

    def receiver(sender, **kwargs):
        calls.append((sender, kwargs))

    attempt_finished.connect(receiver)
    try:
        attempt, _ = services.start(s.quiz, s.m1)
        assert calls == []
        with pytest.raises(services.BadAnswers):
            services.submit(attempt, {"9": ["A"]})
        assert calls == []
        services.submit(attempt, {"1": ["B"]})
        with pytest.raises(services.QuizRefused):
            services.submit(attempt, {"1": ["A"]})
    finally:
        attempt_finished.disconnect(receiver)
    assert len(calls) == 1
    sender, kwargs = calls[0]
    assert sender is Attempt
    assert set(kwargs) == {"signal", "attempt", "user", "quiz", "score", "max_score", "passed"}
    assert kwargs["attempt"].pk == attempt.pk and kwargs["attempt"].finished_at is not None
    assert kwargs["user"] == s.m1 and kwargs["quiz"] == s.quiz
    assert (kwargs["score"], kwargs["max_score"], kwargs["passed"]) == (Decimal("1.00"), Decimal("6.00"), False)


# --- admin and demo --------------------------------------------------------------------------------


def test_admin_quiz_listing_reports_attempts(s):
    empty = fixed_quiz([s.single], title="无人作答")
    for user, answers in ((s.m1, {"1": ["B"], "2": ["A", "B", "C"], "3": ["B"]}), (s.m2, {"1": ["A"]})):
        services.submit(services.start(s.quiz, user)[0], answers)
    services.start(s.quiz, User.objects.get(username="m1"))  # unfinished: not counted
    admin = User.objects.create_superuser("boss", password="pw")
    client = signed_in(admin)
    response = client.get(reverse(Quiz.snippet_viewset.get_url_name("list")))
    assert response.status_code == 200
    html = response.content.decode()
    assert "作答次数" in html and "平均得分率" in html and "合格率" in html
    assert "50.0%" in html  # average of 100% and 0%; one of two passed
    assert empty.title in html
    questions = client.get(reverse(Question.snippet_viewset.get_url_name("list")), {"kind": Kind.TRUE_FALSE})
    assert questions.status_code == 200
    assert "预备党员有表决权" in questions.content.decode() and "预备党员的预备期" not in questions.content.decode()
    by_topic = client.get(reverse(Question.snippet_viewset.get_url_name("list")), {"topics": s.other_topic.pk})
    assert by_topic.status_code == 200 and "预备党员有表决权" not in by_topic.content.decode()


def test_demo_loads_valid_questions_and_two_quizzes_idempotently(s):
    from members.quiz import demo

    lines = []
    before_q, before_quiz = Question.objects.count(), Quiz.objects.count()
    demo.load(s.home, lines.append)
    made = Question.objects.count() - before_q
    assert made == len(demo.QUESTIONS) >= 12 and Quiz.objects.count() - before_quiz == 2
    for q in Question.objects.filter(stem__in=[row[1] for row in demo.QUESTIONS]):
        q.full_clean_choices()
        assert q.explanation
    demo.load(s.home, lines.append)
    assert Question.objects.count() - before_q == made and Quiz.objects.count() - before_quiz == 2
    assert len(lines) == 1
    random_quiz = Quiz.objects.get(title=demo.RANDOM_QUIZ)
    attempt, _ = services.start(random_quiz, s.m1)
    assert len(attempt.questions) == 5
    fixed = Quiz.objects.get(title=demo.FIXED_QUIZ)
    assert services.start(fixed, s.m1)[0].max_score == Decimal(sum(row[4] for row in demo.QUESTIONS[:8]))
