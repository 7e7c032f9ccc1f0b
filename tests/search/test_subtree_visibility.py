"""The index follows the visibility rule for whole subtrees: an unpublished or expired section hides every
page below it from search, and publishing it again brings them back; an outage schedules a catch-up."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from unittest import mock

from django.core.cache import cache
from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone
from django_tasks import default_task_backend

from cms import changes
from search import indexing
from search.backends.base import SearchUnavailable
from search.documents import document_id
from search.loader import get_search_backend
from tests.factories import ArticlePageFactory, build_site, publish

IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=(1000, 60))
class SubtreeVisibilityTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()

    def setUp(self):
        cache.clear()
        indexing.rebuild()

    def public_ids(self, q: str) -> set[str]:
        response = self.client.get("/api/v2/search/", {"q": q, "page_size": 50})
        self.assertEqual(response.status_code, 200, response.content[:300])
        return {r["id"] for r in response.json()["results"]}

    def test_unpublishing_a_column_removes_its_articles_and_republishing_restores_them(self):
        column = self.tree.news
        article = self.tree.articles[0]
        self.assertIn(document_id(article.pk), self.public_ids(article.title))

        with self.captureOnCommitCallbacks(execute=True):
            column.unpublish()
        self.assertNotIn(document_id(article.pk), self.public_ids(article.title))
        self.assertNotIn(document_id(article.pk), self.public_ids(""))

        with self.captureOnCommitCallbacks(execute=True):
            publish(column.specific)
        self.assertIn(document_id(article.pk), self.public_ids(article.title))

    def test_scheduled_expiry_of_a_column_hides_its_articles(self):
        column = self.tree.news.specific
        article = ArticlePageFactory(parent=column, title="到期栏目下的文章")
        with self.captureOnCommitCallbacks(execute=True):
            publish(article)
        self.assertIn(document_id(article.pk), self.public_ids("到期栏目下的文章"))

        column.expire_at = timezone.now() - timedelta(minutes=1)
        column.save_revision().publish()
        with self.captureOnCommitCallbacks(execute=True):
            call_command("publish_scheduled", stdout=io.StringIO())
        column.refresh_from_db()
        self.assertTrue(column.expired)
        self.assertNotIn(document_id(article.pk), self.public_ids("到期栏目下的文章"))

    @override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
    def test_an_outage_schedules_a_catch_up_with_back_off(self):
        from search.tasks import update_search_index

        backend = get_search_backend()
        article = self.tree.articles[1]
        article.title = "停机期间改名的文章"
        publish(article)
        default_task_backend.clear()
        before = changes.position(indexing.CONSUMER)
        with mock.patch.object(backend, "index", side_effect=SearchUnavailable("connection refused")):
            result = update_search_index.call()
        self.assertEqual(result["status"], "unavailable")
        self.assertEqual(changes.position(indexing.CONSUMER), before)  # nothing is lost
        self.assertGreater(indexing.backlog(), 0)
        queued = [r for r in default_task_backend.results if r.task.name == "update_search_index"]
        self.assertEqual(len(queued), 1)
        self.assertGreater(queued[0].task.run_after, timezone.now())
        self.assertEqual(queued[0].kwargs, {"attempt": 1})
        # later attempts wait longer, and never give up while the engine stays down
        with mock.patch.object(backend, "index", side_effect=SearchUnavailable("connection refused")):
            later = update_search_index.call(attempt=20)
        self.assertEqual(later["retry_in"], 600)
        self.assertEqual(update_search_index.call(attempt=1)["status"], "ok")  # the engine is back
        self.assertEqual(indexing.backlog(), 0)
        self.assertIn(document_id(article.pk), self.public_ids("停机期间改名的文章"))


class UnusableIndexTests(TestCase):
    """``search_index update`` (run by ``./dev up``) repairs an index it cannot open by rebuilding it."""

    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site()

    def test_update_rebuilds_a_missing_or_outdated_index(self):
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            settings = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"PATH": tmp}}}
            with override_settings(SHUYUAN_SEARCH=settings):
                Path(tmp, "CURRENT").write_text("v0-written-by-an-old-version\n")
                self.assertFalse(get_search_backend().health().ok)
                out = io.StringIO()
                call_command("search_index", "update", stdout=out)
                self.assertIn("rebuilding", out.getvalue())
                self.assertTrue(get_search_backend().health().ok)
                self.assertTrue(indexing.check().ok)
