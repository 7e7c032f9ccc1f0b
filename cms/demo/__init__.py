"""Build the demo site: a whole zh-hans tree with real seed articles, translated into zh-hant and en.

Re-running is safe: every item is looked up by its slug (or name) first and only missing items are
created. ``pages=N`` adds N generated articles and study materials for scale tests, taking real
news text from ``../shared/corpus/news.jsonl.gz`` when it is there and generated text otherwise.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from wagtail.models import Locale, Page, ReferenceIndex, Site
from wagtail.signal_handlers import disable_reference_index_auto_update
from wagtail_localize.models import StringTranslation

from cms import visibility
from cms.demo import assets
from cms.demo.seeds import Seed, load_seeds
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
from cms.visibility import Audience
from media.models import ShuyuanDocument, ShuyuanImage

COLUMNS = [
    ("news", "新闻动态", "本组织及各支部的工作动态。"),
    ("notices", "通知公告", "面向会员和社会公开的通知、公告。"),
    ("politics", "参政议政", "调研成果、提案建议与参政议政工作。"),
    ("organisation", "组织建设", "组织发展、支部建设与制度规范。"),
    ("members", "会员风采", "会员的先进事迹与风采展示。"),
]
MATERIAL_TYPES = [
    ("article", "文章"), ("document", "文件"), ("video", "视频"), ("audio", "音频"), ("book", "图书"),
    ("micro-lesson", "微党课"), ("micro-history", "微党史"), ("micro-reflection", "微感悟"), ("micro-tip", "微提示"),
]
TOPICS = [("party-history", "党史学习"), ("rules", "党章党规"), ("theory", "理论学习"), ("informatisation", "党建信息化")]
RED_CATEGORIES = [("memorial", "纪念馆"), ("museum", "博物馆"), ("site", "革命旧址"), ("online", "线上展览")]
# Well-known red-heritage sites; links are the sites' public homepages as editors would enter them.
RED_EXHIBITIONS = [
    ("中共一大纪念馆", "shanghai", "上海", "memorial", "https://www.zgyd1921.com/", (31.2203, 121.4751)),
    ("嘉兴南湖革命纪念馆", "zhejiang", "嘉兴", "memorial", "http://www.nhjng.com/", (30.7540, 120.7638)),
    ("井冈山革命博物馆", "jiangxi", "井冈山", "museum", "http://www.jgsgmbwg.com/", (26.5744, 114.1683)),
    ("南昌八一起义纪念馆", "jiangxi", "南昌", "memorial", "http://www.byjng.com/", (28.6829, 115.8946)),
    ("古田会议纪念馆", "fujian", "龙岩", "memorial", "http://www.gthy.org.cn/", (25.0600, 116.8800)),
    ("遵义会议纪念馆", "guizhou", "遵义", "memorial", "http://www.zunyihy.cn/", (27.6930, 106.9230)),
    ("延安革命纪念馆", "shaanxi", "延安", "memorial", "http://www.yagmjng.com/", (36.6080, 109.4800)),
    ("西柏坡纪念馆", "hebei", "石家庄", "memorial", "http://www.xibaipo.gov.cn/", (38.3460, 113.9340)),
    ("中国人民革命军事博物馆", "beijing", "北京", "museum", "http://www.jb.mil.cn/", (39.9070, 116.3220)),
    ("香山革命纪念馆", "beijing", "北京", "memorial", "http://www.xsgmjng.cn/", (39.9920, 116.1960)),
    ("红岩革命纪念馆", "chongqing", "重庆", "site", "http://www.hongyan.info/", (29.5570, 106.4930)),
    ("八路军太行纪念馆", "shanxi", "长治", "memorial", "http://www.blj.org.cn/", (36.8030, 113.3230)),
    ("韶山毛泽东同志纪念馆", "hunan", "湘潭", "memorial", "http://www.ssmzd.com/", (27.9150, 112.5260)),
    ("中国共产党历史展览馆（网上展馆）", "beijing", "北京", "online", "http://www.zgdsbwg.cn/", None),
]
# 统一编码: (code, name, column slug, articles); the first is the committee, the others its 支部.
UNITS = [
    ("01", "书苑示范党委", "", []),
    ("0101", "第一支部", "branch-1", ["第一支部召开专题组织生活会", "第一支部开展主题党日活动"]),
    ("0102", "第二支部", "branch-2", ["第二支部组织集中学习", "第二支部走访慰问困难党员"]),
]
# Demo accounts of the units: (username, label, unit code, role); branch_editor edits in 第一支部.
UNIT_ACCOUNTS = [
    ("branch_editor", "支部编辑", "0101", "editors"),
    ("branch_reviewer", "第一支部审核", "0101", "reviewers"),
    ("branch_admin", "第一支部管理员", "0101", "admins"),
    ("branch2_editor", "第二支部编辑", "0102", "editors"),
    ("branch2_reviewer", "第二支部审核", "0102", "reviewers"),
]
ENGLISH_TITLES = {
    "home": "Shuyuan Party-Building Platform", "news": "News", "notices": "Notices", "politics": "Policy Advice",
    "organisation": "Organisation", "members": "Member Stories", "library": "Shuyuan Study Library",
    "exhibition": "A Glorious Journey: Online Exhibition", "red": "Red Heritage Map",
}

ENGLISH_TERMS = {
    "article": "Article", "document": "Document", "video": "Video", "audio": "Audio", "book": "Book",
    "micro-lesson": "Micro lesson", "micro-history": "Micro history", "micro-reflection": "Reflection",
    "micro-tip": "Tip", "party-history": "Party history", "rules": "Party rules", "theory": "Theory",
    "informatisation": "Going digital", "memorial": "Memorial hall", "museum": "Museum", "site": "Historic site",
    "online": "Online exhibition",
}

Log = Callable[[str], None]


@dataclass
class DemoSummary:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + n


class DemoBuilder:
    def __init__(self, log: Log, seed_dir: Path | None = None, translate: bool = True):
        self.log = log
        self.seeds = load_seeds(seed_dir)
        self.translate = translate
        self.summary = DemoSummary()
        self.images: list[ShuyuanImage] = []

    # --- helpers -------------------------------------------------------------------------------
    def child(self, parent: Page, model, slug: str, **fields):
        existing = parent.get_children().filter(slug=slug).first()
        if existing is not None:
            return existing.specific
        page = model(slug=slug, **fields)
        parent.add_child(instance=page)
        page.save_revision().publish()
        self.summary.add(model._meta.verbose_name)
        return page

    def term(self, model, slug: str, name: str, locale: Locale, order: int):
        obj, created = model.objects.get_or_create(
            slug=slug, locale=locale, defaults={"name": name, "sort_order": order}
        )
        if created:
            self.summary.add(str(model._meta.verbose_name))
        return obj

    def image(self, index: int) -> ShuyuanImage:
        title = f"示例图片 {index + 1:02d}"
        image = ShuyuanImage.objects.filter(title=title).first()
        if image is None:
            image = ShuyuanImage(
                title=title, source="书苑示例图库", credit="书苑编辑部（程序生成）",
                file=ImageFile(io.BytesIO(assets.make_image(index)), name=f"demo-{index + 1:02d}.jpg"),
            )
            image.save()
            self.summary.add("图片")
        return image

    def document(self, title: str, filename: str, data: bytes, audience="follow") -> ShuyuanDocument:
        document = ShuyuanDocument.objects.filter(title=title).first()
        if document is None:
            document = ShuyuanDocument(title=title, audience=audience, source="书苑示例")
            document.file.save(filename, ContentFile(data), save=False)
            document.save()
            self.summary.add("文档")
        return document

    @staticmethod
    def body(paragraphs: list[str], image=None):
        blocks = []
        for i, text in enumerate(paragraphs):
            if len(text) <= 24 and not text.endswith(("。", "！", "？")):
                blocks.append(("heading", {"text": text, "level": "h2"}))
            else:
                blocks.append(("paragraph", f"<p>{text}</p>"))
            if image is not None and i == 1:
                blocks.append(("image", {"image": image, "caption": "示例配图"}))
        return blocks

    # --- the tree ------------------------------------------------------------------------------
    def build(self, pages: int = 0) -> DemoSummary:
        locales = {code: Locale.objects.get_or_create(language_code=code)[0] for code in ("zh-hans", "zh-hant", "en")}
        zh = locales["zh-hans"]
        self.accounts()
        self.images = [self.image(i) for i in range(10)]

        types = {slug: self.term(MaterialType, slug, name, zh, i) for i, (slug, name) in enumerate(MATERIAL_TYPES)}
        topics = {slug: self.term(Topic, slug, name, zh, i) for i, (slug, name) in enumerate(TOPICS)}
        categories = {
            slug: self.term(RedExhibitionCategory, slug, name, zh, i) for i, (slug, name) in enumerate(RED_CATEGORIES)
        }

        home = self.home(zh)
        columns = {
            slug: self.child(home, ColumnPage, slug, title=title, intro=intro, show_in_menus=True, locale=zh)
            for slug, title, intro in COLUMNS
        }
        library = self.child(
            home, StudyLibraryPage, "library", title="党建书苑", show_in_menus=True,
            summary="在线学习资料库：文章、文件、音视频与微党课、微党史、微感悟、微提示。",
            intro="<p>党员在线学习的资料库，支持全文检索。部分资料仅对登录会员开放。</p>",
        )
        self.exhibition(library)
        red = self.child(
            home, RedExhibitionIndexPage, "red", title="红色云图", show_in_menus=True,
            intro="汇集全国各地红色场馆与线上展览，按省份和类别浏览。",
        )
        for i, (name, province, city, cat, url, coords) in enumerate(RED_EXHIBITIONS):
            self.child(
                red, RedExhibitionPage, f"site-{i + 1:02d}", title=name, province=province, city=city,
                category=categories[cat], external_url=url, cover_image=self.images[i % len(self.images)],
                description=f"{name}位于{city}，是开展党史学习教育的重要阵地。",
                latitude=Decimal(str(coords[0])) if coords else None,
                longitude=Decimal(str(coords[1])) if coords else None,
            )
        self.seed_pages(columns, library, types, topics)
        self.restricted_pages(columns, library, types, topics)
        self.units(home)
        if pages:
            self.generated(pages, columns, library, types, topics)
        if self.translate:
            # wagtail-localize copies a page with its inline children (a material's attachments), then
            # saves the translation again with new children in place of the copied ones. Wagtail queues a
            # reference-index task for every child saved, and the copied ones are gone before the worker
            # runs it (StudyMaterialAttachment.DoesNotExist, a FAILED job). So the signals stay quiet
            # while translating and each translated object is indexed once, as it finally is.
            with disable_reference_index_auto_update():
                translated = self.translations(home, locales)
            for obj in translated:
                if ReferenceIndex.is_indexed(type(obj)):
                    ReferenceIndex.create_or_update_for_object(obj)
        self.owners()
        return self.summary

    def owners(self) -> None:
        """Who wrote what (Wagtail's 所有者, counted per editor on the dashboard): a branch's pages are its
        editor's; the rest of the demo is the administrator's who loaded it. Pages with an owner keep it."""
        from cms.orgs.models import Organisation

        User = get_user_model()
        for username, _label, code, role in UNIT_ACCOUNTS:
            unit = Organisation.objects.filter(code=code).select_related("root_page").first()
            user = User.objects.filter(username=username).first()
            if role == "editors" and unit is not None and unit.root_page is not None and user is not None:
                Page.objects.filter(path__startswith=unit.root_page.path, owner__isnull=True).update(owner=user)
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        if admin is not None:
            Page.objects.filter(depth__gt=1, owner__isnull=True).update(owner=admin)

    def accounts(self) -> None:
        """Demo users for each role: a member (会员), a branch editor who submits, a reviewer who approves,
        and the system, security and audit administrators.

        The editors and reviewers of the branches are put in their units' groups by ``units()``; the
        committee reviewer also stays in Wagtail's default reviewers' group (审核人员, once "Moderators").
        """
        from django.contrib.auth.models import Group

        User = get_user_model()
        from cms.security.passwords import from_environment

        # SHUYUAN_DEMO_PASSWORD must pass the password policy (a ValidationError names it otherwise).
        password, _generated = from_environment("SHUYUAN_DEMO_PASSWORD")
        roles = [
            ("member", "示例会员", visibility.members_group()),
            ("reviewer", "党委审核", Group.objects.filter(name__in=("审核人员", "Moderators")).first()),
            *((username, label, None) for username, label, _unit, _role in UNIT_ACCOUNTS),
            # 三员分立: the three administrators (groups made by ``setup_roles``, which ./dev up runs first)
            ("system_admin", "系统管理员", Group.objects.filter(name="系统管理员").first()),
            ("security_admin", "安全管理员", Group.objects.filter(name="安全管理员").first()),
            ("auditor", "审计管理员", Group.objects.filter(name="审计管理员").first()),
        ]
        visibility.internal_group()
        created = []
        for username, label, group in roles:
            user, is_new = User.objects.get_or_create(username=username, defaults={"first_name": label})
            if is_new:
                user.set_password(password)
                user.is_staff = username != "member"
                user.save()
                created.append(f"{username}（{label}）")
            if group is not None:
                user.groups.add(group)
        if created:
            self.log(f"示例账号：{'、'.join(created)}，密码：{password}")
            self.summary.add("示例账号", len(created))

    def units(self, home: HomePage) -> None:
        """统一编码: the committee (01) owns the home page; each 支部 owns a column with its own pages,
        editor, reviewer and, for the first, an administrator. Existing units are left as they are."""
        from django.contrib.auth.models import Group

        from cms.orgs.models import Organisation
        from cms.orgs.services import create_unit

        committee = Organisation.objects.filter(code=UNITS[0][0]).first()
        if committee is None:
            committee = create_unit(UNITS[0][0], UNITS[0][1], root_page=home)
            self.summary.add("组织单位")
        for code, name, slug, articles in UNITS[1:]:
            unit = Organisation.objects.filter(code=code).first()
            if unit is None:
                column = self.child(home, ColumnPage, slug, title=name, intro=f"{name}的工作动态。", show_in_menus=False)
                unit = create_unit(code, name, parent=committee, root_page=column)
                self.summary.add("组织单位")
            for i, title in enumerate(articles, start=1):
                self.child(
                    unit.root_page, ArticlePage, f"{slug}-{i:02d}", title=title, date=dt.date(2025, 11, i),
                    summary=title, body=self.body([f"{title}。", f"{name}组织党员开展学习讨论。"]),
                )
        User = get_user_model()
        wagtail_editors = Group.objects.filter(name__in=("编辑人员", "Editors"))
        for username, _label, code, role in UNIT_ACCOUNTS:
            user = User.objects.filter(username=username).first()
            unit = Organisation.objects.filter(code=code).first()
            if user is not None and unit is not None:
                user.groups.add(getattr(unit, f"{role}_group"))
                # Wagtail's default editors may edit the whole tree: a branch editor must not.
                user.groups.remove(*wagtail_editors)
        committee.reviewers_group.user_set.add(*User.objects.filter(username="reviewer"))

    def home(self, zh: Locale) -> HomePage:
        home = HomePage.objects.filter(locale=zh).first()
        root = Page.get_first_root_node()
        if home is None:
            for stale in root.get_children().filter(slug="home"):
                if stale.specific_class is Page:  # Wagtail's placeholder "Welcome" page
                    stale.delete()
            home = HomePage(
                title="书苑党建工作平台", slug="home", locale=zh,
                intro="<p>组织动态、学习资料、线上展览与红色云图，一站汇集。</p>",
                summary="党建工作与学习的综合平台。",
            )
            root.add_child(instance=home)
            home.save_revision().publish()
            self.summary.add("首页")
        site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
        site.root_page = home
        # the CMS serves the site's pages: their absolute URLs (the API's html_url) start with its address
        site.hostname, site.port = site_address()
        site.site_name = "书苑"
        site.save()
        from site_theme.models import load_demo_identity

        load_demo_identity(site)  # footer: 主办单位, address, ICP/公安备案号, 网站标识码 (keeps editors' values)
        return home

    def exhibition(self, library: StudyLibraryPage) -> None:
        img = self.images
        self.child(
            library, ExhibitionPage, "exhibition", title="光辉历程——党史图片展", subtitle="线上展览",
            curator="书苑编辑部", cover_image=img[0], summary="以图片和时间线回顾党的光辉历程，适合在手机上浏览。",
            sections=[
                ("section", {"heading": "序厅", "text": "<p>本展览以时间为序，分为四个单元，展示重要历史时刻。</p>"}),
                ("image", {"image": img[1], "caption": "第一单元 开天辟地", "text": "1921年，中国共产党诞生。"}),
                ("timeline", [
                    {"date": "1921年7月", "title": "中国共产党第一次全国代表大会召开", "text": "大会在上海召开，后转移至嘉兴南湖。", "image": img[2]},
                    {"date": "1927年8月", "title": "南昌起义", "text": "打响武装反抗国民党反动派的第一枪。", "image": None},
                    {"date": "1935年1月", "title": "遵义会议", "text": "在生死攸关的转折关头召开的重要会议。", "image": None},
                    {"date": "1949年10月", "title": "中华人民共和国成立", "text": "", "image": img[3]},
                ]),
                ("image", {"image": img[4], "caption": "第二单元 改天换地", "text": ""}),
                ("section", {"heading": "结语", "text": "<p>回望历史，砥砺前行。</p>"}),
            ],
        )

    def seed_pages(self, columns, library, types, topics) -> None:
        seeds = self.seeds
        if not seeds:
            self.log("未找到 ../shared/seeds，改用生成的示例文本。")
            seeds = {key: _generated_seed(key) for key in ("000", "001", "002", "003", "004")}
        plan = {
            "000": ("article", "news", "《民主》杂志", "2023-03-01"),
            "001": ("material", "theory", "article", "2024-06-08"),
            "002": ("material", "informatisation", "article", "2019-08-14"),
            "003": ("article", "organisation", "", "2023-05-20"),
            "004": ("article", "news", "中国航天科技集团", "2022-12-12"),
        }
        for key, seed in seeds.items():
            kind, where, extra, default_date = plan.get(key, ("article", "news", "", "2024-01-01"))
            title = seed.title or "构建党建智慧化工作模式的路径"
            date = dt.date.fromisoformat(seed.date or default_date)
            image = self.images[int(key) % len(self.images)]
            summary = seed.paragraphs[0][:120]
            if kind == "article":
                self.child(
                    columns[where], ArticlePage, f"seed-{key}", title=title[:255], source=extra, author=seed.author,
                    date=date, cover_image=image, summary=summary, body=self.body(seed.paragraphs, image),
                )
            else:
                page = self.child(
                    library, StudyMaterialPage, f"seed-{key}", title=title[:255], material_type=types[extra],
                    issuing_body="书苑编辑部", issue_date=date, cover_image=image, summary=summary,
                    body=self.body(seed.paragraphs),
                )
                page.topics.add(topics[where])
                page.save_revision().publish()
        # A policy document with a 文号 and real attachments (PDF and Word).
        text = next(iter(seeds.values())).paragraphs
        doc_pdf = self.document(
            "关于加强党建信息化建设的实施意见（PDF）", "shishi-yijian.pdf",
            assets.make_pdf("关于加强党建信息化建设的实施意见", [text[i : i + 3] for i in range(0, min(len(text), 9), 3)]),
        )
        doc_docx = self.document(
            "关于加强党建信息化建设的实施意见（Word）", "shishi-yijian.docx",
            assets.make_docx("关于加强党建信息化建设的实施意见", text[:6]),
        )
        policy = library.get_children().filter(slug="policy-2025-01").first()
        if policy is None:
            policy = StudyMaterialPage(
                slug="policy-2025-01", title="关于加强党建信息化建设的实施意见", material_type=types["document"],
                issuing_body="书苑示范党委（示例）", doc_number="书苑党发〔2025〕1号", issue_date=dt.date(2025, 3, 1),
                summary="示例文件：推进三会一课、主题党日等组织生活线上线下融合。",
                body=self.body(["一、总体要求", "坚持统一编码、逐级授权、分级维护，建设开放统一的党建信息平台。"]),
            )
            library.add_child(instance=policy)
            policy.topics.add(topics["rules"])
            policy.attachments.add(StudyMaterialAttachment(document=doc_pdf), StudyMaterialAttachment(document=doc_docx))
            policy.save_revision().publish()
            self.summary.add("学习资料")
        for slug, type_slug, title in (
            ("micro-lesson-01", "micro-lesson", "微党课：三会一课怎么开"),
            ("micro-history-01", "micro-history", "微党史：遵义会议的历史意义"),
            ("micro-reflection-01", "micro-reflection", "微感悟：在主题党日中重温入党誓词"),
            ("micro-tip-01", "micro-tip", "微提示：两学一做学习教育常态化"),
        ):
            self.child(
                library, StudyMaterialPage, slug, title=title, material_type=types[type_slug],
                issuing_body="书苑编辑部", issue_date=dt.date(2025, 6, 1), summary=title.split("：", 1)[1],
                body=self.body([f"{title.split('：', 1)[1]}。本资料供各支部组织学习使用。"]),
            )

    def restricted_pages(self, columns, library, types, topics) -> None:
        members_doc = self.document(
            "会员学习手册（仅会员）", "huiyuan-shouce.docx",
            assets.make_docx("会员学习手册", ["本手册仅供会员内部学习使用。", "三会一课制度要求与操作指引。"]),
            audience=Audience.MEMBERS,
        )
        page = library.get_children().filter(slug="members-handbook").first()
        if page is None:
            page = StudyMaterialPage(
                slug="members-handbook", title="会员学习手册：三会一课操作指引", audience=Audience.MEMBERS,
                material_type=types["book"], issuing_body="书苑编辑部", issue_date=dt.date(2025, 9, 1),
                summary="仅对登录会员开放的学习资料。", body=self.body(["三会一课是党的组织生活的基本制度。"]),
            )
            library.add_child(instance=page)
            page.attachments.add(StudyMaterialAttachment(document=members_doc))
            page.save_revision().publish()
            self.summary.add("学习资料")
        self.child(
            columns["notices"], ArticlePage, "internal-plan", title="机关内部：年度工作要点（征求意见稿）",
            audience=Audience.INTERNAL, date=dt.date(2025, 12, 1), summary="内部征求意见稿，不对外发布。",
            body=self.body(["本稿仅供机关内部讨论，不得对外发布。"]),
        )
        self.child(
            columns["members"], ArticlePage, "members-story", title="会员风采：扎根基层的信息化志愿者",
            audience=Audience.MEMBERS, date=dt.date(2025, 10, 1), summary="仅会员可见的会员故事。",
            body=self.body(["他们利用业余时间为支部搭建线上学习平台。"]),
        )

    def generated(self, count: int, columns, library, types, topics) -> None:
        """Add ``count`` pages (two thirds articles, one third materials), bulk-inserted in batches."""
        from cms.demo.bulk import bulk_add_children

        existing = set(Page.objects.filter(slug__startswith="gen-").values_list("slug", flat=True))
        texts = _text_source()
        rng = random.Random(42)
        column_list, type_list, topic_list = list(columns.values()), list(types.values()), list(topics.values())
        pending: dict[int, list] = {}
        parents = {p.pk: p for p in [*column_list, library]}
        made = 0
        topic_links = []

        def flush():
            nonlocal pending
            for parent_id, batch in pending.items():
                bulk_add_children(parents[parent_id], batch)
                topic_links.extend(
                    StudyMaterialPage.topics.through(studymaterialpage_id=p.pk, topic_id=p._demo_topic)
                    for p in batch if isinstance(p, StudyMaterialPage)
                )
            StudyMaterialPage.topics.through.objects.bulk_create(topic_links)
            topic_links.clear()
            pending = {}

        for i in range(count):
            slug = f"gen-{i:06d}"
            if slug in existing:
                continue
            title, paragraphs, date = next(texts)
            common = dict(
                slug=slug, title=title[:250], summary=paragraphs[0][:120],
                body=[("paragraph", "".join(f"<p>{p}</p>" for p in paragraphs))],
            )
            if i % 3 == 2:
                page = StudyMaterialPage(
                    material_type=rng.choice(type_list), issuing_body="书苑编辑部", issue_date=date, **common
                )
                page._demo_topic = rng.choice(topic_list).pk
                parent = library
            else:
                page = ArticlePage(date=date, source="新闻联播", **common)
                parent = column_list[i % len(column_list)]
            pending.setdefault(parent.pk, []).append(page)
            made += 1
            if made % 1000 == 0:
                flush()
                self.log(f"  已生成 {made} 个页面…")
        flush()
        self.summary.add("生成页面", made)

    def translations(self, home: HomePage, locales: dict[str, Locale]) -> list:
        """Translate the zh-hans tree (not the generated scale pages) into zh-hant and en; returns the
        translated pages and snippets (their references are indexed by the caller)."""
        translated = []
        user = get_user_model().objects.filter(is_superuser=True).first()
        from cms.translation import translate_page

        pages = (
            Page.objects.descendant_of(home, inclusive=True)
            .exclude(slug__startswith="gen-")
            .filter(locale=locales["zh-hans"])
            .order_by("path")
        )
        from cms.translation import translate_object_into

        for code in ("zh-hant", "en"):
            locale = locales[code]
            for model in (MaterialType, Topic, RedExhibitionCategory):
                for term in model.objects.filter(locale=locales["zh-hans"]):
                    if term.get_translation_or_none(locale) is None:
                        translated.append(translate_object_into(term, locale, user=user))
                        if code == "en" and term.slug in ENGLISH_TERMS:
                            _translate_string(term, locale, "name", ENGLISH_TERMS[term.slug], user)
            done = set(Page.objects.filter(locale=locale).values_list("translation_key", flat=True))
            if code == "zh-hant":  # converted by OpenCC: done only once its strings are converted
                done &= set(
                    StringTranslation.objects.filter(locale=locale)
                    .values_list("translation_of__segments__source__object_id", flat=True)
                )
            todo = [p for p in pages if p.translation_key not in done]
            for page in todo:
                target = translate_page(page, locale, user=user)
                translated.append(target)
                if code == "en":
                    key = "home" if page.pk == home.pk else page.slug
                    if key in ENGLISH_TITLES:
                        target.title = ENGLISH_TITLES[key]
                        target.save_revision(user=user).publish()
            if todo:
                self.summary.add(f"{code} 译本", len(todo))
                self.log(f"  {code}: 翻译了 {len(todo)} 个页面")
        return translated


def site_address() -> tuple[str, int]:
    """The demo Site's hostname and port: the CMS's configured address (``WAGTAILADMIN_BASE_URL``, which
    ``./dev up`` moves with SHUYUAN_CMS_PORT), so the pages' absolute URLs point where the CMS runs."""
    base_url = settings.WAGTAILADMIN_BASE_URL
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"WAGTAILADMIN_BASE_URL is not an absolute http(s) URL: {base_url!r}")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _translate_string(instance, locale, field_path: str, text: str, user) -> None:
    """Record a human translation of one field in wagtail-localize, as a translator would in its editor."""
    from wagtail_localize.models import StringSegment, StringTranslation, Translation

    translation = Translation.objects.get(source__object_id=instance.translation_key, target_locale=locale)
    for segment in StringSegment.objects.filter(source=translation.source, context__path=field_path):
        StringTranslation.objects.update_or_create(
            translation_of=segment.string, locale=locale, context=segment.context,
            defaults={"data": text, "translation_type": StringTranslation.TRANSLATION_TYPE_MANUAL, "last_translated_by": user},
        )
    translation.save_target(user=user, publish=True)


def _generated_seed(key: str) -> Seed:
    rng = random.Random(int(key))
    words = ["党建", "信息化", "学习", "组织生活", "三会一课", "主题党日", "平台", "支部", "会员", "服务"]
    paragraphs = ["".join(rng.choice(words) for _ in range(30)) + "。" for _ in range(6)]
    return Seed(key=key, title=f"示例文章 {key}", paragraphs=paragraphs)


def _text_source():
    """Endless (title, paragraphs, date) triples: the news corpus when present, else generated."""
    corpus = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "news.jsonl.gz"
    if corpus.is_file():
        def items():
            while True:
                with gzip.open(corpus, "rt", encoding="utf-8") as fh:
                    for line in fh:
                        item = json.loads(line)
                        paragraphs = [p for p in item["body"].split("\n") if p.strip()][:8] or [item["title"]]
                        yield item["title"], paragraphs, dt.date.fromisoformat(item["date"])
        return items()
    rng = random.Random(7)
    start = dt.date(2024, 1, 1)

    def generated():
        for n in itertools.count():
            seed = _generated_seed(str(n % 1000).zfill(3))
            yield f"生成的示例文章 {n}", seed.paragraphs, start + dt.timedelta(days=rng.randint(0, 700))
    return generated()


def load_demo(pages: int = 0, log: Log = print, seed_dir: Path | None = None, translate: bool = True) -> DemoSummary:
    from cms.signals import auto_translation_suspended

    with auto_translation_suspended():  # the builder translates the tree itself
        return DemoBuilder(log, seed_dir=seed_dir, translate=translate).build(pages=pages)
