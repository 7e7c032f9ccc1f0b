"""A small fixed site for golden-file tests: every page type, every block type, explicit values only
(no factory sequences or random text), so responses are identical from run to run."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image as PILImage
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
    StudyMaterialAttachment,
    StudyMaterialPage,
    Topic,
)
from media.models import ShuyuanDocument, ShuyuanImage

WHEN = timezone.make_aware(dt.datetime(2025, 7, 1, 9, 30))


def _image(title: str, name: str, colour) -> ShuyuanImage:
    buffer = io.BytesIO()
    PILImage.new("RGB", (960, 540), colour).save(buffer, "PNG")
    image = ShuyuanImage(title=title, source="书苑图库", credit="编辑部", file=ImageFile(buffer, name=name))
    image.save()
    return image


def _document(title: str, name: str, audience: str) -> ShuyuanDocument:
    document = ShuyuanDocument(title=title, audience=audience, source="书苑")
    document.file.save(name, ContentFile(f"{title}\n".encode()), save=False)
    document.save()
    # a fixed upload time: a document's own search hit is dated by it (and counted in the year facet)
    ShuyuanDocument.objects.filter(pk=document.pk).update(created_at=timezone.make_aware(dt.datetime(2025, 5, 20, 9, 0)))
    document.refresh_from_db()
    return document


def build_golden_site() -> dict:
    zh = Locale.objects.get_or_create(language_code="zh-hans")[0]
    visibility.members_group()
    visibility.internal_group()
    root = Page.get_first_root_node()
    for child in root.get_children():
        child.delete()
    cover = _image("封面图", "golden-cover.png", (180, 20, 20))
    figure = _image("配图", "golden-figure.png", (20, 20, 180))
    public_doc = _document("公开文件", "golden-public.txt", "public")
    members_doc = _document("会员文件", "golden-members.txt", "members")
    internal_doc = _document("内部文件", "golden-internal.txt", "internal")
    mtype = MaterialType.objects.create(name="文件", slug="document", locale=zh)
    topic = Topic.objects.create(name="党章党规", slug="rules", locale=zh)
    category = RedExhibitionCategory.objects.create(name="纪念馆", slug="memorial", locale=zh)

    def add(parent, page, locale=zh):
        page.live, page.first_published_at, page.last_published_at, page.locale = True, WHEN, WHEN, locale
        parent.add_child(instance=page)
        return page

    home = add(root, HomePage(title="书苑", slug="home", summary="首页摘要", intro="<p>欢迎</p>", cover_image=cover))
    Site.objects.update_or_create(is_default_site=True, defaults={"root_page": home, "hostname": "localhost", "port": 80})
    news = add(home, ColumnPage(title="新闻动态", slug="news", intro="动态"))
    internal = add(news, ArticlePage(title="内部稿", slug="internal", audience="internal", date=dt.date(2025, 6, 2)))
    article = add(news, ArticlePage(
        title="示范文章", slug="article", subtitle="副标题", source="书苑", author="编辑部", date=dt.date(2025, 6, 1),
        cover_image=cover, summary="文章摘要",
        body=[
            ("heading", {"text": "一、背景", "level": "h2"}),
            ("paragraph", f'<p>见<a linktype="page" id="{home.pk}">首页</a>、'
                          f'<a linktype="page" id="{internal.pk}">内部稿</a>、'
                          f'<a linktype="document" id="{members_doc.pk}">会员文件</a>和'
                          f'<a href="https://example.org/">外链</a>。</p>'),
            ("image", {"image": figure, "caption": "图注"}),
            ("quote", {"text": "不忘初心", "attribution": "出处"}),
            ("video", {"title": "视频", "file": public_doc, "url": "https://example.org/v.mp4", "poster": figure, "caption": ""}),
            ("audio", {"title": "音频", "file": internal_doc, "caption": "内部音频不可见"}),
            ("attachment", {"document": members_doc, "title": "会员附件"}),
            ("table", {"data": [["年份", "事件"], ["1921", "建党"]], "first_row_is_table_header": True,
                       "first_col_is_header": False, "table_caption": "大事记"}),
        ],
    ))
    article.tags.add("党建", "学习")
    article.save()
    members_article = add(news, ArticlePage(title="会员文章", slug="members-article", audience="members",
                                            date=dt.date(2025, 6, 3), body=[("paragraph", "<p>仅会员</p>")]))
    library = add(home, StudyLibraryPage(title="党建书苑", slug="library", intro="<p>资料库</p>"))
    material = add(library, StudyMaterialPage(
        title="实施意见", slug="policy", material_type=mtype, issuing_body="书苑党委", doc_number="书苑党发〔2025〕1号",
        issue_date=dt.date(2025, 3, 1), summary="文件摘要", body=[("paragraph", "<p>正文</p>")],
    ))
    material.topics.add(topic)
    material.save()
    for document in (public_doc, members_doc, internal_doc):
        StudyMaterialAttachment.objects.create(page=material, document=document)
    exhibition = add(library, ExhibitionPage(
        title="光辉历程", slug="exhibition", subtitle="图片展", curator="编辑部",
        sections=[
            ("section", {"heading": "序厅", "text": "<p>导语</p>"}),
            ("image", {"image": figure, "caption": "第一单元", "text": "解说"}),
            ("timeline", [{"date": "1921年7月", "title": "建党", "text": "上海", "image": cover},
                          {"date": "1949年10月", "title": "开国", "text": "", "image": None}]),
        ],
    ))
    red = add(home, RedExhibitionIndexPage(title="红色云图", slug="red", intro="场馆"))
    red_site = add(red, RedExhibitionPage(
        title="中共一大纪念馆", slug="site-01", province="shanghai", city="上海", category=category,
        external_url="https://example.org/yida", description="介绍", cover_image=figure,
        latitude=Decimal("31.220300"), longitude=Decimal("121.475100"),
    ))
    # Translations: zh-hant (public) and en (the article members-only) of the home page, news and article.
    hant = Locale.objects.get_or_create(language_code="zh-hant")[0]
    en = Locale.objects.get_or_create(language_code="en")[0]
    translated = {}
    for locale, titles, article_audience in (
        (hant, ("書苑", "新聞動態", "示範文章"), "public"),
        (en, ("Shuyuan", "News", "Sample article"), "members"),
    ):
        code = locale.language_code
        t_home = add(root, HomePage(title=titles[0], slug=f"home-{code}", summary="", translation_key=home.translation_key), locale)
        t_news = add(t_home, ColumnPage(title=titles[1], slug=f"news-{code}", translation_key=news.translation_key), locale)
        t_article = add(t_news, ArticlePage(
            title=titles[2], slug=f"article-{code}", date=dt.date(2025, 6, 1), summary=titles[2],
            audience=article_audience, translation_key=article.translation_key,
            body=[("paragraph", f"<p>{titles[2]}</p>")],
        ), locale)
        translated.update({f"home_{code}": t_home, f"news_{code}": t_news, f"article_{code}": t_article})
    return {
        **translated,
        "home": home, "news": news, "article": article, "members_article": members_article, "internal": internal,
        "library": library, "material": material, "exhibition": exhibition, "red": red, "red_site": red_site,
        "images": [cover, figure], "documents": [public_doc, members_doc, internal_doc],
    }
