"""题库与在线测评 in the headless API: member tokens only, one's own attempts only, no answers before
the attempt is finished, JSON 400 for bad input, golden responses and the OpenAPI paths.

Negative tests first. Golden files: tests/members/golden/quiz-*.json; regenerate with
``UPDATE_GOLDEN=1 pytest tests/members/test_quiz_api.py`` after reviewing the change.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import resolve

from members.quiz import api, services
from members.quiz.models import Attempt
from tests.api.helpers import ApiClient, token_for

from .quiz_fixtures import EXPLANATIONS, build

GOLDEN = Path(__file__).with_name("golden")
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT")

pytestmark = pytest.mark.usefixtures("no_limits")


@pytest.fixture
def no_limits():
    with override_settings(SHUYUAN_API=NO_LIMITS):
        yield


@pytest.fixture
def s(db):
    s = build()
    s.c1, s.c2, s.cplain = (ApiClient(token_for(u)) for u in (s.m1, s.m2, s.plain))
    return s


def endpoints(s, attempt):
    return [
        ("get", "/api/v2/quizzes/"),
        ("get", f"/api/v2/quizzes/{s.quiz.pk}/"),
        ("post", f"/api/v2/quizzes/{s.quiz.pk}/attempts/"),
        ("get", "/api/v2/quiz-attempts/"),
        ("get", f"/api/v2/quiz-attempts/{attempt.pk}/"),
        ("post", f"/api/v2/quiz-attempts/{attempt.pk}/"),
    ]


def call(client, method, url, body=None):
    if method == "post":
        return client.post(url, json.dumps(body if body is not None else {}), content_type="application/json")
    return client.get(url)


# --- negatives -------------------------------------------------------------------------------------


def test_anonymous_callers_get_401_from_every_endpoint(s):
    attempt, _ = services.start(s.quiz, s.m1)
    for method, url in endpoints(s, attempt):
        response = call(ApiClient(), method, url, {"answers": {"1": ["B"]}})
        assert response.status_code == 401, (method, url)
        assert set(response.json()) == {"message"}
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    # GET of the start endpoint (POST only) says only that the method is wrong
    response = ApiClient().get(f"/api/v2/quizzes/{s.quiz.pk}/attempts/")
    assert response.status_code == 405 and set(response.json()) == {"message"} and "POST" in response["Allow"]
    response = ApiClient().delete(f"/api/v2/quiz-attempts/{attempt.pk}/")
    assert response.status_code == 405 and {"GET", "POST"} <= {m.strip() for m in response["Allow"].split(",")}
    assert ApiClient("sy_at_not-a-token").get("/api/v2/quizzes/").status_code == 401
    attempt.refresh_from_db()
    assert attempt.finished_at is None and Attempt.objects.count() == 1


def test_non_members_get_403_from_every_endpoint(s):
    attempt, _ = services.start(s.quiz, s.m1)
    for method, url in endpoints(s, attempt):
        response = call(s.cplain, method, url, {"answers": {"1": ["B"]}})
        assert response.status_code == 403, (method, url)
        assert set(response.json()) == {"message"}
    assert Attempt.objects.count() == 1


def test_another_members_attempt_is_404(s):
    attempt, _ = services.start(s.quiz, s.m1)
    url = f"/api/v2/quiz-attempts/{attempt.pk}/"
    assert s.c2.get(url).status_code == 404
    assert s.c2.get(url).json() == {"message": "No such attempt."}
    assert call(s.c2, "post", url, {"answers": {"1": ["B"]}}).status_code == 404
    attempt.refresh_from_db()
    assert attempt.finished_at is None
    services.submit(attempt, {"1": ["B"]})
    response = s.c2.get(url)
    assert response.status_code == 404 and EXPLANATIONS[0] not in response.content.decode()
    assert s.c2.get("/api/v2/quiz-attempts/").json() == {"meta": {"total_count": 0}, "items": []}


def test_starting_returns_the_questions_without_answers(s):
    for response in (
        s.c1.get("/api/v2/quizzes/"),
        s.c1.get(f"/api/v2/quizzes/{s.quiz.pk}/"),
        call(s.c1, "post", f"/api/v2/quizzes/{s.quiz.pk}/attempts/"),
    ):
        assert response.status_code in (200, 201)
        body = response.content.decode()
        for word in ("correct", "explanation", "chosen", "materials", *EXPLANATIONS):
            assert word not in body, word
        assert response["Cache-Control"] == "private, no-store"
    started = response.json()
    assert response.status_code == 201
    assert [set(c) for q in started["questions"] for c in q["choices"]] == [{"key", "text"}] * 9
    again = s.c1.get(f"/api/v2/quiz-attempts/{started['id']}/")
    assert "correct" not in again.content.decode() and again.json() == started


def test_bad_input_is_a_json_400(s):
    attempt, _ = services.start(s.quiz, s.m1)
    url = f"/api/v2/quiz-attempts/{attempt.pk}/"
    bad_bodies = [
        "not json",
        json.dumps([]),
        json.dumps({}),
        json.dumps({"answers": [["A"]]}),
        json.dumps({"answers": {"1": ["B"]}, "extra": 1}),
        json.dumps({"answers": {"0": ["A"]}}),
        json.dumps({"answers": {"4": ["A"]}}),
        json.dumps({"answers": {"x": ["A"]}}),
        json.dumps({"answers": {"1": "B"}}),
        json.dumps({"answers": {"1": [1]}}),
        json.dumps({"answers": {"1": ["Z"]}}),
        json.dumps({"answers": {"1": ["A", "B"]}}),  # single choice: one only
        json.dumps({"answers": {"2": ["A", "A"]}}),
        json.dumps({"answers": {"1": ["A"] * 30}}),
    ]
    for body in bad_bodies:
        response = s.c1.post(url, body, content_type="application/json")
        assert response.status_code == 400, body
        assert set(response.json()) == {"message"} and response.json()["message"], body
    form = s.c1.post(url, {"answers": "x"})  # not JSON at all
    assert form.status_code == 415 and set(form.json()) == {"message"}
    start = s.c1.post(f"/api/v2/quizzes/{s.quiz.pk}/attempts/", "[1]", content_type="application/json")
    assert start.status_code == 400 and set(start.json()) == {"message"}
    for query in ("/api/v2/quiz-attempts/?limit=x", "/api/v2/quizzes/?limit=1000", "/api/v2/quizzes/?offset=-1",
                  "/api/v2/quizzes/?search=x", f"/api/v2/quizzes/{s.quiz.pk}/?limit=1", f"{url}?fields=x"):
        response = s.c1.get(query)
        assert response.status_code == 400 and set(response.json()) == {"message"}, query
    attempt.refresh_from_db()
    assert attempt.finished_at is None
    assert s.c1.get(f"/api/v2/quizzes/{s.quiz.pk + 1000}/").json() == {"message": "No such quiz."}
    assert s.c1.get(f"/api/v2/quiz-attempts/{2**60}/").json() == {"message": "not found"}


def test_refused_starts_and_second_submissions(s):
    s.quiz.allow_retries = False
    s.quiz.save()
    start = f"/api/v2/quizzes/{s.quiz.pk}/attempts/"
    first = call(s.c1, "post", start)
    assert first.status_code == 201
    assert call(s.c1, "post", start).status_code == 200  # resumed, not a second attempt
    url = f"/api/v2/quiz-attempts/{first.json()['id']}/"
    assert call(s.c1, "post", url, {"answers": {"1": ["B"]}}).status_code == 200
    again = call(s.c1, "post", url, {"answers": {"1": ["A"]}})
    assert again.status_code == 409 and again.json() == {"message": "该次作答已交卷，不能再次提交。"}
    refused = call(s.c1, "post", start)
    assert refused.status_code == 403 and refused.json() == {"message": "该测评只能作答一次，您已作答过。"}
    meta = s.c1.get(f"/api/v2/quizzes/{s.quiz.pk}/").json()
    assert meta["can_start"] is False and meta["refusal"] == "该测评只能作答一次，您已作答过。"
    assert Attempt.objects.filter(user=s.m1).count() == 1


# --- golden responses -----------------------------------------------------------------------------


def normalise(value):
    """Ids and times vary between runs; everything else (scores included) must stay as it is."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("id", "open_attempt") and isinstance(item, int):
                out[key] = "<id>"
            elif key in ("started_at", "finished_at") and isinstance(item, str) and STAMP.match(item):
                out[key] = "<datetime>"
            else:
                out[key] = normalise(item)
        return out
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def golden(name: str, response, status: int = 200):
    assert response.status_code == status, response.content[:300]
    actual = normalise(response.json())
    path = GOLDEN / f"quiz-{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert path.exists(), f"{path} is missing: review the response and write it with UPDATE_GOLDEN=1"
    assert actual == json.loads(path.read_text(encoding="utf-8")), f"{name} differs from {path.name}"
    return response.json()


def test_golden_responses(s):
    golden("list", s.c1.get("/api/v2/quizzes/"))
    golden("detail", s.c1.get(f"/api/v2/quizzes/{s.quiz.pk}/"))
    started = golden("start", call(s.c1, "post", f"/api/v2/quizzes/{s.quiz.pk}/attempts/"), status=201)
    result = golden(
        "result",
        call(s.c1, "post", f"/api/v2/quiz-attempts/{started['id']}/", {"answers": {"1": ["B"], "2": ["A", "C"]}}),
    )
    assert (result["score"], result["max_score"], result["passed"]) == (3.0, 6.0, False)
    assert [q["score"] for q in result["questions"]] == [1.0, 2.0, 0.0]
    # a public material is read on the static site: its address from the configured base URL
    from deploy.conf import publish_setting

    static_url = publish_setting("BASE_URL").rstrip("/") + s.material.url
    assert result["questions"][0]["materials"] == [{"title": "中国共产党章程学习辅导", "url": static_url}]
    golden("attempts", s.c1.get("/api/v2/quiz-attempts/"))
    golden("detail-after", s.c1.get(f"/api/v2/quizzes/{s.quiz.pk}/"))


# --- schema ---------------------------------------------------------------------------------------


def test_openapi_paths_cover_the_endpoints_and_responses_match_them(s):
    import jsonschema

    from cms.api.openapi import build_schema

    schema = build_schema()
    paths = api.openapi_paths()
    declared = {p.replace("{id}", "1") for p in paths}
    routed = {"/" + str(p.pattern).replace("<int:pk>", "1") for p in api.urlpatterns}
    assert declared == routed
    for path_ in paths:
        assert schema["paths"][path_] == paths[path_]
        resolve(path_.replace("{id}", "1"))
    for name in api.openapi_components():
        assert name in schema["components"]["schemas"]

    def check(response, name):
        wrapped = {"$ref": f"#/components/schemas/{name}", "components": schema["components"]}
        jsonschema.validate(response.json(), wrapped)

    check(s.c1.get("/api/v2/quizzes/"), "QuizList")
    started = call(s.c1, "post", f"/api/v2/quizzes/{s.quiz.pk}/attempts/")
    check(started, "QuizAttempt")
    url = f"/api/v2/quiz-attempts/{started.json()['id']}/"
    check(call(s.c1, "post", url, {"answers": {"1": ["B"], "2": ["A"], "3": ["B"]}}), "QuizAttempt")
    check(s.c1.get("/api/v2/quiz-attempts/"), "QuizAttemptList")
    check(s.c1.get(f"/api/v2/quizzes/{s.quiz.pk}/"), "Quiz")


def test_schemathesis_finds_nothing_in_the_quiz_operations(s):
    """Generated requests, valid and invalid, anonymous and as a member (POSTs included, which the
    whole-schema run in tests/api/test_schema.py makes anonymously only), with every check."""
    schemathesis = pytest.importorskip("schemathesis")
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import CHECKS
    from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: F401 - registers it

    from cms.api.openapi import build_schema
    from tests.api.test_schema import _as_the_test_client_calls_it

    raw = build_schema()
    raw["paths"] = {key: item for key, item in raw["paths"].items() if key in api.openapi_paths()}
    app = _as_the_test_client_calls_it(get_wsgi_application())
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = app  # in-process WSGI calls
    schema.config.update(base_url="http://localhost")
    checks = CHECKS.get_all()
    member = {"Authorization": f"Bearer {token_for(s.m1)}"}
    statuses: dict[str, set[int]] = {}

    def explore(operation, mode, headers):
        run_checks = checks
        if headers and mode == GenerationMode.NEGATIVE:
            # the member's token replaces an Authorization header the case may have broken on purpose:
            # such a case is no longer negative data, so its acceptance is no finding
            run_checks = [c for c in checks if c.__name__ not in ("negative_data_rejection", "missing_required_header")]

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = case.call_and_validate(checks=run_checks, headers=headers, app=app)
            statuses.setdefault(operation.label, set()).add(response.status_code)

        try:
            run()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE, operation.label  # nothing to negate

    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for headers in (None, member):
                explore(result.ok(), mode, headers)
    assert set(statuses) == {f"{m.upper()} {p}" for p, item in api.openapi_paths().items() for m in item}
    assert all(401 in codes for codes in statuses.values()), statuses
    assert 200 in statuses["GET /api/v2/quizzes/"] and 400 in statuses["GET /api/v2/quizzes/"]
