"""Page types of the Shuyuan site.

The tree per locale is: HomePage ─┬─ ColumnPage (栏目) ── ArticlePage
                                  ├─ StudyLibraryPage (党建书苑) ── StudyMaterialPage
                                  ├─ ExhibitionPage (线上展览)
                                  └─ RedExhibitionIndexPage (红色云图) ── RedExhibitionPage
Columns are pages editors create, so an organisation can add or rename its columns without code.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.api import APIField
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index
from wagtail.utils.decorators import cached_classmethod
from wagtail_localize.fields import SynchronizedField

from cms import visibility
from cms.blocks import BodyBlock, ExhibitSectionBlock
from cms.forms import ShuyuanPageForm
from cms.models.search import SearchDocumentMixin, join_text
from cms.provinces import Province
from cms.secrecy.classification import classification_field, refuse_secret
from cms.visibility import Audience

PAGE_SIZE = 20


class AudienceMixin(models.Model):
    """Who may read this item outside the CMS. Stored as a Wagtail view restriction on save."""

    audience = models.CharField(
        _("可见范围"),
        max_length=16,
        choices=Audience.choices,
        default=Audience.PUBLIC,
        help_text=_("公开：发布到公开网站；仅会员：登录会员可见；内部：只在管理系统内可见，永不对外发布。"),
    )

    class Meta:
        abstract = True


class ShuyuanPage(SearchDocumentMixin, AudienceMixin, Page):
    """Common base: audience, cover image and summary for every content page.

    Each concrete type declares ``search_kind`` (see ``cms.models.search``): its kind in members'
    search, or None when it is not searchable.
    """

    base_form_class = ShuyuanPageForm

    cover_image = models.ForeignKey(
        "media.ShuyuanImage", verbose_name=_("封面图"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.TextField(_("摘要"), blank=True)
    # 密级: 内部 keeps the page off every site whatever its audience; 涉密 cannot be saved at all
    # (cms.secrecy: the review that runs on every publish and holds what it has not cleared).
    classification = classification_field()

    override_translatable_fields = [
        SynchronizedField("audience"),
        SynchronizedField("cover_image"),
        SynchronizedField("classification"),
    ]
    settings_panels = [FieldPanel("audience"), FieldPanel("classification")] + Page.settings_panels
    search_fields = Page.search_fields + [index.SearchField("summary")]
    api_fields = [APIField("audience"), APIField("summary"), APIField("cover_image")]

    class Meta:
        abstract = True

    @cached_classmethod
    def get_edit_handler(cls):
        """Wagtail's three tabs, with the secrecy review's findings at the top of 内容 (``cms.secrecy``)."""
        from django.utils.translation import gettext_lazy  # Wagtail's own tab names, in its catalogue
        from wagtail.admin.panels import ObjectList, TabbedInterface

        from cms.secrecy.panels import SecrecyFindingsPanel

        if hasattr(cls, "edit_handler"):
            return cls.edit_handler.bind_to_model(cls)
        tabs = [ObjectList([SecrecyFindingsPanel(), *cls.content_panels], heading=gettext_lazy("Content"))]
        if cls.promote_panels:
            tabs.append(ObjectList(cls.promote_panels, heading=gettext_lazy("Promote")))
        if cls.settings_panels:
            tabs.append(ObjectList(cls.settings_panels, heading=gettext_lazy("Settings")))
        return TabbedInterface(tabs, base_form_class=cls.base_form_class).bind_to_model(cls)

    @property
    def effective_audience(self) -> Audience:
        return visibility.audience_of(self)

    def clean(self):
        super().clean()
        refuse_secret(self)


class HomePage(ShuyuanPage):
    """The site root of one language: latest news, the study library and exhibitions at a glance."""

    intro = RichTextField(_("首页导语"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("cover_image")]
    api_fields = ShuyuanPage.api_fields + [APIField("intro")]
    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1
    search_kind = None  # a landing page: its content is the pages it lists

    class Meta:
        verbose_name = _("首页")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        visible = visibility.pages_visible_to(request.user)
        context["columns"] = [
            (column, visible.type(ArticlePage).child_of(column).order_by("-articlepage__date", "-first_published_at").specific()[:6])
            for column in visible.child_of(self).type(ColumnPage).specific()
        ]
        context["library"] = visible.child_of(self).type(StudyLibraryPage).specific().first()
        context["exhibitions"] = visible.descendant_of(self).type(ExhibitionPage).specific()[:4]
        context["red_index"] = visible.child_of(self).type(RedExhibitionIndexPage).specific().first()
        return context


def paginate(request, queryset, page_number=None):
    number = page_number or request.GET.get("page") or 1
    paginator = Paginator(queryset, PAGE_SIZE)
    try:
        return paginator.page(number)
    except (EmptyPage, PageNotAnInteger) as exc:
        raise Http404 from exc


class ColumnPage(RoutablePageMixin, ShuyuanPage):
    """A column (栏目) such as 新闻动态 or 通知公告: lists its articles newest first, paginated.

    Pages after the first live at ``page/<n>/`` so the static site can publish them as real files.
    """

    intro = models.TextField(_("栏目简介"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    api_fields = ShuyuanPage.api_fields + [APIField("intro")]
    # a column may hold a lower unit's column (a 支部 under a 总支: cms.orgs gives each unit one)
    parent_page_types = ["cms.HomePage", "cms.ColumnPage"]
    subpage_types = ["cms.ArticlePage", "cms.ColumnPage", "surveys.SurveyPage", "surveys.MailboxPage"]
    search_kind = None  # a listing: its articles are indexed, each with the column's name

    class Meta:
        verbose_name = _("栏目")

    def articles(self, user=None):
        qs = visibility.pages_visible_to(user).child_of(self).type(ArticlePage)
        return (
            ArticlePage.objects.filter(pk__in=qs.values("pk"))
            .select_related("cover_image")
            .order_by("-date", "-first_published_at")
        )

    def page_count(self, user=None) -> int:
        return Paginator(self.articles(user), PAGE_SIZE).num_pages

    @path("")
    def first_page(self, request):
        return self._listing(request, request.GET.get("page", 1))

    @path("page/<int:page_number>/")
    def nth_page(self, request, page_number):
        if page_number == 1:
            raise Http404
        return self._listing(request, page_number)

    def _listing(self, request, number):
        page_obj = paginate(request, self.articles(request.user), number)
        return self.render(
            request, context_overrides={"articles": page_obj, "page_obj": page_obj, "listing_base": self.url}
        )

    def page_url(self, number: int) -> str:
        return self.url if number == 1 else f"{self.url}page/{number}/"

    def static_routes(self, user=None) -> list[str]:
        """Every sub-path of this page that a static copy must contain (the listing's later pages)."""
        return [f"page/{n}/" for n in range(2, self.page_count(user) + 1)]


class ArticleTag(TaggedItemBase):
    content_object = ParentalKey("cms.ArticlePage", related_name="tagged_items", on_delete=models.CASCADE)


class ArticlePage(ShuyuanPage):
    """A news item, notice or feature published in a column."""

    subtitle = models.CharField(_("副标题"), max_length=255, blank=True)
    source = models.CharField(_("来源"), max_length=255, blank=True)
    author = models.CharField(_("作者"), max_length=255, blank=True)
    date = models.DateField(_("发布日期"), default=timezone.localdate)
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)
    tags = ClusterTaggableManager(through=ArticleTag, blank=True, verbose_name=_("标签"))

    content_panels = Page.content_panels + [
        FieldPanel("subtitle"),
        FieldRowPanel([FieldPanel("source"), FieldPanel("author"), FieldPanel("date")]),
        FieldPanel("cover_image"),
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("tags"),
    ]
    override_translatable_fields = ShuyuanPage.override_translatable_fields + [SynchronizedField("date")]
    search_fields = ShuyuanPage.search_fields + [
        index.SearchField("subtitle"),
        index.SearchField("body"),
        index.FilterField("date"),
    ]
    api_fields = ShuyuanPage.api_fields + [
        APIField("subtitle"),
        APIField("source"),
        APIField("author"),
        APIField("date"),
        APIField("body"),
        APIField("tags"),
    ]
    parent_page_types = ["cms.ColumnPage"]
    subpage_types: list[str] = []
    search_kind = "article"
    # Not 文章: a study material's type (资料类型) is often 文章 too, and the two facets sit side by side.
    search_label = _("栏目文章")

    class Meta:
        verbose_name = _("文章")

    def search_document_fields(self) -> dict:
        parent = self.get_parent()
        return {
            **super().search_document_fields(),
            "subtitle": self.subtitle,
            "body": self.search_text("body"),
            "column": parent.title if parent else "",
        }

    def search_date(self):
        return self.date or super().search_date()


class StudyLibraryPage(RoutablePageMixin, ShuyuanPage):
    """党建书苑: the study library landing page, with materials by type and topic.

    Filters are paths (``type/<slug>/``, ``topic/<slug>/``, each paginated with ``page/<n>/``), not
    query strings, so the static site can publish every filtered listing as a file.
    """

    intro = RichTextField(_("简介"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("cover_image")]
    api_fields = ShuyuanPage.api_fields + [APIField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.StudyMaterialPage", "cms.ExhibitionPage"]
    max_count_per_parent = 1
    search_kind = None  # a landing page: its materials are indexed

    class Meta:
        verbose_name = _("党建书苑")

    def materials(self, user=None):
        qs = visibility.pages_visible_to(user).child_of(self).type(StudyMaterialPage)
        return (
            StudyMaterialPage.objects.filter(pk__in=qs.values("pk"))
            .select_related("material_type", "cover_image")
            .order_by("-issue_date", "-first_published_at")
        )

    def _terms(self):
        from cms.models.snippets import MaterialType, Topic

        return MaterialType.objects.filter(locale=self.locale), Topic.objects.filter(locale=self.locale)

    @path("")
    def first_page(self, request):
        return self._listing(request, request.GET.get("page", 1))

    @path("page/<int:page_number>/")
    def nth_page(self, request, page_number):
        return self._listing(request, page_number, first_page_route=True)

    @path("type/<str:slug>/")
    @path("type/<str:slug>/page/<int:page_number>/")
    def by_type(self, request, slug, page_number=1):
        types, _topics = self._terms()
        term = types.filter(slug=slug).first()
        if term is None:
            raise Http404
        return self._listing(request, page_number, material_type=term)

    @path("topic/<str:slug>/")
    @path("topic/<str:slug>/page/<int:page_number>/")
    def by_topic(self, request, slug, page_number=1):
        _types, topics = self._terms()
        term = topics.filter(slug=slug).first()
        if term is None:
            raise Http404
        return self._listing(request, page_number, topic=term)

    @path("search/")
    def public_search(self, request):
        """The public search page: a static page whose script asks the search API (public results).

        It works unchanged on the published static site, where the API is the public search service
        (``SHUYUAN_PUBLIC_SEARCH_URL``, ``search.public``: public documents only, no CMS behind it) or,
        when that is not set, the CMS's own (``SHUYUAN_PUBLIC_API_URL``), and on the CMS itself, where
        signed-in members also get members-only results.
        """
        from django.conf import settings

        search_base = getattr(settings, "SHUYUAN_PUBLIC_SEARCH_URL", None) or settings.SHUYUAN_PUBLIC_API_URL
        return self.render(
            request,
            template="cms/study_library_search.html",
            context_overrides={
                "api_url": search_base.rstrip("/") + "/api/v2/search/",
                "members_search_url": f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}/"
                f"{self.locale.language_code}/study/search/",
            },
        )

    def _listing(self, request, number, material_type=None, topic=None, first_page_route=False):
        if first_page_route and number == 1:
            raise Http404
        materials = self.materials(request.user)
        base = self.url
        # Terms match by translation key: a translated page may still point at the source-language term.
        if material_type is not None:
            materials = materials.filter(material_type__translation_key=material_type.translation_key)
            base = f"{self.url}type/{material_type.slug}/"
        if topic is not None:
            materials = materials.filter(topics__translation_key=topic.translation_key)
            base = f"{self.url}topic/{topic.slug}/"
        page_obj = paginate(request, materials, number)
        types, topics = self._terms()
        return self.render(
            request,
            context_overrides={
                "materials": page_obj,
                "page_obj": page_obj,
                "listing_base": base,
                "material_types": types,
                "topics": topics,
                "current_type": material_type,
                "current_topic": topic,
            },
        )

    def static_routes(self, user=None) -> list[str]:
        """Every sub-path of this page that a static copy must contain (pagination and filters)."""
        routes = ["search/"]
        materials = self.materials(user)
        routes += [f"page/{n}/" for n in range(2, Paginator(materials, PAGE_SIZE).num_pages + 1)]
        types, topics = self._terms()
        for prefix, terms, field in (("type", types, "material_type"), ("topic", topics, "topics")):
            for term in terms:
                count = materials.filter(**{f"{field}__translation_key": term.translation_key}).count()
                routes.append(f"{prefix}/{term.slug}/")
                routes += [f"{prefix}/{term.slug}/page/{n}/" for n in range(2, -(-count // PAGE_SIZE) + 1)]
        return routes


class StudyMaterialAttachment(Orderable):
    page = ParentalKey("cms.StudyMaterialPage", related_name="attachments", on_delete=models.CASCADE)
    document = models.ForeignKey("media.ShuyuanDocument", verbose_name=_("文件"), on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("显示名称"), max_length=255, blank=True)

    panels = [FieldPanel("document"), FieldPanel("title")]
    api_fields = [APIField("document"), APIField("title")]

    @property
    def display_title(self) -> str:
        return self.title or self.document.title


class StudyMaterialPage(ShuyuanPage):
    """A study material in 党建书苑: an article, a policy document with its 文号, a video, a 微党课 ..."""

    material_type = models.ForeignKey(
        "cms.MaterialType", verbose_name=_("资料类型"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    topics = ParentalManyToManyField("cms.Topic", verbose_name=_("学习专题"), blank=True)
    issuing_body = models.CharField(_("发文机关"), max_length=255, blank=True)
    doc_number = models.CharField(_("文号"), max_length=120, blank=True, db_index=True)
    issue_date = models.DateField(_("发布日期"), null=True, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("正文"), blank=True)
    allow_download = models.BooleanField(_("允许下载附件"), default=True)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("material_type"), FieldPanel("issue_date")]),
                FieldRowPanel([FieldPanel("issuing_body"), FieldPanel("doc_number")]),
                FieldPanel("topics", widget=forms.CheckboxSelectMultiple),
            ],
            heading=_("资料信息"),
        ),
        FieldPanel("cover_image"),
        FieldPanel("summary"),
        FieldPanel("body"),
        MultiFieldPanel([FieldPanel("allow_download"), InlinePanel("attachments", label=_("附件"))], heading=_("附件")),
    ]
    override_translatable_fields = ShuyuanPage.override_translatable_fields + [
        SynchronizedField("doc_number"),
        SynchronizedField("issue_date"),
        SynchronizedField("allow_download"),
        SynchronizedField("attachments"),
    ]
    search_fields = ShuyuanPage.search_fields + [
        index.SearchField("doc_number"),
        index.SearchField("issuing_body"),
        index.SearchField("body"),
        index.FilterField("issue_date"),
    ]
    api_fields = ShuyuanPage.api_fields + [
        APIField("material_type"),
        APIField("topics"),
        APIField("issuing_body"),
        APIField("doc_number"),
        APIField("issue_date"),
        APIField("body"),
        APIField("allow_download"),
        APIField("attachments"),
    ]
    parent_page_types = ["cms.StudyLibraryPage"]
    subpage_types: list[str] = []
    search_kind = "material"

    class Meta:
        verbose_name = _("学习资料")

    def search_document_fields(self) -> dict:
        return {
            **super().search_document_fields(),
            "body": self.search_text("body"),
            "material_type": self.material_type.name if self.material_type_id else "",
            "topics": [t.name for t in self.topics.all()],
            "issuing_body": self.issuing_body,
            "doc_number": self.doc_number,
        }

    def search_date(self):
        return self.issue_date or super().search_date()

    def search_attachments(self):
        """The attached files, page by page in search: their text finds the material."""
        return [(a.display_title, a.document) for a in self.attachments.select_related("document").all()]


class ExhibitionPage(ShuyuanPage):
    """线上展览: an online exhibition told as an ordered sequence of sections, read on a phone."""

    subtitle = models.CharField(_("副标题"), max_length=255, blank=True)
    curator = models.CharField(_("策展单位"), max_length=255, blank=True)
    sections = StreamField(ExhibitSectionBlock(), verbose_name=_("展览单元"), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("subtitle"),
        FieldPanel("curator"),
        FieldPanel("cover_image"),
        FieldPanel("summary"),
        FieldPanel("sections"),
    ]
    search_fields = ShuyuanPage.search_fields + [index.SearchField("subtitle"), index.SearchField("sections")]
    api_fields = ShuyuanPage.api_fields + [APIField("subtitle"), APIField("curator"), APIField("sections")]
    parent_page_types = ["cms.HomePage", "cms.StudyLibraryPage"]
    subpage_types: list[str] = []
    search_kind = "exhibition"

    class Meta:
        verbose_name = _("线上展览")

    def search_document_fields(self) -> dict:
        return {
            **super().search_document_fields(),
            "subtitle": self.subtitle,
            "body": join_text(self.curator, self.search_text("sections")),
        }


class RedExhibitionIndexPage(RoutablePageMixin, ShuyuanPage):
    """红色云图: links to red exhibitions across China, filtered by province and category.

    Filters are paths (``province/<code>/``, ``category/<slug>/``) so the static site holds them all.
    """

    intro = models.TextField(_("简介"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    api_fields = ShuyuanPage.api_fields + [APIField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.RedExhibitionPage"]
    max_count_per_parent = 1
    search_kind = None  # a listing: its exhibitions are indexed

    class Meta:
        verbose_name = _("红色云图")

    def exhibitions(self, user=None):
        qs = visibility.pages_visible_to(user).child_of(self).type(RedExhibitionPage)
        return (
            RedExhibitionPage.objects.filter(pk__in=qs.values("pk"))
            .select_related("category", "cover_image")
            .order_by("province", "title")
        )

    def _categories(self):
        from cms.models.snippets import RedExhibitionCategory

        return RedExhibitionCategory.objects.filter(locale=self.locale)

    @path("")
    def all_exhibitions(self, request):
        return self._listing(request)

    @path("province/<str:code>/")
    def by_province(self, request, code):
        if code not in Province.values:
            raise Http404
        return self._listing(request, province=code)

    @path("category/<str:slug>/")
    def by_category(self, request, slug):
        category = self._categories().filter(slug=slug).first()
        if category is None:
            raise Http404
        return self._listing(request, category=category)

    def _listing(self, request, province=None, category=None):
        everything = self.exhibitions(request.user)
        items = everything
        if province:
            items = items.filter(province=province)
        if category is not None:
            items = items.filter(category__translation_key=category.translation_key)
        present = set(everything.values_list("province", flat=True))
        return self.render(
            request,
            context_overrides={
                "exhibitions": items,
                "provinces": [(value, label) for value, label in Province.choices if value in present],
                "categories": self._categories(),
                "current_province": province,
                "current_category": category,
            },
        )

    def static_routes(self, user=None) -> list[str]:
        """Every sub-path of this page that a static copy must contain (one per filter value)."""
        provinces = sorted(set(self.exhibitions(user).values_list("province", flat=True)))
        return [f"province/{code}/" for code in provinces] + [f"category/{c.slug}/" for c in self._categories()]


class RedExhibitionPage(ShuyuanPage):
    """One red exhibition site (纪念馆, 博物馆, 革命旧址, 线上展览 ...) with a link to visit it online."""

    province = models.CharField(_("省份"), max_length=20, choices=Province.choices, db_index=True)
    city = models.CharField(_("城市"), max_length=100, blank=True)
    category = models.ForeignKey(
        "cms.RedExhibitionCategory", verbose_name=_("类别"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    external_url = models.URLField(_("展览链接"), max_length=500)
    description = models.TextField(_("介绍"), blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    content_panels = Page.content_panels + [
        FieldRowPanel([FieldPanel("province"), FieldPanel("city"), FieldPanel("category")]),
        FieldPanel("external_url"),
        FieldPanel("cover_image"),
        FieldPanel("description"),
        FieldRowPanel([FieldPanel("latitude"), FieldPanel("longitude")], heading=_("坐标（可选）")),
    ]
    override_translatable_fields = ShuyuanPage.override_translatable_fields + [
        SynchronizedField("province"),
        SynchronizedField("external_url"),
        SynchronizedField("latitude"),
        SynchronizedField("longitude"),
    ]
    search_fields = ShuyuanPage.search_fields + [index.SearchField("description"), index.FilterField("province")]
    api_fields = ShuyuanPage.api_fields + [
        APIField("province"),
        APIField("city"),
        APIField("category"),
        APIField("external_url"),
        APIField("description"),
        APIField("latitude"),
        APIField("longitude"),
    ]
    parent_page_types = ["cms.RedExhibitionIndexPage"]
    subpage_types: list[str] = []
    search_kind = "red_exhibition"
    # Readers know these venues by the section that lists them, 红色云图 (the model's name is 红色场馆).
    search_label = _("红色云图")

    class Meta:
        verbose_name = _("红色场馆")

    def search_document_fields(self) -> dict:
        return {
            **super().search_document_fields(),
            "body": join_text(self.city, self.description),
            "province": self.get_province_display() if self.province else "",
            "category": self.category.name if self.category_id else "",
        }
