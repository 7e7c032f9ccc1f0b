"""Members' pages of 在线测评 (CMS only, under /accounts/; never rendered by the static publisher).

Every page needs a signed-in member (others: the login page; a signed-in non-member: 403); an attempt is
found among the member's own only (anyone else's: 404). Correct answers and explanations appear only on
the result of the member's own finished attempt.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import services
from .models import Attempt

RECENT = 20


def member_only(view):
    def wrapped(request, *args, **kwargs):
        if not services.may_take_quizzes(request.user):
            raise PermissionDenied("仅会员可参加在线测评。")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return never_cache(login_required(wrapped))


@member_only
@require_http_methods(["GET", "HEAD"])
def quiz_list(request):
    """在线测评: the open quizzes with the member's best score, and their recent attempts."""
    quizzes = list(services.open_quizzes())
    best = services.best_scores(request.user, quizzes)
    rows = [{"quiz": quiz, "best": best.get(quiz.pk)} for quiz in quizzes]
    attempts = list(services.attempts_of(request.user)[:RECENT])
    return render(request, "quiz/quiz_list.html", {"rows": rows, "attempts": attempts})


@member_only
@require_http_methods(["GET", "HEAD", "POST"])
def quiz_detail(request, pk: int):
    """A quiz's rules and the member's attempts; POST starts (or resumes) an attempt."""
    quiz = get_object_or_404(services.open_quizzes(), pk=pk)
    if request.method == "POST":
        try:
            attempt, _created = services.start(quiz, request.user)
        except services.QuizRefused as exc:
            messages.error(request, str(exc))
            return redirect("quiz_detail", pk=quiz.pk)
        return redirect("quiz_attempt", pk=attempt.pk)
    attempts = list(services.attempts_of(request.user).filter(quiz=quiz))
    context = {
        "quiz": quiz,
        "attempts": attempts,
        "current": services.open_attempt(quiz, request.user),
        "refusal": services.refusal(quiz, request.user),
    }
    return render(request, "quiz/quiz_detail.html", context)


@member_only
@require_http_methods(["GET", "HEAD", "POST"])
def quiz_attempt(request, pk: int):
    """The member's own attempt: the answer form while open (POST submits it), the result once finished."""
    attempt = get_object_or_404(Attempt.objects.select_related("quiz"), pk=pk, user=request.user)
    error, status = None, 200
    if request.method == "POST":
        raw = {
            str(index): request.POST.getlist(f"q{index}")
            for index in range(1, len(attempt.questions) + 1)
            if request.POST.getlist(f"q{index}")
        }
        try:
            services.submit(attempt, raw)
        except services.QuizRefused as exc:
            messages.error(request, str(exc))
            return redirect("quiz_attempt", pk=attempt.pk)
        except services.BadAnswers as exc:
            error, status = str(exc), 400
        else:
            return redirect("quiz_attempt", pk=attempt.pk)
    attempt.refresh_from_db()
    context = {
        "attempt": attempt,
        "quiz": attempt.quiz,
        "view": services.view(attempt, request.user),
        "error": error,
        "refusal": services.refusal(attempt.quiz, request.user) if attempt.is_finished else None,
    }
    return render(request, "quiz/attempt.html", context, status=status)
