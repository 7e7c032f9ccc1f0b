"""What the configured publish target does not reflect yet: the ``publish`` consumer of the change feed.

``cms.changes`` records every content change; this module decides what a change means for the static
site (``matters``, ``plan``; ``deploy.tasks`` registers the consumer and enqueues the publish), and
``deploy.service`` asks it what to rebuild (``load`` then ``plan``) and, once the target holds the result, ``acknowledge``s what it consumed. Only a publish to the configured target
consumes changes; a publish anywhere else (``publish_site --to DIR``) leaves them for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.utils.translation import gettext as _

from cms import changes
from cms.models import ContentChange

from .affected import (
    Plan,
    PlanBuilder,
    full_plan,
    referring_page_ids,
    related_page_ids,
    term_listing_page_ids,
)
from .conf import PUBLISH_CONSUMER, publish_setting

CONSUMER = PUBLISH_CONSUMER
Event = ContentChange.Event
#: the events that can change the static site
EVENTS = (
    Event.PUBLISHED, Event.UNPUBLISHED, Event.MOVED, Event.DELETED, Event.RESTRICTION,
    Event.ADDED, Event.CHANGED, Event.REMOVED, Event.FULL,
)


def enabled() -> bool:
    """Editors' changes start a background publish (``SHUYUAN_PUBLISH["AUTO_PUBLISH"]``)."""
    return bool(publish_setting("AUTO_PUBLISH"))


def load(primary: bool) -> tuple[list[ContentChange], int]:
    """The pending changes, oldest first, and the id to acknowledge once they are published ([] and 0
    when not ``primary``: the feed's cursor belongs to the configured target and says nothing about any
    other)."""
    if not primary:
        return [], 0
    rows, upto = changes.pending(CONSUMER)
    return [row for row in rows if matters(row)], upto


def exists() -> bool:
    """Whether the configured target is missing any change."""
    return bool(load(True)[0])


def acknowledge(last_id: int) -> None:
    """The configured target now reflects every change up to ``last_id``."""
    changes.acknowledge(CONSUMER, last_id)


def request_full(reason: str = "", user=None) -> ContentChange | None:
    """Have the next publish to the configured target rebuild the whole site."""
    return changes.request(Event.FULL, consumer=CONSUMER, reason=reason or _("请求全站发布"))


def plan(rows: Iterable[ContentChange]) -> Plan:
    """What these changes make a publish rebuild."""
    builder = PlanBuilder()
    sections = _sections(rows)
    for row in rows:
        if row.content_type.lower() == changes.REDIRECT_MODEL:
            builder.plan.site_groups.add("redirects")  # rebuilt whole: deploy.redirects
            builder.plan.reasons.append(row.reason)
            continue
        if row.event == Event.FULL:
            builder.plan.merge(full_plan(row.reason or _("请求全站发布")))
        elif row.event == Event.REMOVED:
            # the pages that showed it, and listings whose filters offered it (their own group only)
            if row.pages:
                builder.plan.reasons.append(row.reason)
                builder.context_of(row.pages)
            if row.listings:
                builder.listing_changed(row.listings, reason=row.reason)
            continue
        elif row.page_id:
            # moved, restricted, unpublished: the subtree; a section published: its subtree shows it
            subtree = row.event != Event.DELETED and (row.subtree or row.page_id in sections)
            builder.page_changed(int(row.page_id), subtree=subtree, reason=row.reason)
        elif row.content_type:
            obj = _object(row)
            if obj is not None:
                builder.object_changed(obj, reason=row.reason)
        if row.pages:
            builder.context_of(row.pages)
        if builder.plan.full:
            break
    return builder.plan


def remember(obj) -> dict[str, set[int]]:
    """Before an image, document or snippet is deleted: the pages that show it, and the listings whose
    filters offer it (afterwards the relations are gone)."""
    if type(obj) not in _watched_models():
        return {}
    return {
        "pages": referring_page_ids(obj, depth=2) | related_page_ids(obj),
        "listings": term_listing_page_ids(obj),
    }


# -- helpers ------------------------------------------------------------------------------------------
def matters(row: ContentChange) -> bool:
    """Whether the static site may show this change."""
    if row.content_type.lower() == changes.REDIRECT_MODEL:
        return True  # an editor's redirect (deploy.redirects)
    if row.event in (Event.ADDED, Event.CHANGED):
        model = _model(row)
        if model is None or model not in _watched_models():
            return False
        # a new image or document is not used by any page yet; a new term may be (its listings' filters)
        return not (row.event == Event.ADDED and model in _media_models())
    if row.event == Event.REMOVED:
        return bool(row.pages or row.listings)
    return True


def _sections(rows: Iterable[ContentChange]) -> set[int]:
    """The published pages among ``rows`` that have children (their subtree shows them)."""
    from wagtail.models import Page

    ids = {r.page_id for r in rows if r.event == Event.PUBLISHED and r.page_id}
    if not ids:
        return set()
    return set(Page.objects.filter(pk__in=ids, numchild__gt=0).values_list("pk", flat=True))


def _model(row: ContentChange):
    try:
        return apps.get_model(row.content_type)
    except (LookupError, ValueError):
        return None


def _object(row: ContentChange):
    model = _model(row)
    return model._default_manager.filter(pk=row.object_id).first() if model is not None else None


def _media_models() -> set:
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    return {get_image_model(), get_document_model()}


def _watched_models() -> set:
    """Images, documents and snippets: content that pages embed."""
    from wagtail.snippets.models import get_snippet_models

    return _media_models() | set(get_snippet_models())
