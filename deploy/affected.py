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

A paginated listing (a column of 10,000 articles has 500 pages) is not rebuilt whole when one of its
items is edited in place: if the item is listed now, was published before the publishes this plan
covers (its previous publish is older than the oldest pending change), with the same sort fields, no
move, unpublish or restriction since, and was online then (not held by the secrecy review), the listing
holds the same items in the same order and only the route where the item is shown changes (``Plan.routes``). Any
doubt rebuilds the listing whole.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from wagtail.models import Page, ReferenceIndex, TranslatableMixin, get_page_models

from .conf import PUBLISH_CONSUMER, publish_setting
from .feeds import public_pages
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
    #: pages of ``page_ids`` rendered at these sub-routes only (``""``: the page itself), their other
    #: objects kept as published: a listing where an edited item is shown (see the module's docstring)
    routes: dict[int, set[str]] = field(default_factory=dict)

    def groups(self) -> set[str]:
        chunks = self.sitemap_chunks()
        return (
            {page_group(i) for i in self.page_ids if i not in self.routes}
            | {feed_group(i) for i in self.feed_ids}
            | {sitemap_group(code, chunk) for code in self.languages for chunk in chunks | {0}}
            | set(self.site_groups)
        )

    def sitemap_chunks(self) -> set[int]:
        """The sitemap files (``deploy.feeds``: by page id) of ``languages`` that list a page of the plan,
        or that a killed publish may have overwritten. The first (``/<language>/sitemap.xml``) is rebuilt
        with every language in the plan: a site published before sitemaps were split has every page in it."""
        from .feeds import sitemap_chunk_of

        chunks = {sitemap_chunk_of(pk) for pk in self.page_ids}
        for group in self.site_groups:
            kind, _sep, rest = group.partition(":")
            if kind == "sitemap":
                chunks.add(int(rest.rpartition(":")[2] or 0) if rest.count(":") else 0)
        return chunks

    @property
    def is_empty(self) -> bool:
        return not self.full and not self.groups() and not self.routes

    def merge(self, other: Plan) -> None:
        self.full |= other.full
        whole = (self.page_ids - self.routes.keys()) | (other.page_ids - other.routes.keys())
        self.routes = {
            pk: self.routes.get(pk, set()) | other.routes.get(pk, set())
            for pk in self.routes.keys() | other.routes.keys()
            if pk not in whole
        }
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
        self._whole_ids: set[int] = set()
        self._baseline = None  # (when the oldest pending change was made,) once looked up

    def _whole(self, ids: Iterable[int]) -> None:
        """Rebuild these pages' groups whole (whatever routes were planned for them)."""
        ids = set(ids)
        self.plan.page_ids |= ids
        self._whole_ids |= ids
        for pk in ids:
            self.plan.routes.pop(pk, None)

    def _partial(self, pk: int, routes: set[str]) -> None:
        if pk not in self._whole_ids:
            self.plan.page_ids.add(pk)
            self.plan.routes.setdefault(pk, set()).update(routes)

    def page_changed(self, page_id: int, *, subtree: bool = False, reason: str = "") -> None:
        """``pages_changed`` for one page; with ``subtree`` (moved, restricted, unpublished), also the
        groups of all its descendants and the pages that refer to one of them (their URLs may have
        changed). A bounded number of queries, whatever the size of the subtree."""
        if reason:
            self.plan.reasons.append(reason)
        wide = int(publish_setting("SITE_WIDE_DEPTH"))
        rows = self._many([page_id], full_from_depth=wide, edited=not subtree)
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
        self._whole(descendants)
        self.plan.feed_ids |= descendants
        # their URLs may have changed: pages linking to them show the new ones
        self._whole(_pages_referring_to_pages(descendants))

    def context_of(self, page_ids: Iterable[int]) -> None:
        """Rebuild these pages and what shows them (e.g. the old parent of a moved page)."""
        self._many(page_ids, full_from_depth=None)

    def pages_changed(self, page_ids: Iterable[int], reason: str = "") -> None:
        """``page_changed`` (without subtrees) for many pages at once, in a few queries."""
        if reason:
            self.plan.reasons.append(reason)
        self._many(page_ids, full_from_depth=int(publish_setting("SITE_WIDE_DEPTH")))

    def _many(self, page_ids: Iterable[int], *, full_from_depth: int | None, edited: bool = False) -> list[tuple]:
        """Rebuild these pages and their context: ancestors, translations, pages referring to them.
        ``edited``: the pages were published in place (not moved, restricted or withdrawn), so a listing
        that shows them may only need the route where they are shown (``_listed_at``).
        Returns the pages' rows (pk, path, depth, translation_key, language code); none for deleted pages."""
        ids = {int(i) for i in page_ids}
        if not ids:
            return []
        self._whole(ids)
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
        listed_at = self._listed_at(rows) if edited else {}
        for anc in Page.objects.filter(path__in=ancestors).values_list("pk", flat=True):
            self.plan.feed_ids.add(anc)
            if listed_at.get(anc):
                self._partial(anc, listed_at[anc])
            else:
                self._whole([anc])
        keys = {r[3] for r in rows if r[3]}
        if keys:
            for pk, code in (
                Page.objects.filter(translation_key__in=keys).exclude(pk__in=ids)
                .values_list("pk", "locale__language_code")
            ):
                self._whole([pk])
                self.plan.languages.add(code)
        self._whole(_pages_referring_to_pages({r[0] for r in rows}))
        return loaded

    # -- listings where an edited page is shown -----------------------------------------------------------
    def _listed_at(self, rows: list[tuple]) -> dict[int, set[str] | None]:
        """{parent id: the routes of the parent's listing that show these pages}, for the parents whose
        listing keeps the same items in the same order; None (rebuild whole) for any doubt."""
        by_parent: dict[str, list[int]] = {}
        for pk, path, _depth, _key, _language in rows:
            by_parent.setdefault(path[: -Page.steplen], []).append(pk)
        out: dict[int, set[str] | None] = {}
        for parent in Page.objects.filter(path__in=list(by_parent)).specific():
            routes: set[str] | None = set()
            for pk in by_parent[parent.path]:
                route = self._listing_route(parent, pk)
                if route is None:
                    routes = None
                    break
                routes.add(route)
            out[parent.pk] = routes
        return out

    def _listing_route(self, parent: Page, pk: int) -> str | None:
        """The route of ``parent``'s paginated listing that shows page ``pk``, if nothing but that route
        can have changed; None otherwise."""
        articles = getattr(parent, "articles", None)
        static_routes = getattr(parent, "static_routes", None)
        if not (callable(articles) and callable(static_routes)):
            return None
        routes = list(static_routes(None))
        if not all(_PAGINATION_ROUTE.fullmatch(r) for r in routes):
            return None  # filtered listings (terms, provinces) show an item on several routes
        listing = articles(None)
        sort_fields = [f.lstrip("-") for f in listing.query.order_by]
        if not sort_fields or not self._unchanged_since_baseline(pk, sort_fields):
            return None
        from cms.models.pages import PAGE_SIZE

        index = _position_in(listing, pk, PAGE_SIZE)
        if index is None:
            return None  # not listed now: the listing's items changed
        number = index // PAGE_SIZE + 1
        route = "" if number == 1 else f"page/{number}/"
        return route if route == "" or route in routes else None

    def _baseline_time(self):
        """When the oldest change this publish covers was made (None: no pending change, so no baseline)."""
        if self._baseline is None:
            from cms.models import ContentChange
            from cms.models.changes import ChangeCursor

            position, gaps = ChangeCursor.objects.filter(consumer=PUBLISH_CONSUMER).values_list("position", "gaps").first() or (
                0, []
            )
            after = Q(pk__gt=position or 0) | Q(pk__in=[int(g[0]) for g in gaps or []])
            oldest = ContentChange.objects.filter(after).order_by("created_at").values_list("created_at", flat=True)
            self._baseline = (oldest.first(),)
        return self._baseline[0]

    def _unchanged_since_baseline(self, pk: int, sort_fields: list[str]) -> bool:
        """Page ``pk`` was published before the changes this publish covers, and since then only
        published again (edits, renames, workflow steps) with the same values of ``sort_fields``, and
        that earlier revision was not held by the secrecy review."""
        from wagtail.models import PageLogEntry, Revision

        from cms.secrecy.models import SecrecyReview

        baseline = self._baseline_time()
        if baseline is None:
            return False
        live_revision = Page.objects.filter(pk=pk).values_list("live_revision_id", flat=True).first()
        before = None
        for action, revision_id, when in (
            PageLogEntry.objects.filter(page_id=pk).order_by("-timestamp", "-pk")
            .values_list("action", "revision_id", "timestamp")[:200]
        ):
            # (the publish being planned has the live revision, whichever of its log entry and its
            # change was written first)
            if when < baseline and action == "wagtail.publish" and revision_id and revision_id != live_revision:
                before = revision_id
                break
            if not action.startswith(_IN_PLACE_ACTIONS):
                return False
        if before is None or live_revision is None:
            return False
        contents = dict(Revision.objects.filter(pk__in=[before, live_revision]).values_list("pk", "content"))
        old, new = contents.get(before), contents.get(live_revision)
        if old is None or new is None:
            return False
        fields = [f for f in sort_fields if f != "first_published_at"]  # set once, at the first publish
        if any(f not in old or f not in new or old[f] != new[f] for f in fields):
            return False
        # online before the changes this publish covers (a hold cleared since changes the listing)
        review = SecrecyReview.objects.filter(page_id=pk, revision_id=before).order_by("-pk").first()
        return review is not None and not review.held and review.online_at is not None and review.online_at < baseline

    def listing_changed(self, page_ids: Iterable[int], reason: str = "") -> None:
        """Pages whose filters list a term that changed: rebuild their own group (every sub-route)."""
        self._whole(int(i) for i in page_ids)
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


#: the routes of a listing that is paginated only (``page/<n>/``)
_PAGINATION_ROUTE = re.compile(r"page/[0-9]+/")


def _position_in(listing: QuerySet, pk: int, page_size: int) -> int | None:
    """Where page ``pk`` stands in ``listing`` (its index in the listing's order), None if not listed.

    Proportional to one page of the listing, not to the listing: the items sorted strictly before it
    are counted from its own sort values (one aggregate query), and the listing page at that position
    is read (``page_size`` rows) to confirm it is there, as the database orders it. Ties on every sort
    field, a null sort value or a confirmation that fails fall back to reading every id in order."""
    fields = [(f.lstrip("-"), f.startswith("-")) for f in listing.query.order_by]
    if not fields:
        return None
    values = listing.filter(pk=pk).values_list(*[name for name, _desc in fields]).first()
    if values is None:
        return None  # not in the listing
    if all(v is not None for v in values):
        before = Q(pk__in=[])
        for i, (name, desc) in enumerate(fields):
            equal = Q(**{n: v for (n, _d), v in zip(fields[:i], values[:i], strict=True)})
            before |= equal & Q(**{f"{name}__{'gt' if desc else 'lt'}": values[i]})
        # a null sort value sorts before or after the others depending on the database: none in the way
        nulls = Q()
        for name, _desc in fields:
            nulls |= Q(**{f"{name}__isnull": True})
        if not listing.filter(nulls).exists():
            index = listing.filter(before).count()
            start = index - index % page_size
            window = list(listing[start : start + page_size].values_list("pk", flat=True))
            if pk in window:
                return start + window.index(pk)
    ids = list(listing.values_list("pk", flat=True))
    try:
        return ids.index(pk)
    except ValueError:
        return None
#: what the page log records for a page published in place (anything else, e.g. a move, an unpublish or a
#: view restriction, may change which listings show it, or where)
_IN_PLACE_ACTIONS = ("wagtail.publish", "wagtail.rename", "wagtail.edit", "wagtail.revert", "wagtail.lock",
                     "wagtail.unlock", "wagtail.workflow.", "wagtail.comments.", "wagtail.create")


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
            language, _sep, chunk = ident.partition(":")
            plan.languages.add(language)
            plan.site_groups.add(sitemap_group(language, int(chunk or 0)))
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
