"""Study records (学习记录): the reading beacon, quizzes from the question bank's signal, 学习积分, who sees
what, retention and the static site.

Negative tests first: anonymous and non-member callers, pages the member may not read, forged sessions
(no CSRF token), another member's records, another branch's figures, and the static build are refused
or get nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.checks import run_checks
from django.core.management import call_command
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.utils import timezone

from cms.orgs.services import create_unit
from cms.visibility import Audience, internal_group, members_group
from members.models import MemberProfile
from members.quiz.signals import attempt_finished
from members.records import api as records_api
from members.records import services
from members.records.models import Action, PointsRule, QuizRecord, ReadingRecord
from tests.api.helpers import ApiClient, make_user, token_for
from tests.api.test_golden import Normaliser
from tests.factories import StudyMaterialPageFactory, build_site, publish

User = get_user_model()
BEACON = "/api/v2/study/beacon/"
ME = "/api/v2/study/me/"
GOLDEN = Path(__file__).with_name("golden")
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}


class Tree:
    pass


@pytest.fixture
def tree(db, settings):
    settings.SHUYUAN_API = NO_LIMITS
    t = Tree()
    t.site = build_site(n_articles=1)
    t.material = t.site.materials[0]
    t.committee = create_unit("01", "示范党委", root_page=t.site.home)
    t.one = create_unit("0101", "第一支部", parent=t.committee)
    t.one_a = create_unit("010101", "第一支部一小组", parent=t.one)
    t.two = create_unit("0102", "第二支部", parent=t.committee)

    def staff(username, group):
        user = User.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(group)
        return user

    t.admin1 = staff("admin1", t.one.admins_group)
    t.admin2 = staff("admin2", t.two.admins_group)
    t.editor1 = staff("editor1", t.one.editors_group)
    t.m1 = member("m1", t.one)
    t.m1a = member("m1a", t.one_a)
    t.m2 = member("m2", t.two)
    return t


def member(username, unit):
    user = User.objects.create_user(username, password="pw")
    user.groups.add(members_group())
    MemberProfile.objects.create(user=user, unit=unit)
    return user


class Attempt:
    """A stand-in for the question bank's attempt model (this part never imports it)."""

    def __init__(self, pk, finished_at=None):
        self.pk = pk
        self.finished_at = finished_at


class Quiz:
    def __init__(self, pk, title):
        self.pk, self.title = pk, title


def finish(user, attempt_id, *, score=8, max_score=10, passed=True, when=None, quiz=None):
    attempt_finished.send(
        sender=Attempt,
        attempt=Attempt(attempt_id, when or timezone.now()),
        user=user,
        quiz=quiz or Quiz(7, "党章知识测评"),
        score=score,
        max_score=max_score,
        passed=passed,
    )


def beacon(client, page, seconds, **extra):
    return client.post(BEACON, {"page": page, "seconds": seconds, **extra})


# -- refused ----------------------------------------------------------------------------------------------


def test_an_anonymous_beacon_is_refused(tree):
    response = beacon(Client(), tree.material.pk, 30)
    assert response.status_code == 401
    assert "message" in response.json()
    assert not ReadingRecord.objects.exists()


def test_a_signed_in_non_member_is_refused(tree):
    plain = make_user("plain")
    assert beacon(ApiClient(token_for(plain)), tree.material.pk, 30).status_code == 403
    assert ApiClient(token_for(plain)).get(ME).status_code == 403
    assert not ReadingRecord.objects.exists()


def test_a_session_beacon_without_the_csrf_token_is_refused(tree):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.m1)
    response = beacon(client, tree.material.pk, 30)
    assert response.status_code == 403
    assert not ReadingRecord.objects.exists()


def test_a_beacon_for_a_page_the_member_may_not_read_is_refused(tree):
    client = ApiClient(token_for(tree.m1))
    internal = StudyMaterialPageFactory(
        parent=tree.site.library, title="内部学习资料", audience=Audience.INTERNAL
    )
    draft = StudyMaterialPageFactory(parent=tree.site.library, title="草稿资料", live=False)
    refused = {
        "internal": internal.pk,
        "draft": draft.pk,
        "not a study material": tree.site.articles[0].pk,
        "no such page": 999999,
    }
    for label, page_id in refused.items():
        response = beacon(client, page_id, 30)
        assert response.status_code == 403, label
        assert response.json()["message"]
    assert not ReadingRecord.objects.exists()
    # the internal page is refused even to internal staff: only members' records, only pages outside the CMS
    staff = make_user("staff", internal_group())
    assert beacon(ApiClient(token_for(staff)), internal.pk, 30).status_code == 403


def test_bad_input_gets_a_json_400(tree):
    client = ApiClient(token_for(tree.m1))
    for data in (
        {"seconds": 5},
        {"page": "abc", "seconds": 5},
        {"page": tree.material.pk, "seconds": "x"},
        {"page": tree.material.pk, "seconds": -1},
        {"page": 0, "seconds": 1},
    ):
        response = client.post(BEACON, data)
        assert response.status_code == 400, data
        assert set(response.json()) == {"message"}
    response = client.post(BEACON, "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and "message" in response.json()
    for body in (
        {"page": str(tree.material.pk)},
        {"page": tree.material.pk, "seconds": "5"},
        {"page": tree.material.pk, "opened": "yes"},
        {"page": True},
        {"page": 1.5},
    ):
        response = client.post(
            BEACON, body, content_type="application/json"
        )  # JSON is typed as the schema says
        assert response.status_code == 400, body
    assert not ReadingRecord.objects.exists()
    for query in (
        "since=yesterday",
        "since=20260101",
        "limit=0",
        "limit=101",
        "offset=-1",
        "colour=red",
    ):
        response = client.get(f"{ME}?{query}")
        assert response.status_code == 400, query
        assert set(response.json()) == {"message"}, query


def test_a_member_cannot_see_another_members_records(tree):
    services.record_reading(tree.m2, tree.material.pk, 40)
    finish(tree.m2, 1)
    mine = ApiClient(token_for(tree.m1)).get(ME).json()
    assert mine["meta"]["total_count"] == 0 and mine["items"] == []
    assert mine["summary"]["quizzes_taken"] == 0
    client = Client()
    client.force_login(tree.m1)
    page = client.get("/accounts/study/")
    assert page.status_code == 200
    assert tree.material.title not in page.content.decode()
    assert "党章知识测评" not in page.content.decode()
    # nor through the admin's member page
    response = client.get(f"/admin/study-records/member/{tree.m2.pk}/", follow=True)
    assert tree.material.title not in response.content.decode()
    assert not services.may_view_member(tree.m1, tree.m2)
    assert services.may_view_member(tree.m2, tree.m2)


def test_the_study_page_needs_a_login(tree):
    response = Client().get("/accounts/study/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_branch_administrator_sees_only_their_own_subtree(tree):
    services.record_reading(tree.m1a, tree.material.pk, 60)
    services.record_reading(tree.m2, tree.material.pk, 60)
    period = services.Period.last_days(30)
    rows = {row.code: row for row in services.participation(tree.admin1, period)}
    assert set(rows) == {"0101", "010101"}
    assert rows["010101"].reading_minutes == 1 and rows["010101"].active_members == 1
    assert rows["0101"].members == 1 and rows["0101"].active_members == 0
    assert {row.code for row in services.participation(tree.admin2, period)} == {"0102"}
    assert services.participation(tree.m1, period) == []
    assert services.participation(tree.editor1, period) == []  # an editor is not an administrator

    assert services.may_view_member(tree.admin1, tree.m1a)
    assert not services.may_view_member(tree.admin1, tree.m2)
    assert not services.may_view_member(tree.admin2, tree.m1)
    assert not services.may_view_member(tree.editor1, tree.m1)

    client = Client()
    client.force_login(tree.admin1)
    # Wagtail answers a PermissionDenied in the admin with a redirect to the admin home (and a message)
    for url in (f"/admin/study-records/member/{tree.m2.pk}/", "/admin/study-records/member/999999/"):
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, "/admin/"), url
    own = client.get(f"/admin/study-records/member/{tree.m1a.pk}/")
    assert own.status_code == 200 and tree.material.title in own.content.decode()

    export = client.get("/admin/study-records/participation/?export=csv")
    assert export.status_code == 200
    body = (
        b"".join(export.streaming_content).decode("utf-8-sig")
        if export.streaming
        else export.content.decode("utf-8-sig")
    )
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[0][:2] == ["编码", "单位"]
    assert sorted(line[0] for line in lines[1:]) == ["0101", "010101"]
    report = client.get("/admin/study-records/participation/")
    assert report.status_code == 200 and "第二支部" not in report.content.decode()
    unit_page = client.get(f"/admin/study-records/unit/{tree.one_a.pk}/")
    assert unit_page.status_code == 200
    assert f"/admin/study-records/member/{tree.m1a.pk}/" in unit_page.content.decode()
    response = client.get(f"/admin/study-records/unit/{tree.two.pk}/")
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    export = client.get(f"/admin/study-records/unit/{tree.one_a.pk}/?export=csv")
    body = (
        b"".join(export.streaming_content).decode("utf-8-sig")
        if export.streaming
        else export.content.decode("utf-8-sig")
    )
    assert [line[0] for line in csv.reader(io.StringIO(body))] == ["账号", "m1a"]
    home = client.get("/admin/")
    assert "data-study-panel" in home.content.decode() and "第二支部" not in home.content.decode()

    outsider = Client()
    outsider.force_login(tree.m1)  # a member has no admin access at all
    assert outsider.get("/admin/study-records/participation/").status_code == 302
    editor = Client()
    editor.force_login(tree.editor1)
    response = editor.get("/admin/study-records/participation/")
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert "data-study-panel" not in editor.get("/admin/").content.decode()


def test_the_static_build_never_carries_the_beacon(tree):
    """The tag renders nothing for the publisher's requests (marked SHUYUAN_STATIC_BUILD, anonymous), even
    if a member were attached; the CMS's request for a member gets the script."""
    from deploy.render import Renderer

    template = Template("{% load study_records_tags %}{% study_beacon page %}")
    renderer = Renderer()
    static_request = renderer.request("/zh-hans/")
    assert "study_records/beacon.js" not in template.render(
        Context({"request": static_request, "page": tree.material})
    )
    static_request.user = tree.m1
    assert template.render(Context({"request": static_request, "page": tree.material})) == ""

    cms_request = RequestFactory().get("/zh-hans/")
    cms_request.user = AnonymousUser()
    assert template.render(Context({"request": cms_request, "page": tree.material})) == ""
    cms_request.user = tree.m1
    html = template.render(Context({"request": cms_request, "page": tree.material}))
    assert "study_records/beacon.js" in html and f'data-page="{tree.material.pk}"' in html
    assert template.render(Context({"request": cms_request, "page": tree.site.articles[0]})) == ""
    # and the published page itself has no beacon
    rendered = renderer.render_page(tree.material)
    assert rendered and tree.material.title.encode() in rendered[0].body
    assert all(b"beacon" not in obj.body for obj in rendered)


# -- recording --------------------------------------------------------------------------------------------


def test_seconds_are_clamped(tree):
    now = timezone.now()
    row = services.record_reading(tree.m1, tree.material.pk, 500, opened=True, now=now)
    assert row.seconds == services.MAX_BEACON_SECONDS and row.opens == 1
    # a second beacon right away counts only the time since the last one (plus the slack)
    row.updated_at = now
    ReadingRecord.objects.filter(pk=row.pk).update(updated_at=now)
    row = services.record_reading(tree.m1, tree.material.pk, 60, now=now + timedelta(seconds=10))
    assert row.seconds == 60 + 10 + services.SLACK_SECONDS
    # never more than the daily maximum per page
    ReadingRecord.objects.filter(pk=row.pk).update(seconds=services.MAX_DAILY_SECONDS - 20)
    row = services.record_reading(tree.m1, tree.material.pk, 60, now=timezone.now() + timedelta(minutes=5))
    assert row.seconds == services.MAX_DAILY_SECONDS


def test_beacons_aggregate_per_member_page_and_day(tree):
    client = ApiClient(token_for(tree.m1))
    assert beacon(client, tree.material.pk, 0, opened="1").status_code == 204
    ReadingRecord.objects.update(updated_at=timezone.now() - timedelta(seconds=40))
    assert beacon(client, tree.material.pk, 30).status_code == 204
    ReadingRecord.objects.update(updated_at=timezone.now() - timedelta(seconds=40))
    assert (
        client.post(
            BEACON, {"page": tree.material.pk, "seconds": 30}, content_type="application/json"
        ).status_code
        == 204
    )
    row = ReadingRecord.objects.get()
    assert (row.user, row.page_id, row.day, row.seconds, row.opens) == (
        tree.m1,
        tree.material.pk,
        timezone.localdate(),
        60,
        1,
    )
    tomorrow = timezone.now() + timedelta(days=1)
    services.record_reading(tree.m1, tree.material.pk, 20, now=tomorrow)
    assert ReadingRecord.objects.count() == 2
    services.record_reading(tree.m1, tree.site.members_material.pk, 20)  # members-only: a member may read it
    assert ReadingRecord.objects.count() == 3


def test_a_session_beacon_with_the_csrf_token_is_recorded(tree):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tree.m1)
    request = RequestFactory().get("/")
    from django.middleware.csrf import get_token

    token = get_token(request)
    client.cookies["csrftoken"] = request.META["CSRF_COOKIE"]
    response = client.post(BEACON, {"page": tree.material.pk, "seconds": 15, "csrfmiddlewaretoken": token})
    assert response.status_code == 204
    assert ReadingRecord.objects.get().seconds == 15


def test_a_finished_quiz_is_recorded_once(tree):
    finish(tree.m1, 11, score=6, max_score=10, passed=False)
    finish(tree.m1, 11, score=6, max_score=10, passed=False)
    finish(tree.m1, 12, score=9.5, max_score=10, passed=True)
    assert QuizRecord.objects.filter(user=tree.m1).count() == 2
    # a malformed announcement is logged, never raised into the quiz's submit
    attempt_finished.send(
        sender=Attempt, attempt=Attempt(13), user=tree.m1, quiz=object(), score=1, max_score=1, passed=True
    )
    assert not QuizRecord.objects.filter(attempt_id=13).exists()
    record = QuizRecord.objects.get(attempt_id=12)
    assert (record.quiz_id, record.quiz_title, record.score, record.passed) == (7, "党章知识测评", 9.5, True)


# -- points -----------------------------------------------------------------------------------------------


def test_points_follow_the_rules_with_their_daily_caps(tree):
    PointsRule.objects.create(name="阅读", action=Action.READING_MINUTES, points=1, daily_cap=30)
    PointsRule.objects.create(name="打开", action=Action.MATERIAL_OPENED, points=2, daily_cap=0)
    PointsRule.objects.create(name="测评", action=Action.QUIZ_TAKEN, points=5, daily_cap=10)
    PointsRule.objects.create(name="通过", action=Action.QUIZ_PASSED, points=10, daily_cap=0)
    PointsRule.objects.create(name="停用", action=Action.QUIZ_PASSED, points=100, daily_cap=0, enabled=False)
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    other = tree.site.members_material
    # today: 45 + 20 minutes read (capped at 30), two materials; yesterday: 10 minutes, one material
    ReadingRecord.objects.create(
        user=tree.m1, page=tree.material, page_title="a", day=today, seconds=45 * 60 + 59
    )
    ReadingRecord.objects.create(user=tree.m1, page=other, page_title="b", day=today, seconds=20 * 60)
    ReadingRecord.objects.create(
        user=tree.m1, page=tree.material, page_title="a", day=yesterday, seconds=10 * 60
    )
    # today: three quizzes (5 each, capped at 10), two passed (10 each, no cap)
    for n, passed in enumerate((True, True, False)):
        finish(tree.m1, 100 + n, passed=passed)
    ReadingRecord.objects.create(
        user=tree.m2, page=tree.material, page_title="a", day=today, seconds=3600
    )  # not m1's
    earned = services.points(tree.m1, services.Period(yesterday, today))
    assert earned["by_action"] == {
        Action.READING_MINUTES: 30 + 10,
        Action.MATERIAL_OPENED: 2 * 2 + 2,
        Action.QUIZ_TAKEN: 10,
        Action.QUIZ_PASSED: 20,
    }
    assert earned["total"] == 40 + 6 + 10 + 20
    assert services.points(tree.m1, services.Period(yesterday, yesterday))["total"] == 10 + 2
    # the API says the same
    summary = ApiClient(token_for(tree.m1)).get(f"{ME}?since={yesterday}&until={today}").json()["summary"]
    assert summary["points"] == 76 and summary["quizzes_taken"] == 3 and summary["quizzes_passed"] == 2
    # the branch's average
    rows = {r.code: r for r in services.participation(tree.admin1, services.Period(yesterday, today))}
    assert rows["0101"].average_points == 76.0 and rows["0101"].quizzes_taken == 3


# -- retention --------------------------------------------------------------------------------------------


def test_purge_deletes_only_old_records(tree, settings):
    settings.SHUYUAN_STUDY_RECORDS_DAYS = 30
    today = timezone.localdate()
    old = ReadingRecord.objects.create(
        user=tree.m1, page=tree.material, page_title="a", day=today - timedelta(days=31), seconds=60
    )
    kept = ReadingRecord.objects.create(
        user=tree.m1, page=tree.material, page_title="a", day=today - timedelta(days=30), seconds=60
    )
    finish(tree.m1, 1, when=timezone.now() - timedelta(days=32))
    finish(tree.m1, 2, when=timezone.now() - timedelta(days=2))
    out = io.StringIO()
    call_command("purge_study_records", "--dry-run", stdout=out)
    assert ReadingRecord.objects.count() == 2 and "1" in out.getvalue()
    call_command("purge_study_records", stdout=out)
    assert (
        list(ReadingRecord.objects.all()) == [kept] and not ReadingRecord.objects.filter(pk=old.pk).exists()
    )
    assert list(QuizRecord.objects.values_list("attempt_id", flat=True)) == [2]
    assert services.purge() == {"readings": 0, "quizzes": 0}  # re-runnable


def test_a_bad_retention_setting_fails_the_start_up_check(settings):
    for bad in (0, -5, "730", 1.5, True):
        settings.SHUYUAN_STUDY_RECORDS_DAYS = bad
        assert "study_records.E001" in {e.id for e in run_checks()}, bad
    settings.SHUYUAN_STUDY_RECORDS_DAYS = 365
    assert "study_records.E001" not in {e.id for e in run_checks()}


# -- the member's page, the API's golden answer, the schema, the demo --------------------------------------


DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[0-9:.+\-Z]+)?$")


def _normalise(value, site):
    # the API normaliser hides search scores ("score"); a quiz's score is data here, so it is kept
    hidden = json.loads(json.dumps(value).replace('"score":', '"quiz_score_kept":'))
    data = json.loads(
        json.dumps(Normaliser({"material": site.material, "images": [], "documents": []})(hidden)).replace(
            '"quiz_score_kept":', '"score":'
        )
    )

    def dates(item):
        if isinstance(item, dict):
            return {k: dates(v) for k, v in item.items()}
        if isinstance(item, list):
            return [dates(v) for v in item]
        if isinstance(item, str) and DATE.match(item):
            return "<datetime>" if "T" in item else "<date>"
        return item

    return dates(data)


def compare_with_golden(name: str, actual) -> None:
    import os

    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    assert path.exists(), f"{path} is missing: UPDATE_GOLDEN=1 .venv/bin/pytest {__file__}"
    assert actual == json.loads(path.read_text(encoding="utf-8")), f"differs from {path.name}"


def test_the_members_study_records_match_the_golden_answers(tree):
    for name, action, points, cap in (
        ("阅读", Action.READING_MINUTES, 1, 30),
        ("通过", Action.QUIZ_PASSED, 10, 0),
    ):
        PointsRule.objects.create(name=name, action=action, points=points, daily_cap=cap)
    today = timezone.localdate()
    ReadingRecord.objects.create(
        user=tree.m1,
        page=tree.material,
        page_title="学习资料甲",
        day=today - timedelta(days=1),
        seconds=600,
        opens=1,
    )
    ReadingRecord.objects.create(
        user=tree.m1,
        page=tree.material,
        page_title="学习资料甲",
        day=today - timedelta(days=3),
        seconds=125,
        opens=2,
    )
    finish(tree.m1, 1, score=8, max_score=10, passed=True, when=timezone.now() - timedelta(days=2))
    client = ApiClient(token_for(tree.m1))
    since = today - timedelta(days=10)
    full = client.get(f"{ME}?since={since}").json()
    assert [item["type"] for item in full["items"]] == ["reading", "quiz", "reading"]
    compare_with_golden("records-me", _normalise(full, tree))
    page = client.get(f"{ME}?since={since}&offset=1&limit=1").json()
    assert page["meta"]["total_count"] == 3 and [i["type"] for i in page["items"]] == ["quiz"]
    compare_with_golden("records-me-page", _normalise(page, tree))
    compare_with_golden("records-beacon-403", beacon(client, tree.site.internal_article.pk, 5).json())
    compare_with_golden("records-beacon-401", beacon(ApiClient(), tree.material.pk, 5).json())


def test_the_study_page_shows_the_members_history_and_points(tree):
    PointsRule.objects.create(name="阅读", action=Action.READING_MINUTES, points=1, daily_cap=0)
    services.record_reading(tree.m1, tree.material.pk, 60)
    finish(tree.m1, 5)
    client = Client()
    client.force_login(tree.m1)
    html = client.get("/accounts/study/").content.decode()
    assert "我的学习" in html and tree.material.title in html and "党章知识测评" in html
    assert 'class="study-points">1<' in html
    assert 'class="member-bar"' in html  # the members' pages' design (base template and member bar)


def test_the_schema_part_names_both_endpoints():
    paths = records_api.openapi_paths()
    assert set(paths) == {"/api/v2/study/beacon/", "/api/v2/study/me/"}
    components = records_api.openapi_components()
    refs = re.findall(r'"#/components/schemas/(\w+)"', json.dumps(paths))
    assert set(refs) - {"Error"} <= set(components)


def test_the_demo_is_idempotent(tree):
    from members.records import demo

    member_user = member("member", tree.one)
    publish(tree.material)
    lines = []
    demo.load(tree.site.home, lines.append)
    demo.load(tree.site.home, lines.append)
    assert PointsRule.objects.count() == len(demo.DEFAULT_RULES)
    assert ReadingRecord.objects.filter(user=member_user).exists()
    assert QuizRecord.objects.filter(user=member_user).count() == 1
    assert services.points(member_user, services.Period.last_days(30))["total"] > 0


def test_the_purge_chain_needs_a_deferring_backend(tree):
    from members.records import tasks
    from members.records.models import PurgeSchedule

    tasks.ensure_purge_schedule()  # the immediate backend cannot defer: no chain, nothing runs now
    assert not PurgeSchedule.objects.exists()
    assert tasks.purge_study_records.enqueue().return_value == {"status": "ok", "readings": 0, "quizzes": 0}


def test_the_purge_chain_starts_once_and_each_tick_purges(tree, settings):
    from django_tasks import default_task_backend

    from members.records import tasks
    from members.records.models import PurgeSchedule

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    try:
        tasks.ensure_purge_schedule()
        tasks.ensure_purge_schedule()
        token = PurgeSchedule.objects.get().token
        jobs = [r for r in default_task_backend.results if r.task.name == tasks.purge_tick.name]
        assert [j.args for j in jobs] == [[token]]
        old = timezone.localdate() - timedelta(days=services.retention_days() + 1)
        ReadingRecord.objects.create(user=tree.m1, page=tree.material, page_title="a", day=old, seconds=1)
        assert tasks.purge_tick.call(token) == {"status": "ok", "readings": 1, "quizzes": 0}
        assert tasks.purge_tick.call("stale") == {"status": "superseded"}
    finally:
        default_task_backend.clear()


def test_record_time_zones_use_local_days(tree):
    late = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time())) + timedelta(
        hours=23, minutes=59
    )
    row = services.record_reading(tree.m1, tree.material.pk, 10, now=late)
    assert row.day == timezone.localdate(late)


def test_editors_set_points_rules_in_the_admin(tree):
    admin = User.objects.create_superuser("boss", password="pw")
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/study_points_rules/").status_code == 200
    response = client.post(
        "/admin/study_points_rules/new/",
        {"name": "阅读", "action": Action.READING_MINUTES, "points": 2, "daily_cap": 20, "enabled": "on"},
    )
    assert response.status_code == 302
    rule = PointsRule.objects.get()
    assert (rule.points, rule.daily_cap) == (2, 20)
    # an editor without the permission is turned away
    editor = Client()
    editor.force_login(tree.editor1)
    assert editor.get("/admin/study_points_rules/").status_code == 302
