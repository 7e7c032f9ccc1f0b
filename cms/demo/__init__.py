"""Build the demo site: a whole zh-hans tree with real seed articles, translated into zh-hant and en.

Each column holds the seeds that belong there, a few of the organisation's own articles (``content``,
written in Chinese and English) and news items from ``../shared/corpus/news.jsonl.gz`` that
``topics.classify`` files under that column (more of the own articles when the corpus is missing).
zh-hant copies are converted by OpenCC; en copies are made of the pages that have English, and every
string of those is translated, so an en page is a real translation. Pictures are title posters drawn
in the theme's colours (``assets.make_poster``), with captions and alt texts from the page itself.

Re-running is safe: every item is looked up by its slug (or name) first and only missing items are
created. ``pages=N`` adds N generated articles and study materials for scale tests, from the corpus
items that fit a column, or from the own articles without the corpus.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import import_module
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
from cms.demo import assets, content
from cms.demo.corpus import column_items, headline_items
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
from members import PARTS

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
OWN_PER_COLUMN = 3  # the organisation's own articles per column, each translated into English
FILLER_PER_COLUMN = 5  # then news from the corpus that fits the column (Chinese only)
UNIT_EXTRA_ARTICLES = 4  # a branch's own articles besides the two above
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
        self.english: dict[object, dict[str, str]] = {}  # translation_key -> {Chinese: English}
        self.filler_keys: set = set()  # Chinese-only filler: no en copy
        self._corpus = None

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

    def poster(self, title: str, kicker: str, alt: str = "", text: str = "") -> ShuyuanImage:
        """The title poster of ``title`` (one per title; its layout follows from the title)."""
        image = ShuyuanImage.objects.filter(title=title).order_by("pk").first()
        if image is None:
            number = zlib.crc32(title.encode())
            image = ShuyuanImage(
                title=title, description=alt or f"红底金字题图：{title}", source="书苑编辑部", credit="制图",
                file=ImageFile(io.BytesIO(assets.make_poster(text or title, kicker, number)), name=f"poster-{number:08x}.jpg"),
            )
            image.save()
            self.summary.add("图片")
        return image

    def corpus(self):
        if self._corpus is None:
            self._corpus = column_items() or {}
        return self._corpus

    def document(self, title: str, filename: str, data: bytes, audience="follow") -> ShuyuanDocument:
        document = ShuyuanDocument.objects.filter(title=title).first()
        if document is None:
            document = ShuyuanDocument(title=title, audience=audience, source="书苑编辑部")
            document.file.save(filename, ContentFile(data), save=False)
            document.save()
            self.summary.add("文档")
        return document

    @staticmethod
    def body(paragraphs: list[str], image=None, caption: str = ""):
        blocks = []
        for i, text in enumerate(paragraphs):
            if len(text) <= 24 and not text.endswith(("。", "！", "？")):
                blocks.append(("heading", {"text": text, "level": "h2"}))
            else:
                blocks.append(("paragraph", f"<p>{text}</p>"))
            if image is not None and i == 0:
                blocks.append(("image", {"image": image, "caption": caption}))
        return blocks

    def article(self, column: ColumnPage, slug: str, title: str, paragraphs: list[str], date: dt.date,
                source: str = "", author: str = "", english: dict[str, str] | None = None, en_caption: str = ""):
        """An article with its title poster as cover and, after the lead, a captioned picture."""
        title = title[:255]
        cover = self.poster(title, column.title)
        caption = content.caption(title, date)
        scene = self.poster(caption, f"{date.year}年{date.month}月", alt=f"红底金字配图：{caption}", text=title)
        page = self.child(
            column, ArticlePage, slug, title=title, source=source, author=author, date=date, cover_image=cover,
            summary=paragraphs[0][:120], body=self.body(paragraphs, scene, caption),
            first_published_at=dt.datetime.combine(date, dt.time(9, 0), tzinfo=dt.UTC),
        )
        if english is not None:
            self.english[page.translation_key] = {
                **english, paragraphs[0][:120]: english.get(paragraphs[0], paragraphs[0])[:250],
                caption: en_caption, page.slug: page.slug, "书苑编辑部": "Shuyuan editorial office",
            }
        return page

    # --- the tree ------------------------------------------------------------------------------
    def build(self, pages: int = 0) -> DemoSummary:
        locales = {code: Locale.objects.get_or_create(language_code=code)[0] for code in ("zh-hans", "zh-hant", "en")}
        zh = locales["zh-hans"]
        self.accounts()

        types = {slug: self.term(MaterialType, slug, name, zh, i) for i, (slug, name) in enumerate(MATERIAL_TYPES)}
        topics = {slug: self.term(Topic, slug, name, zh, i) for i, (slug, name) in enumerate(TOPICS)}
        categories = {
            slug: self.term(RedExhibitionCategory, slug, name, zh, i) for i, (slug, name) in enumerate(RED_CATEGORIES)
        }

        home = self.home(zh)
        self.english[home.translation_key] = {**content.FIXED_ENGLISH, "home": "home"}
        columns = {
            slug: self.child(home, ColumnPage, slug, title=title, intro=intro, show_in_menus=True, locale=zh)
            for slug, title, intro in COLUMNS
        }
        for slug, title, intro in COLUMNS:
            self.english[columns[slug].translation_key] = {
                title: ENGLISH_TITLES[slug], intro: content.FIXED_ENGLISH[intro], slug: slug,
            }
        library = self.child(
            home, StudyLibraryPage, "library", title="党建书苑", show_in_menus=True,
            summary="在线学习资料库：文章、文件、音视频与微党课、微党史、微感悟、微提示。",
            intro="<p>党员在线学习的资料库，支持全文检索。部分资料仅对登录会员开放。</p>",
        )
        self.english[library.translation_key] = {**content.FIXED_ENGLISH, "library": "library"}
        self.exhibition(library)
        red = self.child(
            home, RedExhibitionIndexPage, "red", title="红色云图", show_in_menus=True,
            intro="汇集全国各地红色场馆与线上展览，按省份和类别浏览。",
        )
        self.english[red.translation_key] = {**content.FIXED_ENGLISH, "red": "red"}
        for i, (name, province, city, cat, url, coords) in enumerate(RED_EXHIBITIONS):
            description, en_description = content.red_site_text(name, city)
            site = self.child(
                red, RedExhibitionPage, f"site-{i + 1:02d}", title=name, province=province, city=city,
                category=categories[cat], external_url=url,
                cover_image=self.poster(name, "红色云图", alt=f"红底金字题图：{name}（{city}）"),
                description=description,
                latitude=Decimal(str(coords[0])) if coords else None,
                longitude=Decimal(str(coords[1])) if coords else None,
            )
            self.english[site.translation_key] = {
                name: content.RED_SITES_EN[name], description: en_description, city: content.CITIES_EN[city],
                site.slug: site.slug,
            }
        self.seed_pages(columns, library, types, topics)
        self.column_pages(columns)
        self.restricted_pages(columns, library, types, topics)
        self.units(home)
        self.member_profile()
        for part in PARTS:  # members' participation: surveys and the mailbox, quizzes, study records
            import_module(f"{part}.demo").load(home, self.log)
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

    def member_profile(self) -> None:
        """The demo member belongs to the first branch (会员信息), so its study records count in that
        branch's figures for its administrator."""
        from cms.orgs.models import Organisation
        from members.models import MemberProfile

        unit = Organisation.objects.filter(code=UNIT_ACCOUNTS[0][2]).first()
        user = get_user_model().objects.filter(username="member").first()
        if unit is not None and user is not None:
            MemberProfile.objects.get_or_create(user=user, defaults={"unit": unit})

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
            # and more of the unit's own news, so its column on the home page is as full as the others
            by_column = [
                [a for a in content.own_articles(column, 24, start=20) if a.title.startswith(name) and a.title not in articles]
                for column, _t, _i in COLUMNS
            ]
            own = [found[k] for k, found in enumerate(by_column) if len(found) > k]  # k-th: other dates, other kinds
            for i, item in enumerate(own[:UNIT_EXTRA_ARTICLES], start=len(articles) + 1):
                self.article(unit.root_page.specific, f"{slug}-{i:02d}", item.title, item.paragraphs, item.date, source=name)
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
        """光辉历程: a prologue that says how many units follow, the units (each a heading, a text and a
        captioned picture; the first with a timeline) and an epilogue."""
        ex = content.EXHIBITION
        kicker = ex["title"][0].split("——")[0]
        sections = [("section", {"heading": ex["prologue"][0][0], "text": f"<p>{ex['prologue'][1][0]}</p>"})]
        for unit in ex["units"]:
            heading = unit["heading"][0]
            sections.append(("section", {"heading": heading, "text": f"<p>{unit['text'][0]}</p>"}))
            picture = self.poster(unit["caption"][0], kicker, alt=f"展览配图：{unit['caption'][0]}")
            sections.append(("image", {"image": picture, "caption": unit["caption"][0], "text": unit["note"][0]}))
            if unit.get("timeline"):
                sections.append(("timeline", [
                    {"date": date[0], "title": title[0], "text": text[0],
                     "image": self.poster(f"{date[0]}，{title[0]}", kicker, text=title[0]) if n in (0, 3) else None}
                    for n, (date, title, text) in enumerate(unit["timeline"])
                ]))
        sections.append(("section", {"heading": ex["epilogue"][0][0], "text": f"<p>{ex['epilogue'][1][0]}</p>"}))
        page = self.child(
            library, ExhibitionPage, "exhibition", title=ex["title"][0], subtitle=ex["subtitle"][0],
            curator=ex["curator"][0], cover_image=self.poster(ex["title"][0], ex["subtitle"][0]),
            summary=ex["summary"][0], sections=sections,
        )
        self.english[page.translation_key] = {**content.exhibition_english(), page.slug: page.slug}

    def column_pages(self, columns: dict[str, ColumnPage]) -> None:
        """Fill every column: OWN_PER_COLUMN of the organisation's own articles (with English), then
        FILLER_PER_COLUMN news items from the corpus that fit the column (Chinese only), or more own
        articles when the corpus is missing."""
        corpus = self.corpus()
        if not corpus:
            self.log("未找到 ../shared/corpus，栏目补充内容改用内置的示例稿件。")
        for slug, column in columns.items():
            for n, item in enumerate(content.own_articles(slug, OWN_PER_COLUMN), start=1):
                self.article(
                    column, f"{slug}-{n:02d}", item.title, item.paragraphs, item.date, source="书苑编辑部",
                    english=item.english, en_caption=content.en_caption(item.en_title, item.date),
                )
            if corpus:
                filler = [(i.title, list(i.paragraphs), i.date, "新闻联播") for i in headline_items(corpus, slug, FILLER_PER_COLUMN)]
            else:
                filler = [
                    (i.title, i.paragraphs, i.date, "书苑编辑部")
                    for i in content.own_articles(slug, FILLER_PER_COLUMN, start=OWN_PER_COLUMN)
                ]
            for n, (title, paragraphs, date, source) in enumerate(filler, start=1):
                page = self.article(column, f"{slug}-more-{n:02d}", title, paragraphs, date, source=source)
                self.filler_keys.add(page.translation_key)

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
            summary = seed.paragraphs[0][:120]
            if kind == "article":
                self.article(columns[where], f"seed-{key}", title, seed.paragraphs, date, source=extra, author=seed.author)
            else:
                page = self.child(
                    library, StudyMaterialPage, f"seed-{key}", title=title[:255], material_type=types[extra],
                    issuing_body="书苑编辑部", issue_date=date, cover_image=self.poster(title[:255], "党建书苑"),
                    summary=summary, body=self.body(seed.paragraphs),
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
            page = self.child(
                library, StudyMaterialPage, slug, title=title, material_type=types[type_slug],
                issuing_body="书苑编辑部", issue_date=dt.date(2025, 6, 1), summary=title.split("：", 1)[1],
                body=self.body([f"{title.split('：', 1)[1]}。本资料供各支部组织学习使用。"]),
            )
            self.english[page.translation_key] = {**content.FIXED_ENGLISH, "书苑编辑部": "Shuyuan editorial office", slug: slug}

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
        texts = _text_source(self.corpus())
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
            column = column_list[i % len(column_list)]
            title, paragraphs, date = next(texts["news" if i % 3 == 2 else COLUMNS[i % len(COLUMNS)][0]])
            common = dict(
                slug=slug, title=title[:250], summary=paragraphs[0][:120],
                body=[("paragraph", "".join(f"<p>{p}</p>" for p in paragraphs))],
                first_published_at=dt.datetime.combine(date, dt.time(8, 0), tzinfo=dt.UTC),
            )
            if i % 3 == 2:
                page = StudyMaterialPage(
                    material_type=rng.choice(type_list), issuing_body="书苑编辑部", issue_date=date, **common
                )
                page._demo_topic = rng.choice(topic_list).pk
                parent = library
            else:
                page = ArticlePage(date=date, source="新闻联播" if self.corpus() else "书苑编辑部", **common)
                parent = column
            pending.setdefault(parent.pk, []).append(page)
            made += 1
            if made % 1000 == 0:
                flush()
                self.log(f"  已生成 {made} 个页面…")
        flush()
        self.summary.add("生成页面", made)

    def translations(self, home: HomePage, locales: dict[str, Locale]) -> list:
        """Translate the zh-hans tree (not the generated scale pages) into zh-hant and en; returns the
        translated pages and snippets (their references are indexed by the caller).

        zh-hant: every page, converted by OpenCC. en: the pages with English (``self.english``), every
        string translated, plus the seeds, policies and members' pages as untranslated copies for a
        translator to work through; the corpus filler, which nobody will translate, gets no en copy."""
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
                for term in model.objects.filter(locale=locales["zh-hans"]).order_by("pk"):
                    if term.get_translation_or_none(locale) is None:
                        translated.append(translate_object_into(term, locale, user=user))
                        if code == "en" and term.slug in ENGLISH_TERMS:
                            _translate_fully(term, locale, {term.name: ENGLISH_TERMS[term.slug], term.slug: term.slug}, user)
            done = set(Page.objects.filter(locale=locale).values_list("translation_key", flat=True))
            if code == "zh-hant":  # converted by OpenCC: done only once its strings are converted
                done &= set(
                    StringTranslation.objects.filter(locale=locale)
                    .values_list("translation_of__segments__source__object_id", flat=True)
                )
            todo = [p for p in pages if p.translation_key not in done]
            if code == "en":
                todo = [p for p in todo if p.translation_key not in self.filler_keys]
            for page in todo:
                translated.append(translate_page(page, locale, user=user))
            if code == "en":
                for page in pages:
                    english = self.english.get(page.translation_key)
                    if english is not None and _translate_fully(page, locale, english, user, only_if_incomplete=True):
                        self.log(f"  en: 未译完的字段（{page.title}）")
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


def _translate_fully(instance, locale, english: dict[str, str], user, only_if_incomplete: bool = False) -> list[str]:
    """Record a human translation of every string of ``instance`` (``english`` maps each source string to
    its translation) and publish it, through :func:`cms.translation.translate_strings`. Returns the source
    strings it had no translation for (left untranslated)."""
    from wagtail_localize.models import StringSegment, Translation

    from cms.translation import translate_strings

    translation = Translation.objects.filter(
        source__object_id=instance.translation_key, source__locale=instance.locale, target_locale=locale
    ).first()
    if translation is None:
        return [str(instance)]
    if only_if_incomplete:
        total, done = translation.get_progress()
        if total == done:
            return []
    translate_strings(instance, locale, english, user=user)
    strings = StringSegment.objects.filter(source=translation.source).values_list("string__data", flat=True)
    return [text for text in strings if text not in english]


def _generated_seed(key: str) -> Seed:
    """A seed article when ``../shared/seeds`` is missing: one of the organisation's own articles."""
    column = {"000": "news", "003": "organisation", "004": "news"}.get(key, "news")
    item = content.own_articles(column, 1, start=20 + int(key))[0]
    return Seed(key=key, title=item.title, paragraphs=item.paragraphs, date=item.date.isoformat())


def _text_source(corpus: dict) -> dict:
    """Endless (title, paragraphs, date) triples per column: the corpus items that fit it, oldest first
    (the newest are the columns' filler already), when there is a corpus, else the own articles."""
    def cycle(column: str):
        if corpus.get(column):
            for item in itertools.cycle(corpus[column][::-1]):
                yield item.title, list(item.paragraphs), item.date
        for n in itertools.count(OWN_PER_COLUMN + FILLER_PER_COLUMN):
            item = content.own_articles(column, 1, start=n)[0]
            yield item.title, item.paragraphs, item.date
    return {slug: cycle(slug) for slug, _title, _intro in COLUMNS}


def load_demo(pages: int = 0, log: Log = print, seed_dir: Path | None = None, translate: bool = True) -> DemoSummary:
    from cms.signals import auto_translation_suspended

    with auto_translation_suspended():  # the builder translates the tree itself
        return DemoBuilder(log, seed_dir=seed_dir, translate=translate).build(pages=pages)
