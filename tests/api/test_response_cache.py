"""Remembered responses: reused for the same query and audiences, never past an edit or an expiry."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.api.content import cache_timeout, content_version
from cms.models import ArticlePage, Topic
from media.models import ShuyuanDocument
from tests.factories import build_site

from .helpers import ApiClient

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
ARTICLES = "/api/v2/pages/?type=cms.ArticlePage&fields=*&order=-id"


@override_settings(SHUYUAN_API=NO_LIMITS)
class ResponseCacheTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=2)

    def setUp(self):
        cache.clear()

    def get(self, url, client=None):
        response = (client or ApiClient()).get(url)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response.json()

    def test_a_repeated_listing_is_served_from_the_cache(self):
        first = self.get(ARTICLES)
        with CaptureQueriesContext(connection) as ctx:
            again = self.get(ARTICLES)
        self.assertEqual(again, first)
        self.assertLessEqual(len(ctx.captured_queries), 2)  # the content version (and nothing about pages)

    def test_an_edit_takes_effect_at_once(self):
        self.get(ARTICLES)
        article = ArticlePage.objects.get(pk=self.site.articles[0].pk)
        article.title = "改过的标题"
        article.save()
        titles = [item["title"] for item in self.get(ARTICLES)["items"]]
        self.assertIn("改过的标题", titles)

    def test_saving_a_draft_keeps_the_cache_and_publishing_it_takes_effect(self):
        """Editors save drafts all day; the API serves live versions, so a draft must not empty the cache."""
        first = self.get(ARTICLES)
        version = content_version()
        article = ArticlePage.objects.get(pk=self.site.articles[0].pk)
        article.title = "草稿里的新标题"
        revision = article.save_revision()
        article.refresh_from_db()
        self.assertEqual(content_version(), version)
        with CaptureQueriesContext(connection) as ctx:
            self.assertEqual(self.get(ARTICLES), first)  # still the live titles, from the cache
        self.assertLessEqual(len(ctx.captured_queries), 2)
        revision.publish()
        self.assertNotEqual(content_version(), version)
        self.assertIn("草稿里的新标题", [item["title"] for item in self.get(ARTICLES)["items"]])

    def test_renaming_a_topic_takes_effect_at_once(self):
        url = "/api/v2/pages/?type=cms.StudyMaterialPage&fields=*"
        self.get(url)
        topic = Topic.objects.get(pk=self.site.materials[0].topics.first().pk)
        topic.name = "新的专题名"
        topic.save()
        names = {t["name"] for item in self.get(url)["items"] for t in item["topics"]}
        self.assertIn("新的专题名", names)

    def test_restricting_a_document_takes_effect_at_once(self):
        document = ShuyuanDocument.objects.create(title="公开文件", audience="public", file="documents/y.txt")
        url = "/api/v2/documents/?fields=*"
        self.assertIn(document.pk, [item["id"] for item in self.get(url)["items"]])
        document.audience = "members"
        document.save()
        self.assertNotIn(document.pk, [item["id"] for item in self.get(url)["items"]])

    def test_audiences_get_their_own_responses(self):
        from cms import visibility

        from .helpers import make_user, token_for

        member = ApiClient(token_for(make_user("m", visibility.members_group())))
        anonymous_ids = {item["id"] for item in self.get(ARTICLES)["items"]}
        member_ids = {item["id"] for item in self.get(ARTICLES, member)["items"]}
        self.assertIn(self.site.members_article.pk, member_ids)
        self.assertNotIn(self.site.members_article.pk, anonymous_ids)
        self.assertNotIn(self.site.members_article.pk, {item["id"] for item in self.get(ARTICLES)["items"]})

    def test_a_members_answer_is_never_served_to_anyone_else(self):
        """Member first, then anonymous, then a signed-in non-member (who shares the public answer):
        each gets their audience's items, and the caching headers of their own request, even when the
        body comes from the cache."""
        from cms import visibility

        from .helpers import make_user, token_for

        member = ApiClient(token_for(make_user("m-first", visibility.members_group())))
        plain = ApiClient(token_for(make_user("p-second")))
        hidden = self.site.members_article.pk
        for url in (ARTICLES, f"/api/v2/pages/{hidden}/"):
            with self.subTest(url=url):
                cache.clear()
                first = member.get(url)
                self.assertEqual(first.status_code, 200)
                self.assertIn("no-store", first["Cache-Control"])
                anonymous = ApiClient().get(url)
                if url == ARTICLES:
                    self.assertNotIn(hidden, [item["id"] for item in anonymous.json()["items"]])
                else:
                    self.assertEqual(anonymous.status_code, 404)
                self.assertNotIn("private", anonymous.get("Cache-Control", ""))
                self.assertIn("Authorization", anonymous["Vary"])
                public = plain.get(url)
                self.assertEqual(public.status_code, anonymous.status_code)
                self.assertEqual(public.content, anonymous.content)  # the same audience: the same answer
                self.assertIn("private", public["Cache-Control"])
                again = member.get(url)
                self.assertEqual(again.content, first.content)
                self.assertIn("private", again["Cache-Control"])

    def test_errors_are_not_kept(self):
        self.assertEqual(ApiClient().get("/api/v2/pages/?type=cms.Nothing").status_code, 400)
        self.assertEqual(ApiClient().get("/api/v2/pages/?type=cms.Nothing").status_code, 400)
        self.assertEqual(ApiClient().get("/api/v2/pages/999999/").status_code, 404)

    def test_nothing_is_kept_past_the_next_expiry(self):
        version = content_version()
        self.assertEqual(cache_timeout(version, 300), 300)
        article = ArticlePage.objects.get(pk=self.site.articles[0].pk)
        article.expire_at = timezone.now() + timedelta(seconds=100)
        article.save()  # bumps the version
        version = content_version()
        self.assertTrue(0 < cache_timeout(version, 300) <= 100)
        article.expire_at = timezone.now() + timedelta(milliseconds=300)
        article.save()
        self.assertEqual(cache_timeout(content_version(), 300), 0)
