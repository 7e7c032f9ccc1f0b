"""Seeded factories for the content model (wagtail-factories), shared by every test package.

``build_site()`` makes a small but complete zh-hans tree: home, columns, library with materials,
an exhibition and red exhibitions, plus one members-only and one internal item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import factory
import wagtail_factories
from factory import fuzzy
from wagtail.models import Locale, Page, Site

from cms import visibility
from cms.models import (
    ArticlePage,
    ColumnPage,
    ExhibitionPage,
    HomePage,
    MaterialType,
    RedExhibitionCategory,
    RedExhibitionIndexPage,
    RedExhibitionPage,
    StudyLibraryPage,
    StudyMaterialPage,
    Topic,
)
from cms.visibility import Audience

factory.random.reseed_random(42)

WORDS = ["党建", "学习", "信息化", "三会一课", "主题党日", "组织生活", "支部", "会员", "理论", "服务", "平台", "教育"]


def chinese_text(n: int = 12) -> str:
    return "".join(factory.random.randgen.choice(WORDS) for _ in range(n))


class HomePageFactory(wagtail_factories.PageFactory):
    title = "书苑测试首页"
    slug = "home"

    class Meta:
        model = HomePage


class ColumnPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"栏目{n}")
    slug = factory.Sequence(lambda n: f"column-{n}")
    show_in_menus = True

    class Meta:
        model = ColumnPage


class ArticlePageFactory(wagtail_factories.PageFactory):
    title = factory.LazyFunction(lambda: chinese_text(6))
    slug = factory.Sequence(lambda n: f"article-{n}")
    date = fuzzy.FuzzyDate(dt.date(2023, 1, 1), dt.date(2025, 12, 31))
    source = "书苑编辑部"
    summary = factory.LazyFunction(lambda: chinese_text(20) + "。")
    body = factory.LazyFunction(lambda: [("paragraph", f"<p>{chinese_text(40)}。</p>")])

    class Meta:
        model = ArticlePage


class StudyLibraryPageFactory(wagtail_factories.PageFactory):
    title = "党建书苑"
    slug = "library"
    show_in_menus = True

    class Meta:
        model = StudyLibraryPage


class MaterialTypeFactory(factory.django.DjangoModelFactory):
    name = factory.Iterator(["文章", "文件", "视频", "微党课"])
    slug = factory.Sequence(lambda n: f"type-{n}")
    locale = factory.LazyFunction(Locale.get_default)

    class Meta:
        model = MaterialType


class TopicFactory(factory.django.DjangoModelFactory):
    name = factory.Iterator(["党史学习", "党章党规", "理论学习"])
    slug = factory.Sequence(lambda n: f"topic-{n}")
    locale = factory.LazyFunction(Locale.get_default)

    class Meta:
        model = Topic


class CategoryFactory(factory.django.DjangoModelFactory):
    name = factory.Iterator(["纪念馆", "博物馆", "革命旧址"])
    slug = factory.Sequence(lambda n: f"category-{n}")
    locale = factory.LazyFunction(Locale.get_default)

    class Meta:
        model = RedExhibitionCategory


class StudyMaterialPageFactory(wagtail_factories.PageFactory):
    title = factory.LazyFunction(lambda: chinese_text(5))
    slug = factory.Sequence(lambda n: f"material-{n}")
    issuing_body = "书苑示范党委"
    doc_number = factory.Sequence(lambda n: f"书苑党发〔2025〕{n + 1}号")
    issue_date = fuzzy.FuzzyDate(dt.date(2020, 1, 1), dt.date(2025, 12, 31))
    summary = factory.LazyFunction(lambda: chinese_text(20) + "。")
    body = factory.LazyFunction(lambda: [("paragraph", f"<p>{chinese_text(40)}。</p>")])

    class Meta:
        model = StudyMaterialPage


class ExhibitionPageFactory(wagtail_factories.PageFactory):
    title = "光辉历程"
    slug = factory.Sequence(lambda n: f"exhibition-{n}")
    sections = factory.LazyFunction(
        lambda: [
            ("section", {"heading": "序厅", "text": "<p>展览导语。</p>"}),
            ("timeline", [{"date": "1921年7月", "title": "建党", "text": "在上海召开。", "image": None}]),
        ]
    )

    class Meta:
        model = ExhibitionPage


class RedExhibitionIndexPageFactory(wagtail_factories.PageFactory):
    title = "红色云图"
    slug = "red"
    show_in_menus = True

    class Meta:
        model = RedExhibitionIndexPage


class RedExhibitionPageFactory(wagtail_factories.PageFactory):
    title = factory.Sequence(lambda n: f"纪念馆{n}")
    slug = factory.Sequence(lambda n: f"site-{n}")
    province = factory.Iterator(["shanghai", "jiangxi", "beijing"])
    city = "上海"
    external_url = "https://example.org/exhibition"

    class Meta:
        model = RedExhibitionPage


@dataclass
class SiteTree:
    home: HomePage
    news: ColumnPage
    notices: ColumnPage
    library: StudyLibraryPage
    red: RedExhibitionIndexPage
    articles: list[ArticlePage]
    materials: list[StudyMaterialPage]
    exhibition: ExhibitionPage
    red_sites: list[RedExhibitionPage]
    members_article: ArticlePage
    internal_article: ArticlePage
    members_material: StudyMaterialPage


def publish(page: Page) -> Page:
    page.save_revision().publish()
    return page


def build_site(n_articles: int = 3) -> SiteTree:
    """A published zh-hans tree with one item of every type and every audience."""
    Locale.objects.get_or_create(language_code="zh-hans")
    root = Page.get_first_root_node()
    for stale in root.get_children().filter(slug="home"):
        stale.delete()
    home = HomePageFactory(parent=root)
    Site.objects.update_or_create(is_default_site=True, defaults={"root_page": home, "hostname": "localhost", "port": 80})
    news = ColumnPageFactory(parent=home, title="新闻动态", slug="news")
    notices = ColumnPageFactory(parent=home, title="通知公告", slug="notices")
    library = StudyLibraryPageFactory(parent=home)
    red = RedExhibitionIndexPageFactory(parent=home)
    articles = [ArticlePageFactory(parent=news) for _ in range(n_articles)]
    mtype, topic = MaterialTypeFactory(), TopicFactory()
    materials = []
    for _ in range(2):
        material = StudyMaterialPageFactory(parent=library, material_type=mtype)
        material.topics.add(topic)
        material.save()
        materials.append(material)
    exhibition = ExhibitionPageFactory(parent=library)
    category = CategoryFactory()
    red_sites = [RedExhibitionPageFactory(parent=red, category=category) for _ in range(3)]
    members_article = ArticlePageFactory(parent=news, title="会员专享文章", audience=Audience.MEMBERS)
    internal_article = ArticlePageFactory(parent=notices, title="机关内部通知", audience=Audience.INTERNAL)
    members_material = StudyMaterialPageFactory(parent=library, title="会员学习手册", audience=Audience.MEMBERS)
    visibility.members_group()
    return SiteTree(
        home, news, notices, library, red, articles, materials, exhibition, red_sites,
        members_article, internal_article, members_material,
    )


class EditorSiteMixin:
    """For TestCase classes: a published site (``self.tree``, one article) and a superuser
    ``editor`` (``self.user``, with the zh-hans admin profile every new account gets), logged in."""

    @classmethod
    def setUpTestData(cls):
        from django.contrib.auth import get_user_model

        super().setUpTestData()
        cls.tree = build_site(n_articles=1)
        cls.user = get_user_model().objects.create_superuser("editor", "", "pw")

    def setUp(self):
        super().setUp()
        self.client.force_login(self.user)
