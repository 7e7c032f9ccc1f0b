"""Every page type renders real HTML, lists what it should, and editors can create it in the admin."""

from django.contrib.auth import get_user_model
from django.test import TestCase
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from cms.models import (
    ArticlePage,
    ColumnPage,
    ExhibitionPage,
    HomePage,
    RedExhibitionIndexPage,
    RedExhibitionPage,
    StudyLibraryPage,
    StudyMaterialPage,
)
from tests.factories import ArticlePageFactory, EditorSiteMixin, build_site


class RenderingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=3)

    def get(self, url, **kwargs):
        return self.client.get(url, HTTP_HOST="localhost", **kwargs)

    def test_root_redirects_to_simplified_chinese(self):
        response = self.client.get("/")
        self.assertRedirects(response, "/zh-hans/", fetch_redirect_response=False)

    def test_every_public_page_type_renders_with_navigation_and_breadcrumbs(self):
        t = self.tree
        for page in [t.home, t.news, t.library, t.red, t.articles[0], t.materials[0], t.exhibition, t.red_sites[0]]:
            with self.subTest(type=type(page).__name__):
                response = self.get(page.url)
                self.assertEqual(response.status_code, 200)
                html = response.content.decode()
                self.assertIn(f"<h1>{page.title}</h1>", html)
                self.assertIn('lang="zh-hans"', html)
                self.assertIn('href="/zh-hans/news/"', html)  # the column is in the main navigation
                if page.depth > 2:
                    self.assertIn('class="breadcrumbs', html)

    def test_article_shows_its_metadata_and_body(self):
        article = self.tree.articles[0]
        html = self.get(article.url).content.decode()
        self.assertIn(article.source, html)
        self.assertIn(article.date.strftime("%Y-%m-%d"), html)
        self.assertIn(article.body[0].value.source, html)

    def test_material_shows_document_number(self):
        material = self.tree.materials[0]
        html = self.get(material.url).content.decode()
        self.assertIn(material.doc_number, html)
        self.assertIn(material.issuing_body, html)

    def test_column_lists_newest_first_and_paginates_on_paths(self):
        news = self.tree.news
        for i in range(25):
            ArticlePageFactory(parent=news, title=f"分页文章{i:02d}", date=f"2030-01-{i + 1:02d}")
        first = self.get(news.url).content.decode()
        self.assertLess(first.index("分页文章24"), first.index("分页文章23"))
        self.assertIn(f'href="{news.url}page/2/"', first)
        second = self.get(f"{news.url}page/2/")
        self.assertEqual(second.status_code, 200)
        self.assertIn("分页文章04", second.content.decode())
        self.assertEqual(self.get(f"{news.url}page/99/").status_code, 404)
        self.assertEqual(news.static_routes(), ["page/2/"])

    def test_the_home_lists_each_column_by_the_articles_dates_newest_first(self):
        # published in the opposite order (as translations and imports are): the article's date decides
        for day in (3, 2, 1):
            ArticlePageFactory(parent=self.tree.notices, title=f"首页日期{day}", date=f"2031-05-0{day}")
        html = self.get(self.tree.home.url).content.decode()
        self.assertLess(html.index("首页日期3"), html.index("首页日期2"))
        self.assertLess(html.index("首页日期2"), html.index("首页日期1"))

    def test_members_only_items_are_not_listed_for_anonymous_visitors(self):
        html = self.get(self.tree.news.url).content.decode()
        self.assertNotIn(self.tree.members_article.title, html)
        self.assertIn(self.tree.articles[0].title, html)

    def test_red_exhibitions_filter_by_province_path(self):
        red = self.tree.red
        html = self.get(f"{red.url}province/shanghai/").content.decode()
        shanghai = [s for s in self.tree.red_sites if s.province == "shanghai"]
        others = [s for s in self.tree.red_sites if s.province != "shanghai"]
        for site in shanghai:
            self.assertIn(site.title, html)
        for site in others:
            self.assertNotIn(f">{site.title}<", html)
        self.assertEqual(self.get(f"{red.url}province/atlantis/").status_code, 404)
        self.assertIn("province/shanghai/", red.static_routes())

    def test_library_filters_by_type_and_topic_paths(self):
        library = self.tree.library
        material = self.tree.materials[0]
        html = self.get(f"{library.url}type/{material.material_type.slug}/").content.decode()
        self.assertIn(material.title, html)
        topic = material.topics.first()
        self.assertEqual(self.get(f"{library.url}topic/{topic.slug}/").status_code, 200)
        self.assertEqual(self.get(f"{library.url}type/no-such-type/").status_code, 404)
        search_page = self.get(f"{library.url}search/")
        self.assertEqual(search_page.status_code, 200)
        self.assertContains(search_page, 'data-api="/api/v2/search/"')
        self.assertIn("search/", library.static_routes())

    def test_unknown_url_gets_the_themed_404(self):
        response = self.get("/zh-hans/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertIn("页面不存在", response.content.decode())


class AdminCreationTests(EditorSiteMixin, WagtailPageTestCase):
    """An editor can create each page type through the Wagtail admin."""

    def test_admin_is_in_simplified_chinese(self):
        response = self.client.get("/admin/")
        self.assertContains(response, "控制面板")
        self.assertContains(response, "<html lang=\"zh-hans\"")
        # also for a staff member whose browser asks for English
        response = self.client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        self.assertContains(response, "控制面板")
        # strings Wagtail's own catalog leaves in English are translated by cms/locale
        self.assertContains(response, "搜索全部页面")
        self.assertContains(response, "个页面")
        self.assertNotContains(response, "Search all pages")

    def test_parent_child_rules(self):
        self.assertAllowedParentPageTypes(ArticlePage, {ColumnPage})
        self.assertAllowedParentPageTypes(StudyMaterialPage, {StudyLibraryPage})
        self.assertAllowedParentPageTypes(RedExhibitionPage, {RedExhibitionIndexPage})
        self.assertAllowedParentPageTypes(HomePage, {Page})

    def base(self, title, slug):
        return {"title": title, "slug": slug, "audience": "public", "summary": ""}

    def test_can_create_column(self):
        self.assertCanCreate(self.tree.home, ColumnPage, nested_form_data({**self.base("会员风采", "members"), "intro": ""}))

    def test_can_create_article(self):
        data = {
            **self.base("新文章", "new-article"),
            "subtitle": "副标题", "source": "来源", "author": "作者", "date": "2025-01-02",
            "body": streamfield([("paragraph", rich_text("<p>正文内容</p>")), ("heading", {"text": "小标题", "level": "h2"})]),
            "tags": "党建, 学习",
        }
        self.assertCanCreate(self.tree.news, ArticlePage, nested_form_data(data))

    def test_can_create_study_material(self):
        data = {
            **self.base("新资料", "new-material"),
            "issuing_body": "书苑示范党委", "doc_number": "书苑党发〔2026〕9号", "issue_date": "2026-01-01",
            "body": streamfield([]), "allow_download": "on", "attachments": inline_formset([]),
        }
        self.assertCanCreate(self.tree.library, StudyMaterialPage, nested_form_data(data))

    def test_can_create_exhibition(self):
        data = {
            **self.base("新展览", "new-exhibition"), "subtitle": "", "curator": "",
            "sections": streamfield([("section", {"heading": "序", "text": rich_text("<p>导语</p>")})]),
        }
        self.assertCanCreate(self.tree.library, ExhibitionPage, nested_form_data(data))

    def test_can_create_red_exhibition(self):
        data = {
            **self.base("新纪念馆", "new-site"), "province": "jiangxi", "city": "瑞金",
            "external_url": "https://example.org/ruijin", "description": "介绍", "latitude": "", "longitude": "",
        }
        self.assertCanCreate(self.tree.red, RedExhibitionPage, nested_form_data(data))

    def test_can_create_study_library(self):
        # One library per home page: the editor replaces the demo's library with a new one.
        self.tree.library.delete()
        data = {**self.base("党建书苑", "library-2"), "intro": rich_text("<p>学习资料</p>")}
        self.assertCanCreate(self.tree.home, StudyLibraryPage, nested_form_data(data))

    def test_can_create_red_exhibition_index(self):
        self.tree.red.delete()
        self.assertCanCreate(self.tree.home, RedExhibitionIndexPage, nested_form_data({**self.base("红色云图", "red-2"), "intro": ""}))

    def test_can_create_home_page_for_another_site(self):
        self.tree.home.delete()
        data = {**self.base("分会首页", "branch-home"), "intro": rich_text("<p>欢迎</p>")}
        self.assertCanCreate(Page.get_first_root_node(), HomePage, nested_form_data(data))


class TaxonomyAdminTests(TestCase):
    """Editors maintain the material types, topics and categories themselves."""

    @classmethod
    def setUpTestData(cls):
        build_site(n_articles=0)
        cls.user = get_user_model().objects.create_superuser("editor", "", "pw")

    def test_editor_adds_a_material_type_in_the_admin(self):
        from wagtail.admin.admin_url_finder import AdminURLFinder
        from wagtail.models import Locale

        from cms.models import MaterialType

        self.client.force_login(self.user)
        finder_url = AdminURLFinder(self.user)
        listing = self.client.get("/admin/snippets/cms/materialtype/")
        self.assertEqual(listing.status_code, 200)
        response = self.client.post(
            "/admin/snippets/cms/materialtype/add/",
            {"name": "微视频", "slug": "micro-video", "sort_order": 3, "locale": Locale.get_default().pk},
        )
        self.assertEqual(response.status_code, 302, response.content[:500])
        created = MaterialType.objects.get(slug="micro-video")
        self.assertEqual(created.name, "微视频")
        self.assertTrue(finder_url.get_edit_url(created))
