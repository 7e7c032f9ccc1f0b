"""Listings, filters, bad parameters and query counts of the pages, images and documents endpoints."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from wagtail.models import Locale

from cms import visibility
from cms.models import ArticlePage, StudyMaterialAttachment
from cms.translation import translate_page, translate_strings
from cms.visibility import Audience
from media.models import ShuyuanDocument
from tests.factories import ArticlePageFactory, StudyMaterialPageFactory, TopicFactory, build_site

from .helpers import ApiClient, make_user, token_for

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
    ("/api/v2/pages/?date_from=yesterday", "date_from"),
    ("/api/v2/pages/?type=cms.ArticlePage&date=abc", "date"),
    ("/api/v2/pages/?type=cms.RedExhibitionPage&latitude=north", "latitude"),
    ("/api/v2/pages/?child_of=abc", "child_of"),
    ("/api/v2/pages/?search=" + "党" * 201, "longer than"),
    ("/api/v2/pages/?search=a&search=b", "more than once"),
    ("/api/v2/pages/?title=%00", "null"),
    ("/api/v2/pages/?rich_text_format=db_html", "rich_text_format"),
    ("/api/v2/pages/?child_of=0", "child_of"),
    ("/api/v2/pages/?ancestor_of=root", "ancestor_of"),
    ("/api/v2/pages/?date_from=20250101", "date_from"),
    ("/api/v2/pages/?search=%20%20", "search must not be empty"),
    ("/api/v2/pages/?search=x&search_operator=xx", "search_operator"),
    ("/api/v2/images/?search=x&search_operator=AND", "search_operator"),
    ("/api/v2/documents/?search=x&search_operator=", "search_operator"),
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


NAMES_NOTHING = [
    "/api/v2/pages/?topic=none-such",
    "/api/v2/pages/?column=none-such",
    "/api/v2/pages/?material_type=99999",
    "/api/v2/pages/?category=none-such",
    "/api/v2/pages/?date_from=2025-02-01&date_to=2025-01-01",
    "/api/v2/pages/?child_of=999999",
    "/api/v2/pages/?descendant_of=999999",
    "/api/v2/pages/?ancestor_of=999999",
    "/api/v2/pages/?translation_of=999999",
]


@pytest.mark.django_db
@override_settings(SHUYUAN_API=NO_LIMITS)
def test_well_formed_values_that_name_nothing_match_nothing():
    """What the schema allows is answered (schemathesis: no valid request refused): an unknown term
    or page is an empty listing, not a 400. A hidden page is named the same way as a missing one."""
    site = build_site(n_articles=1)
    for url in NAMES_NOTHING:
        response = ApiClient().get(url)
        assert response.status_code == 200, (url, response.content[:200])
        assert response.json() == {"meta": {"total_count": 0}, "items": []}, url
    hidden = ApiClient().get(f"/api/v2/pages/?child_of={site.members_article.pk}")
    assert hidden.json() == {"meta": {"total_count": 0}, "items": []}
    # child_of and descendant_of together (Wagtail refuses the pair): children of one page below another
    home = site.home.pk
    both = ApiClient().get(f"/api/v2/pages/?child_of={home}&descendant_of={home}")
    only = ApiClient().get(f"/api/v2/pages/?child_of={home}")
    assert both.status_code == 200 and both.json()["meta"]["total_count"] == only.json()["meta"]["total_count"] > 0
    # order=random takes an offset
    assert ApiClient().get("/api/v2/pages/?order=random&offset=1").status_code == 200


@override_settings(
    SHUYUAN_API=NO_LIMITS, WAGTAILAPI_BASE_URL="http://api.test", SHUYUAN_PUBLISH={"BASE_URL": "https://www.site.test"}
)
class TranslationTests(TestCase):
    """Real translations (wagtail-localize, as the admin makes them): ``translation_of`` and the
    ``translations`` field name the other-language versions the caller may read, and no other."""

    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=2)
        get_user_model().objects.create_superuser("translator", "", "pw")
        cls.hant = Locale.objects.create(language_code="zh-hant")
        cls.en = Locale.objects.create(language_code="en")
        cls.article = cls.site.articles[0]
        cls.hant_copy = cls.translate(cls.article, cls.hant)
        cls.en_copy = cls.translate(cls.article, cls.en)
        for page in cls.article.get_ancestors(inclusive=True).filter(depth__gt=1):
            with cls.captureOnCommitCallbacks(execute=True):  # translated (strings kept): an untranslated copy is never listed
                translate_strings(page.specific, cls.en, lambda text: text)
        cls.en_copy = cls.article.get_translation(cls.en).specific
        # The English copy is restricted to members afterwards (an editor's choice on the copy).
        cls.en_copy.audience = Audience.MEMBERS
        cls.en_copy.save_revision().publish()
        cls.members_copy = cls.translate(cls.site.members_article, cls.hant)  # members-only like its source
        cls.member = ApiClient(token_for(make_user("translation-member", visibility.members_group())))

    @classmethod
    def translate(cls, page, locale):
        # wagtail-localize publishes on commit: one commit per editor action, parents first, as in the admin.
        for ancestor in page.get_ancestors(inclusive=True).filter(depth__gt=1):
            with cls.captureOnCommitCallbacks(execute=True):
                translate_page(ancestor, locale)
        cache.clear()
        return page.get_translation(locale).specific

    def items(self, url, client=None):
        response = (client or ApiClient()).get(url)
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response.json()["items"]

    def test_translation_of_lists_the_visible_translations(self):
        self.assertTrue(self.hant_copy.live and self.en_copy.live)
        self.assertEqual((self.hant_copy.locale, self.hant_copy.translation_key), (self.hant, self.article.translation_key))
        url = f"/api/v2/pages/?translation_of={self.article.pk}"
        items = self.items(url)
        self.assertEqual([(i["id"], i["meta"]["locale"]) for i in items], [(self.hant_copy.pk, "zh-hant")])
        self.assertEqual(
            {(i["id"], i["meta"]["locale"]) for i in self.items(url, self.member)},
            {(self.hant_copy.pk, "zh-hant"), (self.en_copy.pk, "en")},
        )
        back = self.items(f"/api/v2/pages/?translation_of={self.hant_copy.pk}&fields=title")
        self.assertEqual([i["id"] for i in back], [self.article.pk])
        self.assertEqual(self.items(f"/api/v2/pages/?translation_of={self.article.pk}&locale=en"), [])
        # The members-only article: for the public it names nothing, so nothing is listed.
        self.assertEqual(self.items(f"/api/v2/pages/?translation_of={self.site.members_article.pk}"), [])
        items = self.items(f"/api/v2/pages/?translation_of={self.site.members_article.pk}", self.member)
        self.assertEqual([i["id"] for i in items], [self.members_copy.pk])

    def test_detail_names_the_visible_translations(self):
        data = ApiClient().get(f"/api/v2/pages/{self.article.pk}/").json()
        self.assertEqual(
            data["translations"],
            [
                {
                    "id": self.hant_copy.pk,
                    "locale": "zh-hant",
                    "title": self.hant_copy.title,
                    # the public reads it on the static site, whatever host the API was asked on
                    "html_url": "https://www.site.test" + self.hant_copy.url,
                    "detail_url": f"http://api.test/api/v2/pages/{self.hant_copy.pk}/",
                }
            ],
        )
        self.assertTrue(self.hant_copy.url.startswith("/zh-hant/"))
        member = self.member.get(f"/api/v2/pages/{self.article.pk}/").json()
        self.assertEqual([t["locale"] for t in member["translations"]], ["en", "zh-hant"])
        # a members-only translation is read on the CMS's members' pages, never on the public site
        self.assertEqual(member["translations"][0]["html_url"], "http://api.test" + self.en_copy.url)
        copy = ApiClient().get(f"/api/v2/pages/{self.hant_copy.pk}/").json()
        self.assertEqual([(t["id"], t["locale"]) for t in copy["translations"]], [(self.article.pk, "zh-hans")])
        # A restricted page's detail is a 404, and restricted translations are never named.
        self.assertEqual(ApiClient().get(f"/api/v2/pages/{self.en_copy.pk}/").status_code, 404)
        untranslated = ApiClient().get(f"/api/v2/pages/{self.site.articles[1].pk}/").json()
        self.assertEqual(untranslated["translations"], [])

    def test_listings_give_translations_on_request_at_a_constant_query_count(self):
        url = "/api/v2/pages/?type=cms.ArticlePage&fields=translations&locale=zh-hans&order=id&limit={}"
        items = self.items(url.format(20))
        by_id = {i["id"]: [t["id"] for t in i["translations"]] for i in items}
        self.assertEqual(by_id[self.article.pk], [self.hant_copy.pk])
        self.assertNotIn("translations", self.items("/api/v2/pages/?type=cms.ArticlePage")[0])
        untyped = self.items("/api/v2/pages/?fields=translations&locale=zh-hant&order=id&limit=50")
        self.assertIn([self.article.pk], [[t["id"] for t in i["translations"]] for i in untyped])
        with self.settings(SHUYUAN_API={**NO_LIMITS, "CACHE_LISTINGS": False}):
            counts = []
            for limit in (1, 20):
                with CaptureQueriesContext(connection) as ctx:
                    self.items(url.format(limit), self.member)
                counts.append(len(ctx.captured_queries))
        self.assertEqual(counts[0], counts[1])


@override_settings(SHUYUAN_API={**NO_LIMITS, "CACHE_LISTINGS": False})
class QueryCountTests(TestCase):
    """Listing full bodies costs the same number of queries for 1, 20 and 50 items (no N+1), measured
    without the listing cache so that every query of a cold listing is counted."""

    @classmethod
    def setUpTestData(cls):
        cls.site = build_site(n_articles=2)
        image = cls.site.articles[0].cover_image
        doc = ShuyuanDocument.objects.create(title="公开附件", audience="public", file="documents/x.txt")
        for i in range(50):
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
        assert ArticlePage.objects.count() >= 52

    def count(self, url, client):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        self.assertEqual(response.status_code, 200)
        return len(ctx.captured_queries)

    def test_constant_queries(self):
        for client in (ApiClient(), self.member_client()):
            url = "/api/v2/pages/?type=cms.ArticlePage&fields=*&order=-id&limit={}"
            self.count(url.format(50), client)  # warm caches (renditions, site root paths)
            counts = [self.count(url.format(n), client) for n in (1, 2, 20, 50)]
            self.assertEqual(len(set(counts)), 1, counts)
            self.assertLessEqual(counts[-1], 20)
            for url in (
                "/api/v2/pages/?limit={}",
                "/api/v2/pages/?limit={}&fields=*",
                "/api/v2/documents/?limit={}&fields=*",
                "/api/v2/images/?limit={}&fields=*",
            ):
                self.count(url.format(50), client)  # content types are cached per process after first use
                counts = [self.count(url.format(n), client) for n in (1, 20, 50)]
                self.assertEqual(len(set(counts)), 1, (url, counts))

    def member_client(self):
        from cms import visibility

        from .helpers import make_user, token_for

        return ApiClient(token_for(make_user("m", visibility.members_group())))


@override_settings(SHUYUAN_API={**NO_LIMITS, "CACHE_LISTINGS": False})
class MemberMaterialsQueryCountTests(TestCase):
    """A member's study materials, whose attachments follow their pages, cost the same queries at
    limit 1, 20 and 50, and the visibility rule is read once per request (not again to learn which
    pages and files are public)."""

    @classmethod
    def setUpTestData(cls):
        site = build_site(n_articles=1)
        cls.topic = TopicFactory()
        cls.following = ShuyuanDocument.objects.create(title="会员附件", file="documents/m.txt")  # follows its pages
        cls.explicit = ShuyuanDocument.objects.create(title="公开附件", audience="public", file="documents/p.txt")
        for _ in range(50):
            material = StudyMaterialPageFactory(
                parent=site.library, audience=Audience.MEMBERS, cover_image=site.articles[0].cover_image
            )
            material.topics.add(cls.topic)
            material.attachments.add(StudyMaterialAttachment(document=cls.following))
            material.attachments.add(StudyMaterialAttachment(document=cls.explicit))
            material.save_revision().publish()
        cls.token = token_for(make_user("materials-member", visibility.members_group()))

    def test_members_study_materials_at_a_constant_query_count(self):
        client = ApiClient(self.token)
        url = f"/api/v2/pages/?type=cms.StudyMaterialPage&fields=*&topic={self.topic.slug}&order=-issue_date&limit={{}}"
        client.get(url.format(50))  # renditions, content types
        counts, rule_reads = [], []
        for limit in (1, 20, 50):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url.format(limit))
            self.assertEqual(response.status_code, 200)
            items = response.json()["items"]
            self.assertEqual(len(items), limit)
            audiences = {a["document"]["title"]: a["document"]["audience"] for a in items[0]["attachments"]}
            self.assertEqual(audiences, {"会员附件": "members", "公开附件": "public"})
            counts.append(len(ctx.captured_queries))
            rule_reads.append(sum('FROM "wagtailcore_pageviewrestriction" ' in q["sql"] for q in ctx.captured_queries))
        self.assertEqual(len(set(counts)), 1, counts)
        self.assertLessEqual(counts[0], 20)
        self.assertEqual(rule_reads, [1, 1, 1])
        self.assertEqual(ApiClient().get(url.format(20)).json()["meta"]["total_count"], 0)  # members only


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
