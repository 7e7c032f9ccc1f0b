"""Surveys (民意调查) and the feedback mailbox (对话信箱), issue #16 item 1.

Negative cases first: an anonymous caller never sees submissions; a closed survey refuses on the page,
the API and the public service; the honeypot and the rate limit refuse; size limits refuse; a
members-only survey is not in the static build nor the public export and the public service refuses it;
a letter whose writer did not agree is never shown publicly. Then: the public service takes a valid
submission in a process with no Django, the import brings it into the admin's submissions (once, however
often it runs), CSV export holds it, the charts count it, a published reply queues the mailbox page.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from wagtail.contrib.forms.models import FormSubmission
from wagtail.models import Locale, Page, Site

from cms.models.changes import ContentChange
from cms.visibility import Audience, members_group
from members.surveys import rules, spool
from members.surveys.inbox import import_inbox
from members.surveys.models import ImportedSubmission, LetterReply, MailboxPage, SurveyFormField, SurveyPage
from tests.api.helpers import ApiClient, make_user, token_for
from tests.factories import HomePageFactory

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "https://forms.example.org"
QUESTIONS = [
    ("满意度", "radio", True, "满意\n一般\n不满意"),
    ("常用栏目", "checkboxes", False, "新闻\n书苑\n展览"),
    ("建议", "multiline", False, ""),
]


def make_survey(home, slug, *, audience=Audience.PUBLIC, opens=None, closes=None, title=None) -> SurveyPage:
    page = SurveyPage(slug=slug, title=title or f"问卷{slug}", audience=audience, opens_at=opens, closes_at=closes,
                      thank_you_text="<p>谢谢</p>")
    for order, (label, kind, required, choices) in enumerate(QUESTIONS):
        page.form_fields.add(SurveyFormField(sort_order=order, label=label, field_type=kind, required=required, choices=choices))
    home.add_child(instance=page)
    page.save_revision().publish()
    return SurveyPage.objects.get(pk=page.pk)


class Tree:
    pass


@pytest.fixture
def tree(db, settings):
    return build_tree(settings)


def build_tree(settings) -> Tree:
    """Home, an open, a closed, a not-yet-open and a members-only survey, the mailbox, a member, an editor."""
    settings.SHUYUAN_PUBLIC_SEARCH_URL = SERVICE
    settings.SHUYUAN_FORMS_RATE_LIMIT = None
    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": False}
    settings.SHUYUAN_API = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
    settings.WAGTAILFRONTENDCACHE = {}
    cache.clear()
    Locale.objects.get_or_create(language_code="zh-hans")
    root = Page.get_first_root_node()
    for stale in root.get_children().filter(slug="home"):
        stale.delete()
    t = Tree()
    t.home = HomePageFactory(parent=root)
    Site.objects.update_or_create(is_default_site=True, defaults={"root_page": t.home, "hostname": "localhost", "port": 80})
    now = timezone.now()
    t.open = make_survey(t.home, "open", title="公开问卷", opens=now - dt.timedelta(days=1), closes=now + dt.timedelta(days=1))
    t.closed = make_survey(t.home, "closed", title="已截止问卷", closes=now - dt.timedelta(hours=1))
    t.later = make_survey(t.home, "later", title="未开始问卷", opens=now + dt.timedelta(days=3))
    t.members = make_survey(t.home, "members", title="会员问卷", audience=Audience.MEMBERS)
    t.mailbox = MailboxPage(slug="mailbox", title="对话信箱", audience=Audience.PUBLIC)
    t.home.add_child(instance=t.mailbox)
    t.mailbox.save_revision().publish()
    t.member = make_user("member1", members_group())
    t.editor = get_user_model().objects.create_superuser("editor", "", "pw")
    return t


GOOD = {"manyidu": "满意", "changyonglanmu": ["新闻", "书苑"], "jianyi": "多一些音频"}


def good_answers(page) -> dict:
    names = [f["name"] for f in page.form_spec()["fields"]]
    return dict(zip(names, GOOD.values(), strict=True))


def wsgi_post(app, path, body: bytes, content_type="application/json", accept="application/json", addr="203.0.113.9"):
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": addr, "HTTP_ACCEPT": accept, "QUERY_STRING": "",
    }
    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = int(status.split()[0]), dict(headers)

    data = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], data


# -- negative: nobody outside the admin sees submissions ----------------------------------------------
def test_anonymous_and_members_never_see_submissions(tree, client):
    FormSubmission.objects.create(page=tree.open, form_data=good_answers(tree.open))
    listing = f"/admin/forms/submissions/{tree.open.pk}/"
    for url in (listing, listing + "?export=csv", f"/admin/surveys/{tree.open.pk}/charts/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert "多一些音频" not in response.content.decode()
    member = ApiClient(token_for(tree.member))
    body = member.get(f"/api/v2/surveys/{tree.open.pk}/").content.decode()
    assert "多一些音频" not in body
    assert member.get(f"/api/v2/surveys/{tree.open.pk}/submissions/").status_code == 405
    client.force_login(tree.member)  # a member is not an editor
    assert client.get(listing).status_code in (302, 403)


# -- negative: closed surveys refuse everywhere -------------------------------------------------------
def test_a_closed_survey_refuses_on_the_page_and_says_so(tree, client):
    client.force_login(tree.member)
    page = client.get(tree.closed.url)
    assert page.status_code == 200
    assert "已于" in page.content.decode() and "截止" in page.content.decode()
    assert '<form class="survey-form"' not in page.content.decode()
    response = client.post(tree.closed.url, good_answers(tree.closed))
    assert response.status_code == 409
    assert "截止" in response.content.decode()
    later = client.post(tree.later.url, good_answers(tree.later))
    assert later.status_code == 409 and "尚未开始" in later.content.decode()
    assert not FormSubmission.objects.exists()


def test_a_closed_survey_refuses_on_the_api(tree):
    api = ApiClient()
    response = api.post(f"/api/v2/surveys/{tree.closed.pk}/submissions/", {"answers": good_answers(tree.closed)}, content_type="application/json")
    assert response.status_code == 409
    assert "截止" in response.json()["message"]
    assert api.get(f"/api/v2/surveys/{tree.closed.pk}/").json()["state"] == "closed"
    assert not FormSubmission.objects.exists()


def test_closing_after_the_export_still_refuses_on_the_public_service(tree, tmp_path):
    app, inbox = public_app(tree, tmp_path)
    status, _h, body = wsgi_post(app, f"/forms/{tree.closed.pk}/", json.dumps(good_answers(tree.closed)).encode())
    assert status == 409 and "截止" in json.loads(body)["message"]
    assert spool.waiting(inbox) == []


# -- negative: abuse protection --------------------------------------------------------------------
def test_the_honeypot_refuses_everywhere(tree, client, tmp_path):
    bot = {**good_answers(tree.open), rules.HONEYPOT: "http://spam.example"}
    response = ApiClient().post(f"/api/v2/surveys/{tree.open.pk}/submissions/", {"answers": bot}, content_type="application/json")
    assert response.status_code == 400 and "隐藏" in response.json()["message"]
    client.force_login(tree.member)
    page = client.post(tree.members.url, {**good_answers(tree.members), rules.HONEYPOT: "x"})
    assert page.status_code == 400 and "隐藏" in page.content.decode()
    app, inbox = public_app(tree, tmp_path)
    status, _h, body = wsgi_post(app, f"/forms/{tree.open.pk}/", json.dumps(bot).encode())
    assert status == 400 and spool.waiting(inbox) == []
    assert not FormSubmission.objects.exists()


def test_the_rate_limit_refuses_with_429_and_retry_after(tree, settings, tmp_path):
    settings.SHUYUAN_FORMS_RATE_LIMIT = (2, 600)
    api = ApiClient()
    url = f"/api/v2/surveys/{tree.open.pk}/submissions/"
    answers = {"answers": good_answers(tree.open)}
    assert [api.post(url, answers, content_type="application/json").status_code for _ in range(2)] == [201, 201]
    refused = api.post(url, answers, content_type="application/json")
    assert refused.status_code == 429
    assert "频繁" in refused.json()["message"] and int(refused["Retry-After"]) > 0
    assert FormSubmission.objects.count() == 2
    # the public service: its own per-client budget
    app, inbox = public_app(tree, tmp_path, rate="2/10m")
    statuses = [wsgi_post(app, f"/forms/{tree.open.pk}/", json.dumps(good_answers(tree.open)).encode())[0] for _ in range(3)]
    assert statuses == [202, 202, 429]
    assert len(spool.waiting(inbox)) == 2
    other = wsgi_post(app, f"/forms/{tree.open.pk}/", json.dumps(good_answers(tree.open)).encode(), addr="198.51.100.7")
    assert other[0] == 202


def test_size_limits_and_bad_input_refuse_with_a_message(tree, tmp_path):
    api = ApiClient()
    url = f"/api/v2/surveys/{tree.open.pk}/submissions/"
    names = [f["name"] for f in tree.open.form_spec()["fields"]]
    cases = [
        ({"answers": {**good_answers(tree.open), names[2]: "x" * (rules.MAX_TEXT + 1)}}, 400, "不能超过"),
        ({"answers": {**good_answers(tree.open), names[0]: "非常好"}}, 400, "不在可选范围"),
        ({"answers": {names[2]: "只有建议"}}, 400, "必填"),
        ({"answers": "不是对象"}, 400, "JSON"),
        ({"answers": {**good_answers(tree.open), names[0]: ["满意", "一般"]}}, 400, "只能选一项"),
    ]
    for body, status, words in cases:
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == status, body
        assert words in response.json()["message"], response.json()
    huge = api.post(url, {"answers": good_answers(tree.open), "pad": "x" * (rules.MAX_BODY + 10)}, content_type="application/json")
    assert huge.status_code == 413 and "过大" in huge.json()["message"]
    bad_json = api.post(url, b"{not json", content_type="application/json")
    assert bad_json.status_code == 400 and "message" in bad_json.json()
    assert not FormSubmission.objects.exists()
    app, inbox = public_app(tree, tmp_path)
    status, _h, body = wsgi_post(app, f"/forms/{tree.open.pk}/", b"x" * (rules.MAX_BODY + 1), content_type="application/x-www-form-urlencoded")
    assert status == 413 and "过大" in json.loads(body)["message"]
    status, _h, body = wsgi_post(app, f"/forms/{tree.open.pk}/", b"\xff\xfe", content_type="application/json")
    assert status == 400
    assert spool.waiting(inbox) == []


# -- negative: members-only surveys stay on the CMS ---------------------------------------------------
def test_a_members_only_survey_is_not_exported_nor_taken_by_the_public_service(tree, tmp_path):
    app, inbox = public_app(tree, tmp_path)
    forms = json.loads((tmp_path / "bundle" / "forms.json").read_text())["forms"]
    ids = {f["id"] for f in forms}
    assert tree.members.pk not in ids
    assert {tree.open.pk, tree.closed.pk, tree.mailbox.pk} <= ids
    assert "会员问卷" not in (tmp_path / "bundle" / "forms.json").read_text()
    status, _h, body = wsgi_post(app, f"/forms/{tree.members.pk}/", json.dumps(good_answers(tree.members)).encode())
    assert status == 404 and spool.waiting(inbox) == []
    # and on the API, only a member's token sees it
    assert ApiClient().get(f"/api/v2/surveys/{tree.members.pk}/").status_code == 404
    plain = make_user("plain")
    assert ApiClient(token_for(plain)).post(f"/api/v2/surveys/{tree.members.pk}/submissions/", {"answers": {}}, content_type="application/json").status_code == 404
    assert ApiClient(token_for(tree.member)).get(f"/api/v2/surveys/{tree.members.pk}/").status_code == 200


def test_a_members_only_survey_is_not_in_the_static_build(tree, tmp_path):
    call_command("publish_site", "--full", "--to", str(tmp_path / "site"), "--no-progress", stdout=io.StringIO())
    html = {p.relative_to(tmp_path / "site").as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in (tmp_path / "site").rglob("*.html")}
    survey_files = [name for name, text in html.items() if 'class="survey-form"' in text]
    assert not any("会员问卷" in text for text in html.values())
    assert not any("/members/" in name for name in html)
    # the public survey is there; its form posts to the public service and needs no CSRF token
    public = next(text for name, text in html.items() if name.endswith("open/index.html"))
    assert f'action="{SERVICE}/forms/{tree.open.pk}/"' in public
    assert "csrfmiddlewaretoken" not in public
    assert f"form-action 'self' {SERVICE}/forms/{tree.open.pk}/" in public
    assert survey_files and all("csrfmiddlewaretoken" not in html[name] for name in survey_files)


def test_a_members_only_survey_is_answered_on_the_cms_with_csrf(tree):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(tree.member)
    page = strict.get(tree.members.url)
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    assert f'action="{tree.members.url}"' in page.content.decode()
    assert strict.post(tree.members.url, good_answers(tree.members)).status_code == 403  # no token
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else strict.cookies["csrftoken"].value
    ok = strict.post(tree.members.url, {**good_answers(tree.members), "csrfmiddlewaretoken": token})
    assert ok.status_code == 200 and "提交成功" in ok.content.decode()
    assert FormSubmission.objects.filter(page=tree.members).count() == 1
    anonymous = Client().get(tree.members.url)
    assert anonymous.status_code in (302, 403)


# -- negative: a letter without consent is never public -----------------------------------------------
def test_a_letter_without_consent_is_never_published(tree, client):
    secret = FormSubmission.objects.create(page=tree.mailbox, form_data={"subject": "不同意公开的来信", "body": "私下反映的问题",
                                                                          "name": "李四", "contact": "139", "consent": False})
    reply = LetterReply.objects.create(submission=secret, text="已转交支部处理", replier="编辑部", published=True)
    assert reply.consented is False
    # even a row forced to say otherwise is checked against the letter itself
    LetterReply.objects.filter(pk=reply.pk).update(consented=True)
    body = client.get(tree.mailbox.url).content.decode()
    assert "不同意公开的来信" not in body and "已转交支部处理" not in body and "暂无公开回复" in body
    agreed = FormSubmission.objects.create(page=tree.mailbox, form_data={"subject": "同意公开的来信", "body": "建议增加音频",
                                                                         "name": "王五", "contact": "w@example.org", "consent": True})
    LetterReply.objects.create(submission=agreed, text="正在试点音频版", replier="书苑编辑部", published=True)
    body = client.get(tree.mailbox.url).content.decode()
    assert "同意公开的来信" in body and "正在试点音频版" in body
    assert "王五" not in body and "w@example.org" not in body  # name and contact are never shown
    assert "不同意公开的来信" not in body


def test_an_unpublished_reply_is_not_shown(tree, client):
    letter = FormSubmission.objects.create(page=tree.mailbox, form_data={"subject": "草稿回复的来信", "body": "内容", "consent": True})
    LetterReply.objects.create(submission=letter, text="尚未公开的回复", replier="编辑部", published=False)
    assert "尚未公开的回复" not in client.get(tree.mailbox.url).content.decode()


# -- positive ----------------------------------------------------------------------------------------
def public_app(tree, tmp_path, rate="off"):
    from search.public.app import create_app
    from search.public.export import export_public_search

    export_public_search(tmp_path / "bundle")
    inbox = tmp_path / "inbox"
    return create_app(tmp_path / "bundle", forms_inbox=str(inbox), forms_rate=rate, log=str(tmp_path / "events.log")), inbox


@pytest.fixture
def in_memory_search(settings):
    settings.SHUYUAN_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


@pytest.fixture(autouse=True)
def _search(in_memory_search):
    yield


def test_the_public_service_takes_a_submission_without_django_and_the_import_brings_it_in(tree, tmp_path, client):
    from search.public.export import export_public_search

    export_public_search(tmp_path / "bundle")
    inbox = tmp_path / "inbox"
    answers = good_answers(tree.open)
    script = f"""
import io, json, sys
from search.public.app import create_app
app = create_app({str(tmp_path / 'bundle')!r}, forms_inbox={str(inbox)!r}, forms_rate="off", log="-")
body = json.dumps({{"answers": {answers!r}}}, ensure_ascii=False).encode()
out = {{}}
def start(status, headers): out["status"] = status
environ = {{"REQUEST_METHOD": "POST", "PATH_INFO": "/forms/{tree.open.pk}/", "CONTENT_TYPE": "application/json",
           "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "203.0.113.5"}}
data = b"".join(app(environ, start))
print(json.dumps({{"status": out["status"], "body": data.decode(), "django": [m for m in sys.modules if m.split(".")[0] == "django"]}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"].startswith("202") and result["django"] == []
    assert "提交成功" in json.loads(result["body"])["message"]
    assert not FormSubmission.objects.exists()  # the CMS was not involved
    [waiting] = spool.waiting(inbox)
    # a browser form post (no script) gets a page in Chinese, linking back
    app = public_app_from(tmp_path, inbox)
    form = "&".join(f"{k}={v}" for k, v in answers.items() if isinstance(v, str)).encode()
    status, headers, page = wsgi_post(app, f"/forms/{tree.mailbox.pk}/", "subject=你好&body=来信内容&consent=on".encode(),
                                      content_type="application/x-www-form-urlencoded", accept="text/html")
    assert status == 202 and headers["Content-Type"].startswith("text/html") and "提交成功" in page.decode()
    # the answer page loads nothing and runs nothing: its policy says so
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "<script" not in page.decode()
    assert form  # (form-encoded answers are read by the same rules)

    first = import_inbox(inbox)
    assert (first.imported, first.already, first.rejected) == (2, 0, [])
    submission = FormSubmission.objects.get(page=tree.open)
    assert submission.form_data == {**answers}
    assert FormSubmission.objects.get(page=tree.mailbox).form_data["consent"] is True
    assert spool.waiting(inbox) == [] and (inbox / spool.IMPORTED / waiting.name).exists()
    # re-running imports nothing twice; a file put back (a crash before the move) is recognised
    (inbox / spool.IMPORTED / waiting.name).rename(waiting)
    again = import_inbox(inbox)
    assert (again.imported, again.already) == (0, 1)
    assert FormSubmission.objects.count() == 2 and ImportedSubmission.objects.count() == 2
    # the editor sees it in Wagtail's listing and the CSV export
    client.force_login(tree.editor)
    listing = client.get(f"/admin/forms/submissions/{tree.open.pk}/")
    assert listing.status_code == 200 and "多一些音频" in listing.content.decode()
    csv = client.get(f"/admin/forms/submissions/{tree.open.pk}/?export=csv")
    assert csv.status_code == 200
    text = b"".join(csv.streaming_content).decode("utf-8-sig") if csv.streaming else csv.content.decode("utf-8-sig")
    assert "多一些音频" in text and "满意度" in text


def public_app_from(tmp_path, inbox):
    from search.public.app import create_app

    return create_app(tmp_path / "bundle", forms_inbox=str(inbox), forms_rate="off", log=str(tmp_path / "events.log"))


def test_the_import_keeps_what_it_cannot_import(tree, tmp_path, settings):
    inbox = tmp_path / "inbox"
    spool.write(inbox, tree.members.pk, good_answers(tree.members))  # not public: never from the service
    spool.write(inbox, 999999, {"x": "y"})
    (inbox / "0000000000000-bad.json").write_text("{not json")
    settings.SHUYUAN_FORMS_INBOX = str(inbox)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_submissions", stdout=out, stderr=err)
    assert "导入 0 份" in out.getvalue() and "未导入 3 份" in out.getvalue()
    assert not FormSubmission.objects.exists()
    assert len(list((inbox / spool.REJECTED).glob("*.json"))) == 3  # kept, not lost
    # the worker's task does the same
    from members.surveys.tasks import import_submissions_task

    spool.write(inbox, tree.open.pk, good_answers(tree.open))
    assert import_submissions_task.call() == {"status": "ok", "imported": 1, "already": 0, "rejected": 0}
    assert FormSubmission.objects.filter(page=tree.open).count() == 1


def test_a_valid_submission_on_the_api_is_stored_and_the_charts_count_it(tree, client):
    api = ApiClient()
    url = f"/api/v2/surveys/{tree.open.pk}/submissions/"
    names = [f["name"] for f in tree.open.form_spec()["fields"]]
    assert api.post(url, {"answers": good_answers(tree.open)}, content_type="application/json").status_code == 201
    assert api.post(url, {"answers": {names[0]: "一般", names[1]: ["新闻"]}}, content_type="application/json").status_code == 201
    client.force_login(tree.editor)
    charts = client.get(f"/admin/surveys/{tree.open.pk}/charts/")
    assert charts.status_code == 200
    text = charts.content.decode()
    assert "共 2 份提交" in text and "<svg" in text
    assert "2（100%）" in text  # 新闻: both
    assert "1（50%）" in text  # 满意 / 一般 / 书苑: one each
    listing = client.get(f"/admin/forms/submissions/{tree.open.pk}/")
    assert f"/admin/surveys/{tree.open.pk}/charts/" in listing.content.decode()


def test_publishing_a_reply_queues_the_mailbox_page(tree, client):
    from cms import changes

    changes.new_batch()  # the test runs in one transaction: what follows is the editor's next one
    letter = FormSubmission.objects.create(page=tree.mailbox, form_data={"subject": "来信", "body": "内容", "consent": True})
    start = ContentChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    reply = LetterReply.objects.create(submission=letter, text="回复", replier="编辑部", published=False)
    assert not ContentChange.objects.filter(pk__gt=start, page_id=tree.mailbox.pk).exists()  # nothing public yet
    reply.published = True
    reply.save()
    assert ContentChange.objects.filter(pk__gt=start, page_id=tree.mailbox.pk).exists()
    mark = ContentChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    changes.new_batch()
    reply.published = False
    reply.save()  # taking it back changes the page too
    assert ContentChange.objects.filter(pk__gt=mark, page_id=tree.mailbox.pk).exists()
    # a letter without consent: publishing its reply changes nothing public
    private = FormSubmission.objects.create(page=tree.mailbox, form_data={"subject": "私信", "body": "内容", "consent": False})
    mark = ContentChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    changes.new_batch()
    LetterReply.objects.create(submission=private, text="回复", replier="编辑部", published=True)
    assert not ContentChange.objects.filter(pk__gt=mark, page_id=tree.mailbox.pk).exists()


def test_the_editor_writes_a_reply_in_the_admin(tree, client):
    letter = FormSubmission.objects.create(page=tree.mailbox, form_data={"subject": "后台回复的来信", "body": "内容", "consent": True})
    client.force_login(tree.editor)
    add = client.get("/admin/letter_replies/new/")
    assert add.status_code == 200 and "后台回复的来信" in add.content.decode()
    response = client.post("/admin/letter_replies/new/", {"submission": letter.pk, "text": "谢谢来信", "replier": "编辑部", "published": "on"})
    assert response.status_code == 302
    assert "谢谢来信" in client.get(tree.mailbox.url).content.decode()
    listing = client.get(f"/admin/forms/submissions/{tree.mailbox.pk}/")
    assert listing.status_code == 200 and "后台回复的来信" in listing.content.decode() and "回复来信" in listing.content.decode()
    csv = client.get(f"/admin/forms/submissions/{tree.mailbox.pk}/?export=csv")
    text = b"".join(csv.streaming_content).decode("utf-8-sig") if csv.streaming else csv.content.decode("utf-8-sig")
    assert "后台回复的来信" in text and "同意公开回复" in text
    # editors build surveys in the page editor (Wagtail's form builder)
    assert client.get(f"/admin/pages/add/surveys/surveypage/{tree.home.pk}/").status_code == 200
    assert client.get(f"/admin/pages/{tree.open.pk}/edit/").status_code == 200


def test_the_demo_loads_twice(tree):
    from members.surveys import demo

    lines: list[str] = []
    demo.load(tree.home, lines.append)
    demo.load(tree.home, lines.append)
    assert SurveyPage.objects.filter(slug="satisfaction-2026").count() == 1
    assert SurveyPage.objects.get(slug="members-survey-2026").audience == Audience.MEMBERS
    mailbox = MailboxPage.objects.get(slug="mailbox", depth=tree.home.depth + 1, path__startswith=tree.home.path)
    assert FormSubmission.objects.filter(page=mailbox).count() >= 2
    assert len(mailbox.public_letters()) >= 1


def test_the_inbox_setting_is_checked_at_start_up(settings):
    from django.core.exceptions import ImproperlyConfigured

    from members.surveys.checks import check_forms_settings, validate

    settings.SHUYUAN_FORMS_INBOX = "relative/inbox"
    with pytest.raises(ImproperlyConfigured):
        validate()
    assert [e.id for e in check_forms_settings()] == ["surveys.E001"]
    settings.SHUYUAN_FORMS_INBOX = None
    settings.SHUYUAN_FORMS_RATE_LIMIT = "5/min"
    assert [e.id for e in check_forms_settings()] == ["surveys.E001"]
    settings.SHUYUAN_FORMS_RATE_LIMIT = (5, 600)
    assert check_forms_settings() == []


def test_an_editor_outside_the_mailbox_cannot_open_its_replies_by_address(tree, client):
    from django.contrib.auth.models import Group, Permission

    letter = FormSubmission.objects.create(page=tree.mailbox, form_data={"subject": "别处的来信", "body": "内容", "consent": True})
    reply = LetterReply.objects.create(submission=letter, text="回复", replier="编辑部", published=False)
    group = Group.objects.create(name="另一支部编辑")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(content_type__app_label="surveys", codename__endswith="letterreply"),
    )
    outsider = get_user_model().objects.create_user("outsider-editor", password="pw")
    outsider.groups.add(group)
    client.force_login(outsider)
    listing = client.get("/admin/letter_replies/", follow=True)
    assert listing.status_code == 200 and "别处的来信" not in listing.content.decode()
    for view in ("edit", "delete", "inspect", "history"):
        assert client.get(f"/admin/letter_replies/{view}/{reply.pk}/", follow=True).status_code == 404, view
    assert client.post(f"/admin/letter_replies/delete/{reply.pk}/", follow=True).status_code == 404
    assert LetterReply.objects.filter(pk=reply.pk).exists()
    client.force_login(tree.editor)
    assert client.get(f"/admin/letter_replies/edit/{reply.pk}/", follow=True).status_code == 200
