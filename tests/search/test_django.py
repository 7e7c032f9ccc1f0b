"""Search inside the CMS: indexing jobs, visibility through every output, pages, API, log, commands."""

from __future__ import annotations

import io
import json
import signal
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import docx
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.urls import reverse

from cms import visibility
from cms.models import StudyMaterialAttachment
from cms.visibility import Audience
from media.models import ShuyuanDocument
from search import indexing
from search.backends.base import SearchQuery, SearchUnavailable
from search.documents import document_id
from search.loader import get_search_backend
from search.models import DictionaryEntry, ExtractedText, QueryLog, SearchClick
from tests.factories import StudyMaterialPageFactory, build_site, publish

IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
QUERIES = ["", "会员", "机关内部通知", "内部", "学习", "三会一课", "党建", "手册", "*", "绝密"]


def docx_file(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=(1000, 60))
@contextmanager
def _signal_handlers_kept():
    """db_worker installs its own SIGINT/SIGTERM handlers and leaves them: put pytest's back after it."""
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


class SearchIntegrationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()
        User = get_user_model()
        cls.member = User.objects.create_user("member", password="pw")
        cls.member.groups.add(visibility.members_group())
        cls.admin = User.objects.create_superuser("admin", "admin@example.org", "pw")

    def setUp(self):
        cache.clear()  # rate-limit counters
        indexing.rebuild()

    def api(self, **params):
        response = self.client.get("/api/v2/search/", params)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response.json()

    def all_ids(self, data):
        return {r["id"] for r in data["results"]}

    # -- visibility invariant --------------------------------------------
    def test_anonymous_api_never_returns_restricted_content(self):
        t = self.tree
        restricted = {document_id(p.pk) for p in (t.members_article, t.internal_article, t.members_material)}
        restricted_titles = [p.title for p in (t.members_article, t.internal_article, t.members_material)]
        for q in QUERIES:
            data = self.api(q=q, page_size=50)
            self.assertFalse(self.all_ids(data) & restricted, q)
            text = json.dumps({"results": data["results"], "facets": data["facets"]}, ensure_ascii=False)
            for title in restricted_titles:
                self.assertNotIn(title, text, q)
            self.assertNotIn(t.notices.title, [v["value"] for v in data["facets"]["column"]])
        browse = SearchQuery(q="", audiences=frozenset({"public"}), page_size=50)  # the engine's own browse
        public_count = get_search_backend().search(browse).total
        self.assertEqual(public_count, len(t.articles) + len(t.materials) + 1 + len(t.red_sites))
        self.assertEqual(self.api(q="", page_size=50)["total"], 0)  # the API: an empty q is an empty page
        suggestions = self.client.get("/api/v2/search/suggest/", {"q": "会员"}).json()["suggestions"]
        self.assertNotIn("会员学习手册", suggestions)

    def test_members_see_members_content_but_never_internal(self):
        self.client.force_login(self.member)
        data = self.api(q=self.tree.members_material.title, page_size=50)
        ids = self.all_ids(data)
        self.assertIn(document_id(self.tree.members_material.pk), ids)
        self.assertNotIn(document_id(self.tree.internal_article.pk), ids)
        self.assertNotIn("机关内部通知", json.dumps(self.api(q="机关内部通知")["results"], ensure_ascii=False))

    def test_internal_content_is_searchable_inside_the_cms_only(self):
        res = get_search_backend().search(SearchQuery(q="机关内部通知", audiences=frozenset({"public", "members", "internal"})))
        self.assertIn(document_id(self.tree.internal_article.pk), [h.id for h in res.hits])

    # -- index maintenance -------------------------------------------------
    def test_publish_unpublish_privacy_and_delete_update_the_index(self):
        library = self.tree.library
        with self.captureOnCommitCallbacks(execute=True):
            page = StudyMaterialPageFactory(parent=library, title="新发布的学习资料", doc_number="书苑党发〔2026〕9号")
            publish(page)
        self.assertEqual(self.api(q="书苑党发〔2026〕9号")["results"][0]["id"], document_id(page.pk))

        with self.captureOnCommitCallbacks(execute=True):
            page.audience = Audience.MEMBERS
            page.save()
            publish(page)
        self.assertNotIn(document_id(page.pk), self.all_ids(self.api(q="新发布的学习资料")))
        self.client.force_login(self.member)
        self.assertIn(document_id(page.pk), self.all_ids(self.api(q="新发布的学习资料")))

        with self.captureOnCommitCallbacks(execute=True):
            page.unpublish()
        self.assertNotIn(document_id(page.pk), self.all_ids(self.api(q="新发布的学习资料")))

        with self.captureOnCommitCallbacks(execute=True):
            publish(page)
        self.assertIn(document_id(page.pk), self.all_ids(self.api(q="新发布的学习资料")))
        with self.captureOnCommitCallbacks(execute=True):
            page.delete()
        self.assertNotIn(document_id(page.pk), self.all_ids(self.api(q="新发布的学习资料")))

    def test_changes_wait_while_the_engine_is_down_and_are_replayed(self):
        backend = get_search_backend()
        page = StudyMaterialPageFactory(parent=self.tree.library, title="停机期间发布的资料")
        publish(page)  # in the test's transaction: nothing was enqueued, the change waits in the feed
        with mock.patch.object(backend, "index", side_effect=SearchUnavailable("connection refused")):
            with self.assertRaises(SearchUnavailable):
                indexing.catch_up()
        self.assertGreater(indexing.backlog(), 0)  # the search consumer's cursor stayed put
        self.assertGreater(indexing.catch_up(), 0)
        self.assertEqual(indexing.backlog(), 0)
        self.assertIn(document_id(page.pk), self.all_ids(self.api(q="停机期间发布的资料")))

    def test_attachment_text_is_indexed_with_its_page_and_bad_files_are_skipped(self):
        page = self.tree.materials[0]
        good = ShuyuanDocument.objects.create(title="学习笔记", file=ContentFile(docx_file("附件里提到组织生活会的流程"), name="notes.docx"))
        bad = ShuyuanDocument.objects.create(title="坏文件", file=ContentFile(b"%PDF-1.4 garbage", name="broken.pdf"))
        secret = ShuyuanDocument.objects.create(
            title="内部附件", audience=Audience.INTERNAL, file=ContentFile(docx_file("内部附件的机密措辞"), name="s.docx")
        )
        for document in (good, bad, secret):
            StudyMaterialAttachment.objects.create(page=page, document=document)
        indexing.update_pages([page.pk])
        hit = self.api(q="组织生活会的流程")["results"][0]
        self.assertEqual(hit["id"], document_id(page.pk))
        self.assertEqual(hit["source"], "学习笔记")
        self.assertIn("<mark>", hit["snippet_html"])
        self.assertEqual(ExtractedText.objects.get(document_id=bad.pk).skipped_reason, "malformed")
        self.assertEqual(self.api(q="机密措辞")["total"], 0)  # an internal file on a public page stays out

    def test_management_command(self):
        out = io.StringIO()
        call_command("search_index", "rebuild", stdout=out)
        self.assertIn("documents indexed", out.getvalue())
        out = io.StringIO()
        call_command("search_index", "check", stdout=out)
        self.assertIn("Search index OK", out.getvalue())
        get_search_backend().delete([document_id(self.tree.articles[0].pk)])
        with self.assertRaises(SystemExit):
            call_command("search_index", "check", stdout=io.StringIO())
        call_command("search_index", "update", stdout=io.StringIO())
        call_command("search_index", "check", stdout=io.StringIO())

    # -- pages, API, log -------------------------------------------------
    def test_study_search_page_requires_login_and_renders_highlights(self):
        url = reverse("search:study", kwargs={"lang": "zh-hans"})
        response = self.client.get(url, {"q": "会员学习手册"})
        self.assertEqual(response.status_code, 302)
        self.client.force_login(self.member)
        response = self.client.get(url, {"q": "会员学习手册"})
        self.assertContains(response, "<mark>")
        self.assertContains(response, "找到")

    def test_clicks_on_later_pages_count_for_the_query(self):
        for n in range(12):
            StudyMaterialPageFactory(parent=self.tree.library, title=f"分页检索资料 {n}")
        indexing.rebuild()
        url = reverse("search:study", kwargs={"lang": "zh-hans"})
        self.client.force_login(self.member)
        first = self.client.get(url, {"q": "分页检索资料"})
        log = QueryLog.objects.get(query="分页检索资料")
        self.assertContains(first, f"log={log.pk}&amp;page=2")
        second = self.client.get(url, {"q": "分页检索资料", "page": 2, "log": log.pk})
        self.assertEqual(QueryLog.objects.filter(query="分页检索资料").count(), 1)  # one query, two pages
        self.assertContains(second, f"?log={log.pk}&amp;doc=")
        self.assertContains(second, "pos=11&amp;")  # positions count on from page 1

    def test_search_page_and_api_say_unavailable_when_the_engine_is_down(self):
        self.client.force_login(self.member)
        with mock.patch.object(get_search_backend(), "search", side_effect=SearchUnavailable("down")):
            response = self.client.get(reverse("search:study", kwargs={"lang": "zh-hans"}), {"q": "学习"})
            self.assertContains(response, "搜索服务暂时不可用")
            self.assertEqual(self.client.get("/api/v2/search/", {"q": "学习"}).status_code, 503)

    def test_hostile_input_through_the_api(self):
        for q in ['title:"x"', "(((", "a" * 200, "<script>alert(1)</script>"]:
            self.api(q=q, topic="<b>")
        for q, params in (("a" * 3000, {}), ("\x00", {}), ("学习", {"page": "x"}), ("学习", {"page_size": "-5"}),
                          ("学习", {"sort": "nonsense"})):
            response = self.client.get("/api/v2/search/", {"q": q, **params})
            self.assertEqual(response.status_code, 400, (q[:20], params))
            self.assertEqual(set(response.json()), {"message"})

    def test_query_log_clicks_and_report(self):
        data = self.api(q="三会一课")
        self.api(q="不存在的词语组合")
        log = QueryLog.objects.get(query="三会一课")
        self.assertEqual(data["log_id"], log.pk)
        response = self.client.get("/api/v2/search/click/", {"log": log.pk, "doc": "page:1", "pos": 1, "to": "/zh-hans/"})
        self.assertEqual(response["Location"], "/zh-hans/")
        self.assertEqual(SearchClick.objects.count(), 1)
        evil = self.client.get("/api/v2/search/click/", {"log": log.pk, "doc": "x", "to": "//evil.example"})
        self.assertEqual(evil["Location"], "/")
        self.client.force_login(self.admin)
        response = self.client.get(reverse("search_report"))
        self.assertContains(response, "三会一课")
        self.assertContains(response, "不存在的词语组合")

    def test_clicks_reported_by_beacon(self):
        """The static site (another origin, no CSRF token) reports clicks with a POST beacon."""
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        data = self.api(q="三会一课")
        ok = client.post("/api/v2/search/click/", {"log": data["log_id"], "doc": "page:7", "pos": 12})
        self.assertEqual(ok.status_code, 204)
        click = SearchClick.objects.get()
        self.assertEqual((click.log_id, click.document_id, click.position), (data["log_id"], "page:7", 12))
        for fields, word in (
            ({"log": "x", "doc": "page:7", "pos": 1}, "log"),
            ({"doc": "page:7", "pos": 1}, "log"),
            ({"log": data["log_id"], "doc": "<script>", "pos": 1}, "doc"),
            ({"log": data["log_id"], "doc": "page:7", "pos": 0}, "pos"),
            ({"log": data["log_id"], "doc": "page:7", "pos": "1e3"}, "pos"),
        ):
            with self.subTest(fields=fields):
                bad = client.post("/api/v2/search/click/", fields)
                self.assertEqual(bad.status_code, 400)
                self.assertIn(word, bad.json()["message"])
        unknown = client.post("/api/v2/search/click/", {"log": data["log_id"] + 1000, "doc": "page:7", "pos": 1})
        self.assertEqual(unknown.status_code, 404)
        self.assertEqual(client.put("/api/v2/search/click/").status_code, 405)
        self.assertEqual(SearchClick.objects.count(), 1)  # nothing but the good report was counted

    @override_settings(SHUYUAN_SEARCH_RATE_LIMIT=(2, 60))
    def test_rate_limit(self):
        codes = [self.client.get("/api/v2/search/", {"q": "学习"}).status_code for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])
        # autocomplete has its own budget: typing does not use up the searches
        with self.settings(SHUYUAN_SUGGEST_RATE_LIMIT=(3, 60)):
            codes = [self.client.get("/api/v2/search/suggest/", {"q": "学"}).status_code for _ in range(4)]
        self.assertEqual(codes, [200, 200, 200, 429])

    @override_settings(SHUYUAN_SEARCH_RATE_LIMIT=(2, 60))
    def test_forged_forwarded_for_does_not_escape_the_rate_limit(self):
        codes = [
            self.client.get("/api/v2/search/", {"q": "学习"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
            for i in range(3)
        ]
        self.assertEqual(codes, [200, 200, 429])

    def test_dictionary_entries_change_segmentation(self):
        from search.dictionary import current_analyzer

        with self.captureOnCommitCallbacks(execute=True):
            DictionaryEntry.objects.create(word="书苑云课堂", synonyms="云课堂，网上党校")
        analyzer = current_analyzer()
        self.assertIn("书苑云课堂", analyzer.tokens("欢迎来到书苑云课堂"))
        groups = [set(g) for g in analyzer.query("网上党校").groups]
        self.assertIn({"书苑云课堂", "云课堂", "网上党校"}, groups)


    @override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
    def test_a_burst_of_dictionary_edits_costs_one_rebuild(self):
        """Editors add words one at a time; each save used to start a full rebuild."""
        from django.utils import timezone
        from django_tasks_db.models import DBTaskResult

        before = timezone.now()
        for word in ("书苑云课堂", "网上党校", "红色微课堂"):
            with self.captureOnCommitCallbacks(execute=True):
                DictionaryEntry.objects.create(word=word)
        jobs = DBTaskResult.objects.filter(task_path="search.tasks.rebuild_search_index")
        self.assertEqual(jobs.count(), 3)
        # each waits a minute, so a burst of edits is over before the first one runs
        self.assertTrue(all(job.run_after >= before + timedelta(seconds=59) for job in jobs))
        jobs.update(run_after=timezone.now())  # the minute has passed
        # the worker closes "old" connections between jobs: in this test's transaction that would close the
        # test's own connection (on PostgreSQL; SQLite's in-memory test database ignores it)
        with (
            mock.patch("search.indexing.rebuild", return_value=7) as rebuild,
            mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"),
            _signal_handlers_kept(),
        ):
            call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
        self.assertEqual(rebuild.call_count, 1)  # the first two saw a later edit and left it to its job
        self.assertEqual(sorted(job.return_value for job in jobs.all()), [0, 0, 7])


class ConfigurationTests(TestCase):
    def test_bad_backend_fails_the_system_check(self):
        from search.checks import check_search_backends

        with override_settings(SHUYUAN_SEARCH={"default": {"BACKEND": "search.backends.nope"}}):
            self.assertEqual(check_search_backends()[0].id, "search.E002")
        with override_settings(SHUYUAN_SEARCH={"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {}}}):
            errors = check_search_backends()
            self.assertIn("PATH", errors[0].msg)
        with override_settings(SHUYUAN_SEARCH={"default": {"BACKEND": "search.backends.elasticsearch", "OPTIONS": {}}}):
            self.assertIn("URLS", check_search_backends()[0].msg)
        self.assertEqual(check_search_backends(), [])


class AdminSearchTests(TestCase):
    """The Wagtail admin's search (search.admin_backend) finds Chinese pages by two-character words."""

    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()
        cls.admin = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw")
        cls.page = StudyMaterialPageFactory(parent=cls.tree.library, title="关于加强黨支部標準化建設的通知")

    def test_two_character_word_and_traditional_forms(self):
        from wagtail.models import Page

        for q in ("党支部", "标准化", "建设", "標準化"):
            self.assertIn(self.page.pk, [p.pk for p in Page.objects.search(q)], q)
        self.assertIn(self.page.pk, [p.pk for p in Page.objects.autocomplete("标准")])

    def test_admin_page_search_view(self):
        self.client.force_login(self.admin)
        response = self.client.get("/admin/pages/search/", {"q": "标准化"})
        self.assertContains(response, "关于加强黨支部標準化建設的通知")
        # words and a quoted phrase together: the admin's parser makes And([PlainText, Phrase])
        for q in ('建设 "标准化"', '"党支部标准化"', '通知 "標準化建設"'):
            with self.subTest(q=q):
                self.assertContains(self.client.get("/admin/pages/search/", {"q": q}), "关于加强黨支部標準化建設的通知")
        self.assertNotContains(self.client.get("/admin/pages/search/", {"q": '建设 "经济"'}), "关于加强黨支部標準化建設的通知")
