"""Random site trees for the API's visibility invariant, generated from a seed.

Every title, slug and summary carries a marker of the audience the item *should* have for readers
outside the CMS: ``zzpub``, ``zzmem`` or ``zzint`` (internal, drafts and expired pages alike). The
expected audience is worked out here from the generation choices (own audience, ancestors',
live/expired state), independently of ``cms.visibility``, so the test checks the API against the
rule rather than against itself.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import timedelta

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

RANK = {"public": 0, "members": 1, "internal": 2}
MARK = {"public": "zzpub", "members": "zzmem", "internal": "zzint"}


@dataclass
class Tree:
    pages: dict[int, str] = field(default_factory=dict)  # page id -> expected audience
    images: dict[int, str] = field(default_factory=dict)  # image id -> least restricted user's audience
    documents: dict[int, str] = field(default_factory=dict)
    columns: list[int] = field(default_factory=list)
    types: dict[str, set[int]] = field(default_factory=dict)
    translations: dict[int, set[int]] = field(default_factory=dict)  # page id -> ids of its translation group

    def visible(self, audiences) -> set[int]:
        return {pk for pk, audience in self.pages.items() if audience in audiences}


def _png(rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), tuple(rng.randrange(256) for _ in range(3))).save(buffer, "PNG")
    return buffer.getvalue()


def _pick_audience(rng: random.Random) -> str:
    return rng.choice(["public", "public", "public", "members", "internal"])


def build_tree(seed: int, n_pages: int = 24) -> Tree:
    rng = random.Random(seed)
    tree = Tree()
    locale = Locale.objects.get_or_create(language_code="zh-hans")[0]
    visibility.members_group()
    visibility.internal_group()
    root = Page.get_first_root_node()
    for child in root.get_children():
        child.delete()
    ShuyuanImage.objects.all().delete()
    ShuyuanDocument.objects.all().delete()
    home = HomePage(title="首页 zzpub", slug=f"home-{seed}", locale=locale)
    root.add_child(instance=home)
    Site.objects.update_or_create(is_default_site=True, defaults={"root_page": home, "hostname": "localhost", "port": 80})
    tree.pages[home.pk] = "public"

    mtype = MaterialType.objects.get_or_create(slug=f"t{seed}", locale=locale, defaults={"name": "文件"})[0]
    topic = Topic.objects.get_or_create(slug=f"p{seed}", locale=locale, defaults={"name": "党史"})[0]
    category = RedExhibitionCategory.objects.get_or_create(slug=f"c{seed}", locale=locale, defaults={"name": "纪念馆"})[0]

    images = []
    for i in range(6):
        image = ShuyuanImage(title=f"img{seed}-{i}", file=ImageFile(io.BytesIO(_png(rng)), name=f"t{seed}-{i}.png"))
        image.save()
        images.append(image)
    documents = []
    for i in range(6):
        audience = rng.choice(["public", "members", "internal"])
        document = ShuyuanDocument(title=f"doc {MARK[audience]} {seed}-{i}", audience=audience)
        document.file.save(f"{MARK[audience]}-{seed}-{i}.txt", ContentFile(b"text"), save=False)
        document.save()
        documents.append(document)
        tree.documents[document.pk] = audience

    counter = iter(range(10_000))

    restricted: dict[int, str] = {home.pk: "public"}  # audience from view restrictions, self and ancestors

    hidden: dict[int, bool] = {home.pk: False}  # unpublished or expired, itself or an ancestor

    def add(parent, parent_audience: str, model, page_locale=locale, source_page=None, **fields):
        # ``parent_audience`` is unused by the rule (kept for readability of the calls below): children
        # inherit restrictions, and an unpublished or expired page hides itself and everything below it.
        own = _pick_audience(rng)
        live = rng.random() > 0.15
        expired = live and rng.random() < 0.1
        inherited = max(own, restricted[parent.pk], key=RANK.__getitem__)
        hidden_here = hidden[parent.pk] or not live or expired
        if source_page is not None:
            # a translation is never more visible than its zh-hans source (cms.visibility)
            inherited = max(inherited, restricted[source_page.pk], key=RANK.__getitem__)
            hidden_here = hidden_here or hidden[source_page.pk]
        effective = "internal" if hidden_here else inherited
        n = next(counter)
        page = model(
            title=f"{model.__name__} {MARK[effective]} {n}",
            # The slug carries the restriction audience, the rest the effective one.
            slug=f"{MARK[inherited]}-{seed}-{n}",
            summary=f"summary {MARK[effective]}",
            audience=own,
            live=live,
            expire_at=timezone.now() - timedelta(days=1) if expired else None,
            locale=page_locale,
            cover_image=rng.choice(images + [None]),
            **fields,
        )
        parent.add_child(instance=page)
        restricted[page.pk] = inherited
        hidden[page.pk] = hidden_here
        tree.pages[page.pk] = effective
        tree.types.setdefault(model.__name__, set()).add(page.pk)
        return page, effective

    columns = [add(home, "public", ColumnPage) for _ in range(2)]
    tree.columns = [c.pk for c, _ in columns]
    library = add(home, "public", StudyLibraryPage)
    red = add(home, "public", RedExhibitionIndexPage)
    content = []
    for _ in range(n_pages):
        kind = rng.choice(["article", "article", "material", "red", "exhibition"])
        if kind == "article":
            parent, audience = rng.choice(columns)
            content.append(add(parent, audience, ArticlePage, source="来源"))
        elif kind == "material":
            page, audience = add(library[0], library[1], StudyMaterialPage, material_type=mtype, issuing_body="机关")
            page.topics.add(topic)
            for document in rng.sample(documents, 2):
                StudyMaterialAttachment.objects.create(page=page, document=document)
            content.append((page, audience))
        elif kind == "red":
            content.append(add(red[0], red[1], RedExhibitionPage, province="beijing", category=category, external_url="https://example.org/"))
        else:
            content.append(add(library[0], library[1], ExhibitionPage))

    everything = [p for p, _ in columns + [library, red] + content]
    # Bodies refer to random images, documents and pages of any audience.
    for page, _audience in content:
        target_page = rng.choice(everything)
        document = rng.choice(documents)
        link = f'<p>见<a linktype="page" id="{target_page.pk}">链接</a>与<a linktype="document" id="{document.pk}">附件</a></p>'
        image = rng.choice(images)
        if isinstance(page, ExhibitionPage):
            page.sections = [
                ("section", {"heading": "单元", "text": link}),
                ("image", {"image": image, "caption": "图", "text": ""}),
                ("timeline", [{"date": "1921", "title": "事件", "text": "", "image": rng.choice(images)}]),
                ("video", {"title": "", "file": rng.choice(documents), "url": "", "poster": rng.choice(images), "caption": ""}),
            ]
        elif not isinstance(page, RedExhibitionPage):
            page.body = [
                ("paragraph", link),
                ("image", {"image": image, "caption": "图"}),
                ("attachment", {"document": rng.choice(documents), "title": "附件"}),
                ("audio", {"title": "", "file": rng.choice(documents), "caption": ""}),
            ]
        page.save()

    # zh-hant translations of the home page, the columns and some articles, each with its own random
    # audience and state: a translation is listed (and named in ``translations``) only when visible.
    hant = Locale.objects.get_or_create(language_code="zh-hant")[0]
    hant_home = HomePage(title="首頁 zzpub", slug=f"home-{seed}-zh-hant", locale=hant, translation_key=home.translation_key)
    root.add_child(instance=hant_home)
    tree.pages[hant_home.pk] = "public"
    restricted[hant_home.pk], hidden[hant_home.pk] = "public", False
    groups = [[home, hant_home]]
    hant_columns = {}
    for column, _audience in columns:
        copy = add(
            hant_home, "public", ColumnPage, page_locale=hant, translation_key=column.translation_key, source_page=column
        )
        hant_columns[column.pk] = copy
        groups.append([column, copy[0]])
    for page, _audience in content:
        if isinstance(page, ArticlePage) and rng.random() < 0.6:
            parent = hant_columns[page.get_parent().pk]
            copy = add(
                parent[0], parent[1], ArticlePage, page_locale=hant, translation_key=page.translation_key,
                source_page=page, source="來源",
            )
            groups.append([page, copy[0]])
    for group in groups:
        for member in group:
            tree.translations[member.pk] = {other.pk for other in group}

    # An image may be listed to anyone who can see a page that uses it.
    usage: dict[int, str] = {}
    for page in Page.objects.filter(pk__in=tree.pages).specific():
        used = {page.cover_image_id} if getattr(page, "cover_image_id", None) else set()
        for name in ("body", "sections"):
            value = getattr(page, name, None)
            if value is not None:
                used |= _image_ids(value.raw_data)
        for image_id in used:
            audience = tree.pages[page.pk]
            if image_id not in usage or RANK[audience] < RANK[usage[image_id]]:
                usage[image_id] = audience
    for image in images:
        audience = usage.get(image.pk, "internal")
        tree.images[image.pk] = audience
        image.title = f"image {MARK[audience]} {seed}"
        image.save()
    return tree


def _image_ids(raw) -> set[int]:
    found = set()

    def walk(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list | tuple) or hasattr(value, "__iter__") and not isinstance(value, str | bytes):
            for v in value:
                walk(v, key)
        elif key in ("image", "poster") and isinstance(value, int):
            found.add(value)

    walk(list(raw))
    return found
