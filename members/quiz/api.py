"""题库与在线测评 in the headless API (member tokens): URL patterns under /api/v2/ and their OpenAPI paths.

Every endpoint needs a member's access token (none: 401; a non-member's: 403). A member reads only their
own attempts (anyone else's: 404). Starting an attempt returns its questions without answers; the correct
choices, per-question scores and explanations come back only from the member's own finished attempt.
Responses are per member and never cached (``Cache-Control: private, no-store``).
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import path
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api.views import MAX_OFFSET, ApiViewMixin, window_bounds

from . import services
from .models import Attempt, Quiz


class _MemberView(ApiViewMixin, APIView):
    parser_classes = [JSONParser]
    query_params: frozenset[str] = frozenset()  # the query parameters the endpoint takes; others are a 400

    def initial(self, request, *args, **kwargs):
        # an undeclared method is a 405 (as everywhere in the API); then who is calling: 401 before anything
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <access token>' of a member.")
        super().initial(request, *args, **kwargs)
        if not services.may_take_quizzes(request.user):
            raise exceptions.PermissionDenied("仅会员可参加在线测评。")
        unknown = sorted(set(request.GET) - self.query_params)
        if unknown:
            raise exceptions.ValidationError({"message": f"query parameter is not recognised: {unknown[0][:40]}"})

    def handle_exception(self, exc):
        if isinstance(exc, Http404):  # raised by ApiViewMixin.initial for ids past MAX_NUMBER
            exc = exceptions.NotFound(str(exc) or "not found")
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    def page(self, queryset):
        offset, limit = window_bounds(self.request)
        return queryset.count(), list(queryset[offset : offset + limit])

    def quiz(self, pk) -> Quiz:
        quiz = services.open_quizzes().filter(pk=pk).first()
        if quiz is None:
            raise exceptions.NotFound("No such quiz.")
        return quiz


def quiz_item(quiz: Quiz, stats: dict, current: int | None) -> dict:
    used = stats.get("used", 0)
    problem = services.refusal(quiz, None, used=used)
    return {
        "id": quiz.pk,
        "title": quiz.title,
        "intro": quiz.intro,
        "mode": quiz.mode,
        "question_count": quiz.question_count,
        "pass_mark": quiz.pass_mark,
        "partial_credit": quiz.partial_credit,
        "allow_retries": quiz.allow_retries,
        "max_attempts": quiz.attempt_limit,
        "attempts_used": used,
        "best_score": None if stats.get("best") is None else float(stats["best"]),
        "open_attempt": current,
        "can_start": current is not None or problem is None,
        "refusal": None if current is not None else problem,
    }


def quiz_items(user, quizzes) -> list[dict]:
    stats = services.member_stats(user, quizzes)
    current = dict(
        Attempt.objects.filter(user=user, quiz__in=quizzes, finished_at__isnull=True)
        .order_by("pk")
        .values_list("quiz", "pk")
    )
    return [quiz_item(quiz, stats.get(quiz.pk, {}), current.get(quiz.pk)) for quiz in quizzes]


def attempt_summary(attempt: Attempt) -> dict:
    return {
        "id": attempt.pk,
        "quiz": {"id": attempt.quiz_id, "title": attempt.quiz.title},
        "started_at": attempt.started_at,
        "finished_at": attempt.finished_at,
        "score": None if attempt.score is None else float(attempt.score),
        "max_score": float(attempt.max_score),
        "passed": attempt.passed,
    }


class QuizListView(_MemberView):
    """GET: the open quizzes, with the member's attempts and best score."""

    query_params = frozenset({"offset", "limit"})

    def get(self, request):
        total, quizzes = self.page(services.open_quizzes())
        return Response({"meta": {"total_count": total}, "items": quiz_items(request.user, quizzes)})


class QuizDetailView(_MemberView):
    """GET: one open quiz's rules and the member's standing."""

    def get(self, request, pk):
        return Response(quiz_items(request.user, [self.quiz(pk)])[0])


class QuizStartView(_MemberView):
    """POST: start an attempt (201) or resume the unfinished one (200); its questions come without answers."""

    def post(self, request, pk):
        quiz = self.quiz(pk)
        if request.data not in ({}, None) and not isinstance(request.data, dict):
            raise exceptions.ValidationError({"message": "The body must be empty or a JSON object."})
        try:
            attempt, created = services.start(quiz, request.user)
        except services.QuizRefused as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        return Response(services.view(attempt, request.user), status=201 if created else 200)


class AttemptListView(_MemberView):
    """GET: the member's own attempts, newest first."""

    query_params = frozenset({"offset", "limit"})

    def get(self, request):
        total, attempts = self.page(services.attempts_of(request.user))
        return Response({"meta": {"total_count": total}, "items": [attempt_summary(a) for a in attempts]})


class AttemptDetailView(_MemberView):
    """GET: the member's own attempt. POST {"answers": {"1": ["A"], ...}}: submit it and get the result."""

    def attempt(self, pk) -> Attempt:
        attempt = Attempt.objects.select_related("quiz").filter(pk=pk, user=self.request.user).first()
        if attempt is None:
            raise exceptions.NotFound("No such attempt.")
        return attempt

    def get(self, request, pk):
        return Response(services.view(self.attempt(pk), request.user))

    def post(self, request, pk):
        attempt = self.attempt(pk)
        data = request.data
        if not isinstance(data, dict) or set(data) != {"answers"}:
            raise exceptions.ValidationError({"message": 'The body must be a JSON object {"answers": {...}}.'})
        try:
            attempt = services.submit(attempt, data["answers"])
        except services.BadAnswers as exc:
            raise exceptions.ValidationError({"message": str(exc)}) from exc
        except services.QuizRefused as exc:
            return Response({"message": str(exc)}, status=409)
        return Response(services.view(attempt, request.user))


urlpatterns: list = [
    path("api/v2/quizzes/", QuizListView.as_view(), name="api_quiz_list"),
    path("api/v2/quizzes/<int:pk>/", QuizDetailView.as_view(), name="api_quiz_detail"),
    path("api/v2/quizzes/<int:pk>/attempts/", QuizStartView.as_view(), name="api_quiz_start"),
    path("api/v2/quiz-attempts/", AttemptListView.as_view(), name="api_quiz_attempt_list"),
    path("api/v2/quiz-attempts/<int:pk>/", AttemptDetailView.as_view(), name="api_quiz_attempt_detail"),
]


def _responses(*codes: int) -> dict:
    from cms.api.openapi import error_responses, ref

    texts = {
        403: "The caller is not a member, or may not start this quiz now (closed, attempts used up); "
        "the message says why.",
        409: "The attempt was submitted already.",
    }
    out = error_responses(*[c for c in codes if c not in texts])
    for code in codes:
        if code in texts:
            out[str(code)] = {"description": texts[code], "content": {"application/json": {"schema": ref("Error")}}}
    return out


def _ok(description: str, schema: str) -> dict:
    from cms.api.openapi import ref

    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def openapi_paths() -> dict:
    """OpenAPI path items of this part, merged into cms.api.openapi.build_schema."""
    member = [{"bearerAuth": []}]
    pk = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    limit_max = getattr(settings, "WAGTAILAPI_LIMIT_MAX", 20)
    window = [
        {"name": "offset", "in": "query", "description": "items to skip",
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}},
        {"name": "limit", "in": "query", "description": "items per page (default 20)",
         "schema": {"type": "integer", "minimum": 0, "maximum": limit_max}},
    ]
    return {
        "/api/v2/quizzes/": {
            "get": {
                "operationId": "listQuizzes",
                "summary": "Open quizzes (在线测评) with the member's attempts and best score",
                "security": member,
                "parameters": window,
                "responses": {"200": _ok("The open quizzes, newest first.", "QuizList"), **_responses(400, 401, 403, 429)},
            }
        },
        "/api/v2/quizzes/{id}/": {
            "get": {
                "operationId": "getQuiz",
                "summary": "One open quiz: its rules and the member's standing",
                "security": member,
                "parameters": [pk],
                "responses": {"200": _ok("The quiz.", "Quiz"), **_responses(401, 403, 404, 429)},
            }
        },
        "/api/v2/quizzes/{id}/attempts/": {
            "post": {
                "operationId": "startQuizAttempt",
                "summary": "Start an attempt, or resume the member's unfinished one; questions come without answers",
                "security": member,
                "parameters": [pk],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": False}}},
                },
                "responses": {
                    "200": _ok("The member's unfinished attempt, resumed.", "QuizAttempt"),
                    "201": _ok("A new attempt with the questions drawn for it.", "QuizAttempt"),
                    **_responses(400, 401, 403, 404, 429),
                },
            }
        },
        "/api/v2/quiz-attempts/": {
            "get": {
                "operationId": "listQuizAttempts",
                "summary": "The member's own attempts, newest first",
                "security": member,
                "parameters": window,
                "responses": {
                    "200": _ok("The member's attempts.", "QuizAttemptList"),
                    **_responses(400, 401, 403, 429),
                },
            }
        },
        "/api/v2/quiz-attempts/{id}/": {
            "get": {
                "operationId": "getQuizAttempt",
                "summary": "The member's own attempt: questions while open; answers, scores and explanations once finished",
                "security": member,
                "parameters": [pk],
                "responses": {"200": _ok("The attempt.", "QuizAttempt"), **_responses(401, 403, 404, 429)},
            },
            "post": {
                "operationId": "submitQuizAttempt",
                "summary": "Submit the answers of the member's own attempt; get the score, the correct choices and explanations",
                "security": member,
                "parameters": [pk],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QuizAnswers"}}},
                },
                "responses": {
                    "200": _ok("The finished attempt.", "QuizAttempt"),
                    **_responses(400, 401, 403, 404, 409, 429),
                },
            },
        },
    }


def _listing(item: str) -> dict:
    """A paged listing of ``item`` (the shape of every listing in the API)."""
    return {
        "type": "object",
        "required": ["meta", "items"],
        "properties": {
            "meta": {"type": "object", "required": ["total_count"], "properties": {"total_count": {"type": "integer"}}},
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
        },
    }


def openapi_components() -> dict:
    """OpenAPI component schemas of this part (names must not clash with the core's)."""
    number = {"type": "number", "minimum": 0}
    nullable_number = {"type": ["number", "null"], "minimum": 0}
    kind = {"type": "string", "enum": ["single", "multiple", "true_false"]}
    rule = {
        "type": "string",
        "enum": ["none", "half", "proportional"],
        "description": "Multiple-choice partial credit. Any wrong choice or no choice scores 0 and the exact "
        "set scores full points under every rule; a correct subset scores 0 (none), half the points (half, "
        "少选得一半分) or points × chosen ÷ correct (proportional); rounded to 0.01.",
    }
    ref_quiz = {
        "type": "object",
        "required": ["id", "title"],
        "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
    }
    stamp = {"type": "string", "format": "date-time"}
    return {
        "Quiz": {
            "type": "object",
            "required": [
                "id", "title", "intro", "mode", "question_count", "pass_mark", "partial_credit", "allow_retries",
                "max_attempts", "attempts_used", "best_score", "open_attempt", "can_start", "refusal",
            ],
            "properties": {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "intro": {"type": "string"},
                "mode": {"type": "string", "enum": ["fixed", "random"]},
                "question_count": {"type": "integer", "minimum": 0},
                "pass_mark": {"type": "integer", "minimum": 0, "maximum": 100, "description": "percent of max_score"},
                "partial_credit": rule,
                "allow_retries": {"type": "boolean"},
                "max_attempts": {"type": ["integer", "null"], "minimum": 1, "description": "null: no limit"},
                "attempts_used": {"type": "integer", "minimum": 0},
                "best_score": nullable_number,
                "open_attempt": {"type": ["integer", "null"], "description": "the member's unfinished attempt"},
                "can_start": {"type": "boolean"},
                "refusal": {"type": ["string", "null"], "description": "why a new attempt may not start"},
            },
        },
        "QuizList": _listing("Quiz"),
        "QuizQuestion": {
            "type": "object",
            "description": "A question of an attempt. While the attempt is open only index, kind, stem, points "
            "and the choices' key and text are given; once finished also correct/chosen, score, is_correct, "
            "explanation and the linked study materials the member may read.",
            "required": ["index", "kind", "stem", "points", "choices"],
            "properties": {
                "index": {"type": "integer", "minimum": 1},
                "kind": kind,
                "stem": {"type": "string"},
                "points": {"type": "integer", "minimum": 1},
                "choices": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "text"],
                        "properties": {
                            "key": {"type": "string"},
                            "text": {"type": "string"},
                            "correct": {"type": "boolean"},
                            "chosen": {"type": "boolean"},
                        },
                    },
                },
                "score": number,
                "is_correct": {"type": "boolean"},
                "explanation": {"type": "string"},
                "materials": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["title", "url"],
                        "properties": {"title": {"type": "string"}, "url": {"type": ["string", "null"]}},
                    },
                },
            },
        },
        "QuizAttempt": {
            "type": "object",
            "required": [
                "id", "quiz", "started_at", "finished_at", "score", "max_score", "pass_mark", "passed",
                "partial_credit", "questions",
            ],
            "properties": {
                "id": {"type": "integer"},
                "quiz": ref_quiz,
                "started_at": stamp,
                "finished_at": {"type": ["string", "null"], "format": "date-time"},
                "score": nullable_number,
                "max_score": number,
                "pass_mark": {"type": "integer", "minimum": 0, "maximum": 100},
                "passed": {"type": ["boolean", "null"]},
                "partial_credit": rule,
                "questions": {"type": "array", "items": {"$ref": "#/components/schemas/QuizQuestion"}},
            },
        },
        "QuizAttemptSummary": {
            "type": "object",
            "required": ["id", "quiz", "started_at", "finished_at", "score", "max_score", "passed"],
            "properties": {
                "id": {"type": "integer"},
                "quiz": ref_quiz,
                "started_at": stamp,
                "finished_at": {"type": ["string", "null"], "format": "date-time"},
                "score": nullable_number,
                "max_score": number,
                "passed": {"type": ["boolean", "null"]},
            },
        },
        "QuizAttemptList": _listing("QuizAttemptSummary"),
        "QuizAnswers": {
            "type": "object",
            "required": ["answers"],
            "additionalProperties": False,
            "properties": {
                "answers": {
                    "type": "object",
                    "description": "question index (1-based, as a string) → the chosen choice keys; unanswered "
                    "questions may be left out (they score 0)",
                    "additionalProperties": {
                        "type": "array",
                        "items": {"type": "string", "pattern": "^[A-Z]$"},
                        "uniqueItems": True,
                        "maxItems": 26,
                    },
                    "propertyNames": {"pattern": "^[1-9][0-9]*$"},
                }
            },
        },
    }
