"""What a change affects: the groups of objects a publish must rebuild.

A group is rebuilt as a unit (see ``deploy.manifest``). For a changed page that is the page with its
sub-routes, its ancestors (their listings, pagination and home-page teasers show it), its translations
(their language switcher links to it), the pages that reference it (Wagtail's ReferenceIndex), the
feeds of the columns above it and the sitemap of its language. Moves, restriction changes and
unpublishing affect the whole subtree. Pages high in the tree (home pages, top-level columns) appear in
every page's header and menu, so changing them rebuilds the whole site.

Independently of what signals reported, every incremental publish also rebuilds the groups of pages
that are in the manifest but no longer public (or no longer exist): whatever went wrong elsewhere, a
withdrawn page never stays published.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from wagtail.models import Page, ReferenceIndex

from cms.visibility import public_pages

from .conf import publish_setting
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


def full_plan(reason: str = "full") -> Plan:
    return Plan(full=True, reasons=[reason])


class PlanBuilder:
    """Accumulates affected groups for a batch of changes."""

    def __init__(self) -> None:
        self.plan = Plan()
        self._seen_pages: set[int] = set()

    def page_changed(self, page_id: int, *, subtree: bool = False, reason: str = "") -> None:
        page = Page.objects.filter(pk=page_id).select_related("locale").first()
        self.plan.page_ids.add(page_id)
        self.plan.feed_ids.add(page_id)
        if reason:
            self.plan.reasons.append(reason)
        if page is None:
            return  # deleted: its groups go; ancestors arrive through also_pages
        if page.depth <= int(publish_setting("SITE_WIDE_DEPTH")):
            self.plan.full = True
            self.plan.reasons.append(f"page {page_id} appears on every page")
            return
        self._with_context(page)
        if subtree:
            descendants = list(Page.objects.descendant_of(page))
            if len(descendants) > 500:
                self.plan.full = True
                self.plan.reasons.append(f"page {page_id} moved or changed with {len(descendants)} descendants")
                return
            for d in descendants:
                self.plan.page_ids.add(d.pk)
                self.plan.feed_ids.add(d.pk)
                # their URLs may have changed: pages linking to them show the new ones
                self.plan.page_ids |= referring_page_ids(d)

    def _with_context(self, page: Page) -> None:
        if page.pk in self._seen_pages:
            return
        self._seen_pages.add(page.pk)
        self.plan.languages.add(page.locale.language_code)
        for anc in page.get_ancestors().filter(depth__gt=1).values_list("pk", flat=True):
            self.plan.page_ids.add(anc)
            self.plan.feed_ids.add(anc)
        if page.translation_key:
            for t in Page.objects.filter(translation_key=page.translation_key).exclude(pk=page.pk).select_related("locale"):
                self.plan.page_ids.add(t.pk)
                self.plan.languages.add(t.locale.language_code)
        self.plan.page_ids |= referring_page_ids(page)

    def context_of(self, page_ids: Iterable[int]) -> None:
        """Rebuild these pages and what shows them (e.g. the old parent of a moved page)."""
        for page in Page.objects.filter(pk__in=list(page_ids)).select_related("locale"):
            self.plan.page_ids.add(page.pk)
            self.plan.feed_ids.add(page.pk)
            if page.depth <= int(publish_setting("SITE_WIDE_DEPTH")) - 1:
                continue  # the home page: itself only (its own change is what triggers a full build)
            self._with_context(page)

    def object_changed(self, obj, reason: str = "") -> None:
        """An image, document or snippet changed: rebuild the pages that use it."""
        for pid in referring_page_ids(obj, depth=2):
            self.page_changed(pid, reason=reason)
        # listings filtered by this object (e.g. a topic) sit above the pages that use it: covered.
        self.plan.reasons.append(reason)


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


__all__ = ["Plan", "PlanBuilder", "full_plan", "withdrawn_groups", "appeared_pages", "SITE_GROUPS"]
