"""Listings, filters, bad parameters and query counts of the pages, images and documents endpoints."""

import pytest
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from cms.models import ArticlePage, StudyMaterialAttachment
from media.models import ShuyuanDocument
from tests.factories import ArticlePageFactory, build_site

from .helpers import ApiClient

NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}


@override_settings(SHUYUAN_API=NO_LIMITS)
class ListingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=4)

    def ids(self, url):
        response = ApiClient().get(url)
        self.assertEqual(response.status_code, 200, response.content[:300])
        data = response.json()
        self.assertEqual(data["meta"]["total_count"], len(data["items"]))
        return {item["id"] for item in data["items"]}

    def test_filters(self):
        site = self.site
        public_articles = {a.pk for a in site.articles}
        self.assertEqual(self.ids("/api/v2/pages/?type=cms.ArticlePage"), public_articles)
        self.assertEqual(self.ids("/api/v2/pages/?column=news"), public_articles)
        self.assertEqual(self.ids(f"/api/v2/pages/?column={site.news.pk}&type=cms.ArticlePage"), public_articles)
        materials = {m.pk for m in site.materials}
        topic = site.materials[0].topics.first()
        self.assertEqual(self.ids(f"/api/v2/pages/?topic={topic.slug}"), materials)
        self.assertEqual(self.ids(f"/api/v2/pages/?material_type={site.materials[0].material_type_id}"), materials)
        self.assertEqual(
            self.ids("/api/v2/pages/?province=beijing"), {p.pk for p in site.red_sites if p.province == "beijing"}
        )
        category = site.red_sites[0].category
        self.assertEqual(self.ids(f"/api/v2/pages/?category={category.slug}"), {p.pk for p in site.red_sites})
        first = site.articles[0]
        self.assertIn(first.pk, self.ids(f"/api/v2/pages/?type=cms.ArticlePage&date_from={first.date}&date_to={first.date}"))
        self.assertEqual(self.ids("/api/v2/pages/?locale=zh-hans&type=cms.HomePage"), {site.home.pk})
        self.assertEqual(self.ids(f"/api/v2/pages/?translation_of={site.home.pk}"), set())

    def test_ordering_and_pagination(self):
        data = ApiClient().get("/api/v2/pages/?type=cms.ArticlePage&order=-date&fields=date&limit=2&offset=1").json()
        self.assertEqual(data["meta"]["total_count"], 4)
        dates = sorted((a.date for a in self.site.articles), reverse=True)
        self.assertEqual([item["date"] for item in data["items"]], [d.isoformat() for d in dates[1:3]])

    def test_detail_has_every_field(self):
        material = self.site.materials[0]
        data = ApiClient().get(f"/api/v2/pages/{material.pk}/").json()
        for name in ("audience", "summary", "cover_image", "material_type", "topics", "issuing_body", "doc_number",
                     "issue_date", "body", "allow_download", "attachments"):
            self.assertIn(name, data)
        self.assertEqual(data["material_type"]["slug"], material.material_type.slug)
        self.assertEqual(data["meta"]["parent"]["id"], self.site.library.pk)
        self.assertEqual(data["body"][0]["type"], "paragraph")

    def test_members_only_attachment_hidden_from_anonymous(self):
        material = self.site.materials[0]
        from django.core.files.base import ContentFile

        doc = ShuyuanDocument(title="会员附件", audience="members")
        doc.file.save("m.txt", ContentFile(b"x"), save=False)
        doc.save()
        StudyMaterialAttachment.objects.create(page=material, document=doc)
        data = ApiClient().get(f"/api/v2/pages/{material.pk}/").json()
        self.assertEqual(data["attachments"], [])
        self.assertEqual(ApiClient().get(f"/api/v2/documents/{doc.pk}/").status_code, 404)


BAD = [
    ("/api/v2/pages/?type=cms.Nope", "type"),
    ("/api/v2/pages/?fields=nope", "unknown fields"),
    ("/api/v2/pages/?limit=51", "limit"),
    ("/api/v2/pages/?limit=-1", "limit"),
    ("/api/v2/pages/?offset=x", "offset"),
    ("/api/v2/pages/?colour=red", "colour"),
    ("/api/v2/pages/?order=nope", "nope"),
    ("/api/v2/pages/?locale=xx", "locale"),
    ("/api/v2/pages/?province=atlantis", "province"),
    ("/api/v2/pages/?topic=none-such", "topic"),
    ("/api/v2/pages/?column=none-such", "column"),
    ("/api/v2/pages/?date_from=yesterday", "date_from"),
    ("/api/v2/pages/?date_from=2025-02-01&date_to=2025-01-01", "later"),
    ("/api/v2/pages/?type=cms.ArticlePage&date=abc", "date"),
    ("/api/v2/pages/?type=cms.RedExhibitionPage&latitude=north", "latitude"),
    ("/api/v2/pages/?child_of=abc", "child_of"),
    ("/api/v2/pages/?child_of=999999", "doesn't exist"),
    ("/api/v2/pages/?search=" + "党" * 201, "longer than"),
    ("/api/v2/pages/?search=a&search=b", "more than once"),
    ("/api/v2/pages/?title=%00", "null"),
    ("/api/v2/pages/?rich_text_format=db_html", "rich_text_format"),
    ("/api/v2/images/?limit=1000", "limit"),
    ("/api/v2/documents/?bogus=1", "bogus"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("url,words", BAD)
@override_settings(SHUYUAN_API=NO_LIMITS)
def test_bad_parameters_get_a_400_that_says_why(url, words):
    response = ApiClient().get(url)
    assert response.status_code == 400, response.content[:200]
    assert words in response.json()["message"]


@override_settings(SHUYUAN_API={**NO_LIMITS, "CACHE_LISTINGS": False})
class QueryCountTests(TestCase):
    """Listing full bodies costs the same number of queries for 2 items as for 20 (no N+1), measured
    without the listing cache so that every query of a cold listing is counted."""

    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=2)
        image = cls.site.articles[0].cover_image
        doc = ShuyuanDocument.objects.create(title="公开附件", audience="public", file="documents/x.txt")
        for i in range(20):
            ArticlePageFactory(
                parent=cls.site.news,
                cover_image=image,
                body=[
                    ("paragraph", f'<p>见<a linktype="page" id="{cls.site.home.pk}">首页</a>'
                                  f'<a linktype="document" id="{doc.pk}">附件</a></p>'),
                    ("attachment", {"document": doc, "title": ""}),
                ],
                tags=["标签"] if i % 2 else [],
            )
        assert ArticlePage.objects.count() >= 22

    def count(self, url, client):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        self.assertEqual(response.status_code, 200)
        return len(ctx.captured_queries)

    def test_constant_queries(self):
        for client in (ApiClient(), self.member_client()):
            url = "/api/v2/pages/?type=cms.ArticlePage&fields=*&order=-id&limit={}"
            self.count(url.format(20), client)  # warm caches (renditions, site root paths)
            small, large = self.count(url.format(2), client), self.count(url.format(20), client)
            self.assertEqual(small, large)
            self.assertLessEqual(large, 20)
            for url in ("/api/v2/pages/?limit={}", "/api/v2/documents/?limit={}&fields=*", "/api/v2/images/?limit={}&fields=*"):
                self.count(url.format(20), client)  # content types are cached per process after first use
                self.assertEqual(self.count(url.format(1), client), self.count(url.format(20), client), url)

    def member_client(self):
        from cms import visibility

        from .helpers import make_user, token_for

        return ApiClient(token_for(make_user("m", visibility.members_group())))


@override_settings(SHUYUAN_API=NO_LIMITS)
class ListingCacheTests(TestCase):
    """Remembered counts and id windows never outlive a change of audience."""

    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=2)

    def test_restricting_a_page_takes_effect_at_once(self):
        url = "/api/v2/pages/?type=cms.ArticlePage&fields=title"
        before = ApiClient().get(url).json()
        self.assertEqual(ApiClient().get(url).json(), before)  # served from the cache
        article = ArticlePage.objects.get(pk=self.site.articles[0].pk)
        article.audience = "internal"
        article.save()
        after = ApiClient().get(url).json()
        self.assertEqual(after["meta"]["total_count"], before["meta"]["total_count"] - 1)
        self.assertNotIn(article.pk, [item["id"] for item in after["items"]])
