"""What members do with quizzes, for the members' pages and the API alike: which quizzes they may take,
starting an attempt (drawing and freezing its questions), submitting answers (scoring once, then
``signals.attempt_finished``) and what an attempt shows (answers and explanations only once finished).

Only members take quizzes (``cms.visibility.is_member``). A member has at most one unfinished attempt
per quiz: starting again resumes it, so a random draw can't be re-rolled. Every attempt started counts
towards the quiz's limit (one without retries, ``max_attempts`` with them). A closed quiz refuses new
attempts; an attempt already started may still be submitted.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from cms import visibility

from . import scoring
from .models import Attempt, Mode, Question, Quiz
from .signals import attempt_finished

MAX_ANSWER_KEYS = 26


class QuizRefused(Exception):
    """A member may not start (or submit) this attempt; the message says why, in Chinese."""


class BadAnswers(ValueError):
    """Submitted answers that don't fit the attempt's questions; the message says what is wrong."""


def may_take_quizzes(user) -> bool:
    return visibility.is_member(user)


def open_quizzes():
    return Quiz.objects.filter(is_open=True).order_by("-created_at", "-pk")


def attempts_of(user):
    return Attempt.objects.filter(user=user).select_related("quiz").order_by("-started_at", "-pk")


def best_scores(user, quizzes) -> dict[int, Decimal]:
    return {pk: stats["best"] for pk, stats in member_stats(user, quizzes).items() if stats["best"] is not None}


def member_stats(user, quizzes) -> dict[int, dict]:
    """For each quiz the member has attempted: attempts started (``used``) and the best finished score."""
    rows = (
        Attempt.objects.filter(user=user, quiz__in=quizzes)
        .values("quiz")
        .annotate(used=Count("pk"), best=Max("score", filter=Q(finished_at__isnull=False)))
        .order_by()
    )
    return {row["quiz"]: {"used": row["used"], "best": row["best"]} for row in rows}


def open_attempt(quiz: Quiz, user) -> Attempt | None:
    return Attempt.objects.filter(quiz=quiz, user=user, finished_at__isnull=True).order_by("-pk").first()


def refusal(quiz: Quiz, user, used: int | None = None) -> str | None:
    """Why ``user`` may not start a new attempt of ``quiz`` now, or None. ``used``: the member's attempts
    of the quiz, when the caller has counted them already."""
    if not quiz.is_open:
        return "该测评已关闭，暂不能作答。"
    limit = quiz.attempt_limit
    if limit is not None:
        if used is None:
            used = Attempt.objects.filter(quiz=quiz, user=user).count()
        if used >= limit:
            if not quiz.allow_retries:
                return "该测评只能作答一次，您已作答过。"
            return f"该测评最多可作答 {limit} 次，您已用完。"
    return None


def _usable(question: Question) -> bool:
    try:
        question.full_clean_choices()
    except ValidationError:
        return False
    return True


def draw(quiz: Quiz) -> list[Question]:
    """The questions of a new attempt: the quiz's own in order (fixed), or ``draw_count`` distinct ones
    drawn at random from the topic (and kind) (random; all of them when there are fewer). Questions whose
    choices don't fit their kind are left out (a random draw takes another in their place)."""
    if quiz.mode != Mode.RANDOM:
        links = quiz.quiz_questions.select_related("question").prefetch_related("question__choices", "question__material_links")
        return [link.question for link in links.order_by("sort_order", "pk") if _usable(link.question)]
    pool = Question.objects.filter(topics=quiz.topic_id) if quiz.topic_id else Question.objects.none()
    if quiz.draw_kind:
        pool = pool.filter(kind=quiz.draw_kind)
    ids = sorted(set(pool.values_list("pk", flat=True)))
    random.SystemRandom().shuffle(ids)
    wanted, drawn = quiz.draw_count or 0, []
    while ids and len(drawn) < wanted:
        batch, ids = ids[: wanted * 2], ids[wanted * 2 :]
        found = Question.objects.prefetch_related("choices", "material_links").in_bulk(batch)
        drawn += [found[pk] for pk in batch if pk in found and _usable(found[pk])]
    return drawn[:wanted]


def start(quiz: Quiz, user) -> tuple[Attempt, bool]:
    """The member's unfinished attempt of ``quiz`` (False), or a new one with frozen questions (True).
    Raises QuizRefused when a new one may not start."""
    with transaction.atomic():
        # one start at a time per member: two clicks never make two attempts
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        current = open_attempt(quiz, user)
        if current is not None:
            return current, False
        problem = refusal(quiz, user)
        if problem:
            raise QuizRefused(problem)
        frozen = [question.frozen() for question in draw(quiz)]
        if not frozen:
            raise QuizRefused("该测评暂无可作答的试题。")
        attempt = Attempt.objects.create(
            user=user,
            quiz=quiz,
            questions=frozen,
            partial_credit=quiz.partial_credit,
            pass_mark=quiz.pass_mark,
            max_score=sum((Decimal(q["points"]) for q in frozen), Decimal(0)),
        )
    return attempt, True


def clean_answers(attempt: Attempt, raw) -> dict[str, list[str]]:
    """``raw`` (question index → a list of choice keys; a JSON object) checked against the attempt's
    questions. Unanswered questions may be left out. Raises BadAnswers."""
    if not isinstance(raw, dict):
        raise BadAnswers("answers 须为对象：题号 → 所选选项列表，如 {\"1\": [\"A\"]}。")
    count = len(attempt.questions)
    answers: dict[str, list[str]] = {}
    for key, chosen in raw.items():
        if not isinstance(key, str) or not key.isascii() or not key.isdigit() or not 1 <= int(key) <= count:
            raise BadAnswers(f"answers 中的题号 {str(key)[:20]!r} 不存在（共 {count} 题，题号从 1 开始）。")
        if not isinstance(chosen, list) or len(chosen) > MAX_ANSWER_KEYS or not all(isinstance(c, str) for c in chosen):
            raise BadAnswers(f"第 {int(key)} 题的答案须为选项字母的列表。")
        question = attempt.questions[int(key) - 1]
        keys = {c["key"] for c in question["choices"]}
        unknown = [c for c in chosen if c not in keys]
        if unknown:
            raise BadAnswers(f"第 {int(key)} 题没有选项 {unknown[0][:5]!r}。")
        if len(set(chosen)) != len(chosen):
            raise BadAnswers(f"第 {int(key)} 题的答案有重复的选项。")
        if question["kind"] != "multiple" and len(chosen) > 1:
            raise BadAnswers(f"第 {int(key)} 题只能选一个选项。")
        answers[str(int(key))] = sorted(chosen)
    return answers


def submit(attempt: Attempt, raw_answers) -> Attempt:
    """Score ``raw_answers`` and finish the attempt, then send ``attempt_finished`` (once). Raises
    BadAnswers, or QuizRefused if the attempt was already submitted."""
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.is_finished:
            raise QuizRefused("该次作答已交卷，不能再次提交。")
        answers = clean_answers(attempt, raw_answers)
        results, total, maximum = scoring.score(attempt.questions, answers, attempt.partial_credit)
        attempt.answers = answers
        attempt.results = results
        attempt.score, attempt.max_score = total, maximum
        attempt.passed = bool(maximum) and total * 100 >= maximum * attempt.pass_mark
        attempt.finished_at = timezone.now()
        attempt.save(update_fields=["answers", "results", "score", "max_score", "passed", "finished_at"])
    attempt_finished.send(
        sender=Attempt,
        attempt=attempt,
        user=attempt.user,
        quiz=attempt.quiz,
        score=attempt.score,
        max_score=attempt.max_score,
        passed=attempt.passed,
    )
    return attempt


def material_links(user, ids) -> dict[int, dict]:
    """Title and absolute URL (the API's ``html_url``) of the linked study materials this member may
    read (others are left out)."""
    from cms.api.content import Resolver
    from cms.models.pages import StudyMaterialPage

    pages = visibility.pages_visible_to(user, StudyMaterialPage.objects.filter(pk__in=ids))
    resolver = Resolver(None, user, audiences=visibility.audiences_for(user))
    # where a reader reads it, from the configured base URLs (the static site for a public material)
    return {page.pk: {"title": page.title, "url": resolver.reader_url(page)} for page in pages}


def view(attempt: Attempt, user) -> dict:
    """What the member sees of their attempt: the questions without answers while it is open; with the
    choices marked (correct, chosen), the score and the explanation once it is finished."""
    questions = []
    finished = attempt.is_finished
    links = {}
    if finished:
        links = material_links(user, {pk for q in attempt.questions for pk in q.get("materials", [])})
    results = {r["index"]: r for r in attempt.results}
    for index, question in enumerate(attempt.questions, start=1):
        item = {"index": index, "kind": question["kind"], "stem": question["stem"], "points": question["points"]}
        if finished:
            chosen = set(attempt.answers.get(str(index), []))
            item["choices"] = [
                {"key": c["key"], "text": c["text"], "correct": c["correct"], "chosen": c["key"] in chosen}
                for c in question["choices"]
            ]
            item["score"] = float(Decimal(results[index]["score"]))
            item["is_correct"] = results[index]["correct"]
            item["explanation"] = question["explanation"]
            item["materials"] = [links[pk] for pk in question.get("materials", []) if pk in links]
        else:
            item["choices"] = [{"key": c["key"], "text": c["text"]} for c in question["choices"]]
        questions.append(item)
    return {
        "id": attempt.pk,
        "quiz": {"id": attempt.quiz_id, "title": attempt.quiz.title},
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "score": None if attempt.score is None else float(attempt.score),
        "max_score": float(attempt.max_score),
        "pass_mark": attempt.pass_mark,
        "passed": attempt.passed,
        "partial_credit": attempt.partial_credit,
        "questions": questions,
    }
