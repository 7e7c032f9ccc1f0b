"""What a change affects: the groups of objects a publish must rebuild.

A group is rebuilt as a unit (see ``deploy.manifest``). For a changed page that is the page with its
sub-routes, its ancestors (their listings, pagination and home-page teasers show it), its translations
(their language switcher links to it, and a translation is never more visible than its source), the
pages that reference it (Wagtail's ReferenceIndex), the feeds of the columns above it and the sitemap
of its language. Moves, restriction changes and unpublishing affect the whole subtree, and the
subtrees of its translations. Pages high in the tree (home pages, top-level columns) appear in
every page's header and menu, so changing them rebuilds the whole site.

Images, documents and snippets rebuild the pages that use them: the ReferenceIndex's pages, plus the
pages with a relation to them that the ReferenceIndex does not track (a ``ParentalManyToManyField``
such as a study material's topics), plus, for a translatable term, the pages of its language that
point at one of its translations (they show its name). Listing pages whose filters offer a term (the
study library's ``type/<slug>/`` and ``topic/<slug>/`` routes, the red-exhibition categories) rebuild
their own group when a term is added, renamed or deleted.

Independently of what signals reported, every incremental publish also rebuilds the groups of pages
that are in the manifest but no longer public (or no longer exist): whatever went wrong elsewhere, a
withdrawn page never stays published.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from wagtail.models import Page, ReferenceIndex, TranslatableMixin, get_page_models

from cms.visibility import public_pages

from .conf import publish_setting
from .manifest import REFERENCED_ASSET_GROUP, Manifest
from .render import SITE_GROUPS, feed_group, page_group, sitemap_group


@dataclass
class Plan:
    """What a build renders. ``full`` renders everything and ignores the sets."""

    full: bool = False
    page_ids: set[int] = field(default_factory=set)  # groups to rebuild, public or not
    feed_ids: set[int] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)  # sitemaps
    site_groups: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)

    def groups(self) -> set[str]:
        return (
            {page_group(i) for i in self.page_ids}
            | {feed_group(i) for i in self.feed_ids}
            | {sitemap_group(code) for code in self.languages}
            | set(self.site_groups)
        )

    @property
    def is_empty(self) -> bool:
        return not self.full and not self.groups()

    def merge(self, other: Plan) -> None:
        self.full |= other.full
        self.page_ids |= other.page_ids
        self.feed_ids |= other.feed_ids
        self.languages |= other.languages
        self.site_groups |= other.site_groups
        self.reasons += other.reasons


def full_plan(reason: str = "") -> Plan:
    return Plan(full=True, reasons=[reason or _("全站发布")])


class PlanBuilder:
    """Accumulates affected groups for a batch of changes."""

    def __init__(self) -> None:
        self.plan = Plan()
        self._seen_pages: set[int] = set()

    def page_changed(self, page_id: int, *, subtree: bool = False, reason: str = "") -> None:
        """``pages_changed`` for one page; with ``subtree`` (moved, restricted, unpublished), also the
        groups of all its descendants and the pages that refer to one of them (their URLs may have
        changed). A bounded number of queries, whatever the size of the subtree."""
        if reason:
            self.plan.reasons.append(reason)
        wide = int(publish_setting("SITE_WIDE_DEPTH"))
        rows = self._many([page_id], full_from_depth=wide)
        if not subtree or not rows or rows[0][2] <= wide:
            return  # deleted (its groups go; ancestors arrive through also_pages), or a full build
        _pk, path, depth, key, _language = rows[0]
        # A translation is never more visible than its source (cms.visibility): when the source's
        # subtree changes (restricted, moved, unpublished), its translations' subtrees may change too,
        # with no event of their own.
        below = Q(path__startswith=path, depth__gt=depth)
        for t_path, t_depth in Page.objects.filter(translation_key=key).exclude(pk=page_id).values_list("path", "depth"):
            below |= Q(path__startswith=t_path, depth__gt=t_depth)
        descendants = set(Page.objects.filter(below).values_list("pk", flat=True))
        if len(descendants) > 500:
            self.plan.full = True
            self.plan.reasons.append(_("页面 %(page)s 及其下 %(n)d 个页面移动或修改") % {"page": page_id, "n": len(descendants)})
            return
        self.plan.page_ids |= descendants
        self.plan.feed_ids |= descendants
        # their URLs may have changed: pages linking to them show the new ones
        self.plan.page_ids |= _pages_referring_to_pages(descendants)

    def context_of(self, page_ids: Iterable[int]) -> None:
        """Rebuild these pages and what shows them (e.g. the old parent of a moved page)."""
        self._many(page_ids, full_from_depth=None)

    def pages_changed(self, page_ids: Iterable[int], reason: str = "") -> None:
        """``page_changed`` (without subtrees) for many pages at once, in a few queries."""
        if reason:
            self.plan.reasons.append(reason)
        self._many(page_ids, full_from_depth=int(publish_setting("SITE_WIDE_DEPTH")))

    def _many(self, page_ids: Iterable[int], *, full_from_depth: int | None) -> list[tuple]:
        """Rebuild these pages and their context: ancestors, translations, pages referring to them.
        Returns the pages' rows (pk, path, depth, translation_key, language code); none for deleted pages."""
        ids = {int(i) for i in page_ids}
        if not ids:
            return []
        self.plan.page_ids |= ids
        self.plan.feed_ids |= ids
        wide = int(publish_setting("SITE_WIDE_DEPTH"))
        loaded = list(
            Page.objects.filter(pk__in=ids).values_list("pk", "path", "depth", "translation_key", "locale__language_code")
        )
        if full_from_depth is not None:
            high = [pk for pk, _p, depth, _k, _l in loaded if depth <= full_from_depth]
            if high:
                self.plan.full = True
                self.plan.reasons.append(_("页面 %(page)s 出现在每个页面上") % {"page": high[0]})
                return loaded
        # the home page gets itself only (its own change is what triggers a full build)
        rows = [r for r in loaded if r[0] not in self._seen_pages and r[2] > wide - 1]
        if not rows:
            return loaded
        self._seen_pages |= {r[0] for r in rows}
        self.plan.languages |= {r[4] for r in rows}
        step = Page.steplen
        ancestors = {path[:i] for _pk, path, _d, _k, _l in rows for i in range(step * 2, len(path), step)}
        for anc in Page.objects.filter(path__in=ancestors).values_list("pk", flat=True):
            self.plan.page_ids.add(anc)
            self.plan.feed_ids.add(anc)
        keys = {r[3] for r in rows if r[3]}
        if keys:
            for pk, code in (
                Page.objects.filter(translation_key__in=keys).exclude(pk__in=ids)
                .values_list("pk", "locale__language_code")
            ):
                self.plan.page_ids.add(pk)
                self.plan.languages.add(code)
        self.plan.page_ids |= _pages_referring_to_pages({r[0] for r in rows})
        return loaded

    def listing_changed(self, page_ids: Iterable[int], reason: str = "") -> None:
        """Pages whose filters list a term that changed: rebuild their own group (every sub-route)."""
        self.plan.page_ids |= {int(i) for i in page_ids}
        if reason:
            self.plan.reasons.append(reason)

    def object_changed(self, obj, reason: str = "") -> None:
        """An image, document or snippet changed (or a term was added): rebuild the pages that show it."""
        users = referring_page_ids(obj, depth=2) | related_page_ids(obj)
        self.pages_changed(users, reason=reason)
        self.listing_changed(term_listing_page_ids(obj))


def referring_page_ids(obj, depth: int = 1) -> set[int]:
    """Pages whose content refers to ``obj`` (directly, or through a snippet when depth > 1)."""
    page_ct = ContentType.objects.get_for_model(Page)
    found: set[int] = set()
    frontier = [obj]
    for _level in range(depth):
        nxt = []
        for item in frontier:
            refs = ReferenceIndex.get_references_to(item).select_related("base_content_type")
            for ref in refs:
                if ref.base_content_type_id == page_ct.pk:
                    found.add(int(ref.object_id))
                else:
                    model = ref.base_content_type.model_class()
                    if model is not None:
                        other = model._default_manager.filter(pk=ref.object_id).first()
                        if other is not None:
                            nxt.append(other)
        frontier = nxt
    return found


def _pages_referring_to_pages(page_ids: set[int]) -> set[int]:
    """``referring_page_ids(page)`` for many pages in one query."""
    if not page_ids:
        return set()
    page_ct = ContentType.objects.get_for_model(Page)
    rows = ReferenceIndex.objects.filter(
        to_content_type=page_ct, to_object_id__in=[str(i) for i in page_ids], base_content_type=page_ct
    ).values_list("object_id", flat=True)
    return {int(i) for i in rows}


@functools.cache
def _relations_to(model) -> tuple[tuple[type, str], ...]:
    """(page model, field name) of every foreign key and many-to-many field of a page model to ``model``.

    Page models are fixed once the app registry is ready: scanned once per model (``related_page_ids``
    runs in the editor's request when an image, document or snippet is deleted)."""
    out = []
    for page_model in get_page_models():
        opts = page_model._meta
        for f in (*opts.local_fields, *opts.local_many_to_many):
            related = getattr(f, "related_model", None)
            if (f.many_to_one or f.many_to_many) and isinstance(related, type) and issubclass(model, related):
                out.append((page_model, f.name))
    return tuple(out)


def related_page_ids(obj) -> set[int]:
    """Pages that show ``obj`` through one of their own fields (foreign keys and many-to-many fields,
    which include ``ParentalManyToManyField``, which the ReferenceIndex doesn't track).

    For a translatable term, also the pages of ``obj``'s language that point at one of its translations:
    a translated page shows the term in its own language (``term_label``).

    Foreign keys are in the ReferenceIndex too, but Wagtail updates it from a background task: a page
    that got a cover image a moment ago may not be there yet when the image is deleted. One query.
    """
    translatable = isinstance(obj, TranslatableMixin) and getattr(obj, "translation_key", None)
    queries = []
    for page_model, name in _relations_to(type(obj)):
        manager = page_model._default_manager
        queries.append(manager.filter(**{name: obj.pk}))
        if translatable:
            queries.append(
                manager.filter(locale_id=obj.locale_id, **{f"{name}__translation_key": obj.translation_key})
            )
    if not queries:
        return set()
    first, *rest = (qs.order_by().values_list("pk", flat=True) for qs in queries)
    return set(first.union(*rest))


def term_listing_page_ids(obj) -> set[int]:
    """Listing pages whose filters offer ``obj`` (their ``_terms()`` / ``_categories()`` include it): they
    show its name and publish a sub-route per term (``topic/<slug>/``...)."""
    from .preload import TERM_METHODS

    found: set[int] = set()
    for page_model in get_page_models():
        methods = [m for m in TERM_METHODS if callable(getattr(page_model, m, None))]
        if not methods:
            continue
        for page in page_model._default_manager.all():
            for method in methods:
                result = getattr(page, method)()
                for qs in result if isinstance(result, (tuple, list)) else (result,):
                    if (
                        isinstance(qs, QuerySet) and isinstance(obj, qs.model)
                        and qs.filter(pk=obj.pk).exists()
                    ):
                        found.add(page.pk)
    return found


def plan_for_paths(manifest: Manifest, paths: Iterable[str]) -> Plan:
    """Rebuild the groups that hold these objects (what a killed publish may have overwritten)."""
    plan = Plan()
    paths = [p for p in paths if p in manifest.entries]
    if not paths:
        return plan
    plan.reasons.append(_("重新检查中断的发布可能覆盖的 %(n)d 个文件") % {"n": len(paths)})
    todo, seen = list(paths), set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        entry = manifest.entries[path]
        kind, _sep, ident = entry.group.partition(":")
        if kind in ("page", "feed") and ident.isdigit():
            plan.page_ids.add(int(ident))
            if kind == "feed":
                plan.feed_ids.add(int(ident))
        elif kind == "sitemap" and ident:
            plan.languages.add(ident)
        elif entry.group in SITE_GROUPS:
            plan.site_groups.add(entry.group)
        elif entry.group == REFERENCED_ASSET_GROUP:
            # a shared asset is rebuilt with the pages (or stylesheets) that reference it
            todo += [e.path for e in manifest.entries.values() if path in e.refs]
        else:
            plan.full = True
    return plan


def public_page_ids() -> set[int]:
    return set(public_pages().filter(depth__gt=1).values_list("pk", flat=True))


def withdrawn_groups(manifest_groups: Iterable[str], public: set[int] | None = None) -> set[int]:
    """Page ids with objects in the manifest that are not public any more (or gone)."""
    ids = {int(g.split(":", 1)[1]) for g in manifest_groups if g.startswith(("page:", "feed:"))}
    if not ids:
        return set()
    return ids - (public_page_ids() if public is None else public)


def appeared_pages(manifest_groups: Iterable[str], public: set[int] | None = None) -> set[int]:
    """Public pages with a URL that the manifest doesn't hold (created or published without a signal)."""
    from wagtail.models import Site

    have = {int(g.split(":", 1)[1]) for g in manifest_groups if g.startswith("page:")}
    missing = (public_page_ids() if public is None else public) - have
    if not missing:
        return set()

    class _Req:
        _wagtail_cached_site_root_paths = Site.get_site_root_paths()
        _wagtail_site = None

    out = set()
    for page in Page.objects.filter(pk__in=missing).select_related("locale"):
        if page.get_url_parts(request=_Req()) is not None:
            out.add(page.pk)
    return out


__all__ = [
    "Plan", "PlanBuilder", "full_plan", "withdrawn_groups", "appeared_pages", "plan_for_paths", "related_page_ids",
    "term_listing_page_ids", "SITE_GROUPS",
]
