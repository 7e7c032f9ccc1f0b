"""The change feed: every content event becomes one ``ContentChange`` row, in the editor's transaction.

This module is the one listener for content events. It decides what counts as a content change and
writes one outbox row per change in the transaction that makes it (a rolled-back edit leaves no row and
notifies nobody); what had to be known at that moment (the ancestors of a deleted page, the old parent
of a moved one, the pages that showed a deleted object) is stored in the row.

Consumers register from their app's ``ready()`` and decide what each event means for them:

* ``publish`` (``deploy``): rebuilds what changed on the static site;
* ``search``: re-indexes pages; while the engine is unreachable its cursor stays put, and catching up
  later replays everything (an outage loses nothing);
* ``api``: an *immediate* consumer, told of every change inside the transaction (the API's content
  version moves, and rolls back, with the data it describes).

A consumer with a cursor (``ChangeCursor``) reads ``pending(name)``, does its work and
``acknowledge``s what it did; once the transaction commits every enabled consumer is ``notify``'d with
the rows it cares about (its notify enqueues its background job). Rows every consumer has passed are
pruned.

Events: a page published, unpublished (by an editor or by its expiry), moved or deleted; a page row
saved outside a publish (not a draft save: see ``DRAFT_ONLY_FIELDS``), including the rows that belong
to a page (its tags, attachments); a view restriction saved, deleted or given other groups; an image,
document, snippet (taxonomy term) or tag added, changed or deleted; a search dictionary entry; a site
or locale. Translations are pages and snippets like any other: creating and syncing one sends these
events.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import Max, Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils.translation import gettext as _

from cms.models.changes import ChangeCursor, ContentChange

logger = logging.getLogger("shuyuan.changes")
Event = ContentChange.Event
_UID = "shuyuan-changes-"

#: What Wagtail writes to a page's row when an editor saves a draft, comments, or locks the page
#: (``save_revision``, ``lock``): the live version is unchanged, so none of these is a content change.
DRAFT_ONLY_FIELDS = frozenset(
    {
        "latest_revision",
        "latest_revision_created_at",
        "draft_title",
        "has_unpublished_changes",
        "wagtail_admin_comments",
        "locked",
        "locked_at",
        "locked_by",
    }
)
#: apps whose rows are content (pages and what belongs to them, taxonomies, images, documents, tags)
CONTENT_APPS = frozenset({"cms", "media", "taggit"})
RESTRICTION_MODEL = "wagtailcore.pageviewrestriction"
SITE_MODELS = frozenset({"wagtailcore.site", "wagtailcore.locale"})
DICTIONARY_MODEL = "search.dictionaryentry"
#: editors' redirects (wagtail.contrib.redirects): the static site publishes those the public may follow
REDIRECT_MODEL = "wagtailredirects.redirect"
#: events that replace an earlier "page saved" row of the same page in the same transaction
_PAGE_EVENTS = frozenset({Event.PUBLISHED, Event.UNPUBLISHED, Event.MOVED, Event.DELETED})


# -- consumers ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Consumer:
    name: str
    #: called with the rows of a committed transaction that this consumer cares about (immediate
    #: consumers: with each row, inside the transaction)
    notify: Callable[[list[ContentChange]], None]
    events: frozenset[str] | None = None  # None: every event
    enabled: Callable[[], bool] = field(default=lambda: True)
    immediate: bool = False
    #: called before an object is deleted; returns {"pages": ids, "listings": ids} it needs later
    remember: Callable[[Any], dict[str, Iterable[int]]] | None = None

    def wants(self, row: ContentChange) -> bool:
        return (self.events is None or row.event in self.events) and row.consumer in ("", self.name)


_consumers: dict[str, Consumer] = {}


def register(
    name: str,
    notify: Callable[[list[ContentChange]], None],
    *,
    events: Iterable[str] | None = None,
    enabled: Callable[[], bool] | None = None,
    immediate: bool = False,
    remember: Callable[[Any], dict[str, Iterable[int]]] | None = None,
) -> None:
    """Register a consumer (from its app's ``AppConfig.ready``). ``immediate`` consumers keep no cursor."""
    _consumers[name] = Consumer(
        name=name,
        notify=notify,
        events=frozenset(events) if events is not None else None,
        enabled=enabled or (lambda: True),
        immediate=immediate,
        remember=remember,
    )


def consumer(name: str) -> Consumer:
    try:
        return _consumers[name]
    except KeyError:
        raise LookupError(f"no change-feed consumer named {name!r} is registered") from None


class Position(int):
    """The id to acknowledge after reading the feed, remembering which lower ids were missing then
    (not committed yet, or rolled back): ``acknowledge`` keeps those as the cursor's gaps."""

    missing: tuple[int, ...] = ()

    def __new__(cls, value: int, missing: Iterable[int] = ()):
        obj = super().__new__(cls, value)
        obj.missing = tuple(sorted(missing))
        return obj


class Pending(NamedTuple):
    changes: list[ContentChange]
    #: the id of the last change read: acknowledge it once they are done
    upto: Position


#: seconds a missing id is looked for again before it is taken for rolled back
GAP_TTL = 3600
#: at most this many missing ids are remembered per consumer (the oldest are dropped first)
MAX_GAPS = 5000


def _cursor(name: str) -> tuple[int, dict[int, float]]:
    row = ChangeCursor.objects.filter(consumer=name).values_list("position", "gaps").first()
    if row is None:
        return 0, {}
    return row[0] or 0, {int(i): float(t) for i, t in (row[1] or [])}


def position(name: str) -> int:
    return _cursor(name)[0]


def _pending_qs(name: str, pos: int, gaps: Iterable[int] = ()):
    c = consumer(name)
    after = Q(pk__gt=pos)
    gap_ids = list(gaps)
    if gap_ids:
        after |= Q(pk__in=gap_ids)
    qs = ContentChange.objects.filter(after, consumer__in=["", name])
    if c.events is not None:
        qs = qs.filter(event__in=c.events)
    return qs.order_by("id")


def pending(name: str, limit: int | None = None) -> Pending:
    """The changes after ``name``'s cursor that it cares about, oldest first (at most ``limit``), with
    the ids its cursor skipped that have been committed since (see ``ChangeCursor.gaps``)."""
    _stop_merging()
    pos, gaps = _cursor(name)
    qs = _pending_qs(name, pos, gaps)
    rows = list(qs[:limit] if limit else qs)
    upto = max([pos, *(row.pk for row in rows)])
    if upto > pos:
        # ids between the cursor and what was read that no transaction has committed (yet)
        present = set(ContentChange.objects.filter(pk__gt=pos, pk__lte=upto).values_list("pk", flat=True))
        missing = set(range(pos + 1, upto + 1)) - present
    else:
        missing = set()
    found = {row.pk for row in rows}
    missing |= {g for g in gaps if g not in found}
    return Pending(rows, Position(upto, missing))


def backlog(name: str) -> int:
    """How many changes ``name`` has still to do."""
    pos, gaps = _cursor(name)
    return _pending_qs(name, pos, gaps).count()


def latest() -> int:
    """The id of the newest change (a consumer that redid everything acknowledges up to it)."""
    return ContentChange.objects.aggregate(m=Max("id"))["m"] or 0


def acknowledge(name: str, upto_id: int) -> None:
    """Every change up to ``upto_id`` is done for ``name`` (the cursor never moves back). Given the
    ``Position`` that ``pending`` returned, the ids missing when it read are looked for again later."""
    consumer(name)
    if not upto_id:
        return
    _stop_merging()
    now = time.time()
    pos, old_gaps = _cursor(name)
    missing = getattr(upto_id, "missing", ())
    gaps = {i: old_gaps.get(i, now) for i in missing if now - old_gaps.get(i, now) < GAP_TTL}
    kept = sorted(gaps.items())[-MAX_GAPS:]
    ChangeCursor.objects.update_or_create(
        consumer=name, defaults={"position": max(pos, int(upto_id)), "gaps": [[i, t] for i, t in kept]}
    )
    prune()


def prune() -> int:
    """Delete the changes that every enabled consumer with a cursor has passed. Returns how many."""
    names = [c.name for c in _consumers.values() if not c.immediate and c.enabled()]
    if not names:
        return 0
    cursors = list(ChangeCursor.objects.filter(consumer__in=names).values_list("position", "gaps"))
    if len(cursors) < len(names):
        return 0  # a consumer that has never acknowledged anything still needs every row
    upto = min(pos for pos, _gaps in cursors)
    waiting = {int(i) for _pos, gaps in cursors for i, _t in (gaps or [])}
    deleted, _ = ContentChange.objects.filter(pk__lte=upto).exclude(pk__in=waiting).delete()
    return deleted


# -- recording ----------------------------------------------------------------------------------------
class _Batch:
    """The rows the current transaction wrote per page, which a later change of the page may merge with."""

    def __init__(self, hooks: list | None = None) -> None:
        self.page_rows: dict[int, ContentChange] = {}
        #: the connection's list of commit callbacks when the batch began: Django replaces it when a
        #: transaction commits or rolls back (or a savepoint rolls back), which ends the batch
        self.hooks = hooks
        #: committed: the next transaction starts a new batch
        self.done = False


_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batch() -> _Batch:
    connection = transaction.get_connection()
    batch = _batches.get(connection)
    if (
        batch is None or batch.done or not connection.in_atomic_block
        or batch.hooks is not connection.run_on_commit
    ):
        batch = _batches[connection] = _Batch(connection.run_on_commit)
    return batch


def _stop_merging() -> None:
    """A consumer read or passed the feed inside the current transaction (a command, a test): no later
    change may merge into a row it has seen."""
    _batch().page_rows.clear()


def new_batch() -> None:
    """Start a new batch as if a transaction had just committed: for code that never commits (a test
    inside one transaction) and wants what follows to be recorded as the next transaction's changes."""
    _batch().done = True


def record(
    event: str,
    *,
    page_id: int | None = None,
    subtree: bool = False,
    obj=None,
    pages: Iterable[int] = (),
    listings: Iterable[int] = (),
    consumer: str = "",
    reason: str = "",
) -> ContentChange | None:
    """Write one change (or merge it with this transaction's earlier row for the same page) and tell
    immediate consumers; the others are notified once the transaction commits. Returns the row written."""
    batch = _batch()
    row = None
    earlier = batch.page_rows.get(page_id) if page_id else None
    fields = {
        "event": event,
        "page_id": page_id,
        "subtree": subtree,
        "content_type": obj._meta.label if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None and obj.pk is not None else "",
        "pages": sorted({int(p) for p in pages if p}),
        "listings": sorted({int(p) for p in listings if p}),
        "consumer": consumer,
        "reason": reason[:200],
    }
    if event == Event.PAGE_SAVED and earlier:
        pass  # the page already has a row in this transaction: consumers re-read the page anyway
    elif event in _PAGE_EVENTS and earlier and earlier.event == Event.PAGE_SAVED:
        # the page's "saved" row becomes this change: same id (no gap in the feed); whichever of its
        # commit callbacks runs first notifies (see ``_committed``)
        for name, value in fields.items():
            setattr(earlier, name, value)
        earlier.save(update_fields=list(fields))
        row = earlier
        transaction.on_commit(lambda: _committed(batch, row))
    else:
        row = ContentChange.objects.create(**fields)
        if page_id:
            batch.page_rows[page_id] = row
        # a savepoint rolled back drops this callback with the row: nobody hears of a change undone
        transaction.on_commit(lambda: _committed(batch, row))
    for c in _consumers.values():
        if c.immediate and c.enabled() and (row is None or c.wants(row)):
            c.notify([row] if row is not None else [])
    return row


def _committed(batch: _Batch, row: ContentChange) -> None:
    """After commit: notify every enabled consumer that cares about this change."""
    batch.done = True
    if getattr(row, "_feed_notified", False):
        return  # a merged row has two callbacks: one notification
    row._feed_notified = True
    for c in _consumers.values():
        if not c.immediate and c.enabled() and c.wants(row):
            c.notify([row])


def request(event: str, *, consumer: str = "", reason: str = "") -> ContentChange | None:
    """A change no signal reports (``FULL``: rebuild everything), for one consumer or for all."""
    return record(event, consumer=consumer, reason=reason)


# -- what counts as a content change ------------------------------------------------------------------
def _label(model) -> str:
    return model._meta.label_lower


def _is_feed_model(model) -> bool:
    return model in (ContentChange, ChangeCursor)


def _page_of(instance) -> int | None:
    """The page a row belongs to (its ``ParentalKey``: tags, attachments), if any."""
    from modelcluster.fields import ParentalKey
    from wagtail.models import Page

    for f in instance._meta.concrete_fields:
        if isinstance(f, ParentalKey) and isinstance(f.related_model, type) and issubclass(f.related_model, Page):
            return getattr(instance, f.attname)
    return None


def _object_change(model, instance, event: str, **extra) -> None:
    """Record a change to a non-page row, if it is content."""
    from wagtail.images.models import AbstractRendition
    from wagtail.models import Page

    label = _label(model)
    if model.__module__ == "__fake__" or _is_feed_model(model):
        return  # a migration's historical model (the feed's table may not exist yet), or the feed itself
    if issubclass(model, Page):
        if type(instance) is Page and event == Event.REMOVED:
            _page_deleted(instance)
        return
    if label == RESTRICTION_MODEL:
        record(Event.RESTRICTION, page_id=instance.page_id, subtree=True, reason=_("访问限制已修改"))
    elif label in SITE_MODELS:
        record(Event.SITE, obj=instance, reason=_("修改%(kind)s《%(name)s》") % {"kind": model._meta.verbose_name, "name": instance})
    elif label == DICTIONARY_MODEL:
        record(Event.DICTIONARY, obj=instance, reason=_("修改词典《%(name)s》") % {"name": instance})
    elif label == REDIRECT_MODEL:
        verb = {Event.ADDED: _("新增"), Event.CHANGED: _("修改"), Event.REMOVED: _("删除")}[event]
        record(event, obj=instance, reason=_("%(verb)s重定向 %(path)s") % {"verb": verb, "path": instance.old_path})
    elif model._meta.app_label in CONTENT_APPS and not issubclass(model, AbstractRendition):
        page_id = _page_of(instance)
        if page_id:
            record(Event.PAGE_SAVED, page_id=page_id, reason=_("修改页面 %(page)s 的%(kind)s") % {"kind": model._meta.verbose_name, "page": page_id})
        else:
            verb = {Event.ADDED: _("新增"), Event.CHANGED: _("修改"), Event.REMOVED: _("删除")}[event]
            reason = _("%(verb)s%(kind)s《%(name)s》") % {"verb": verb, "kind": model._meta.verbose_name, "name": instance}
            record(event, obj=instance, reason=reason, **extra)


def _page_deleted(page) -> None:
    step = page.steplen
    from wagtail.models import Page

    paths = [page.path[:i] for i in range(step * 2, len(page.path), step)]
    ancestors = Page.objects.filter(path__in=paths).values_list("pk", flat=True)
    record(Event.DELETED, page_id=page.pk, pages=ancestors, reason=_("删除《%(title)s》") % {"title": page.title})


def on_pre_save(sender, instance, raw=False, **kwargs):
    """Note whether a section was visible before this save: publishing a section that was unpublished
    or expired makes its whole subtree visible again."""
    from wagtail.models import Page

    if isinstance(instance, Page) and instance.pk and instance.numchild and not raw:
        was = Page.objects.filter(pk=instance.pk).values_list("live", "expired").first()
        instance._change_was_visible = bool(was and was[0] and not was[1])


def on_saved(sender, instance, created=False, update_fields=None, **kwargs):
    from wagtail.models import Page

    if isinstance(instance, Page):
        if sender.__module__ == "__fake__":
            return
        if update_fields and set(update_fields) <= DRAFT_ONLY_FIELDS:
            return  # a draft saved (or the page locked): the live version is unchanged
        record(Event.PAGE_SAVED, page_id=instance.pk, reason=_("保存页面《%(title)s》") % {"title": instance.title})
    else:
        _object_change(sender, instance, Event.ADDED if created else Event.CHANGED)


def on_deleting(sender, instance, **kwargs):
    """Before a delete: afterwards the relations are gone (many-to-many rows deleted, foreign keys set
    to NULL) and nothing tells which pages showed the object. Consumers say what they need to remember."""
    if sender.__module__ == "__fake__" or _is_feed_model(sender):
        return
    remembered: dict[str, set[int]] = {"pages": set(), "listings": set()}
    for c in _consumers.values():
        if c.remember is not None and c.enabled():
            for key, ids in (c.remember(instance) or {}).items():
                remembered.setdefault(key, set()).update(ids)
    instance._change_remembered = remembered


def on_deleted(sender, instance, **kwargs):
    remembered = getattr(instance, "_change_remembered", None) or {}
    _object_change(
        sender, instance, Event.REMOVED, pages=remembered.get("pages", ()), listings=remembered.get("listings", ())
    )


def on_m2m_changed(sender, instance, action, model=None, pk_set=None, reverse=False, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from wagtail.models import Page

    if isinstance(instance, Page):
        record(Event.PAGE_SAVED, page_id=instance.pk, reason=_("修改页面《%(title)s》的关联") % {"title": instance.title})
    elif _label(type(instance)) == RESTRICTION_MODEL or not reverse:
        _object_change(type(instance), instance, Event.CHANGED)
    elif model is not None and pk_set:
        for other in model._default_manager.filter(pk__in=pk_set):
            _object_change(model, other, Event.CHANGED)


def on_published(sender, instance, **kwargs):
    # A section that was not visible before (or whose earlier state is unknown), or a copy whose publish
    # may complete its translation (cms.visibility hides untranslated copies): its subtree reappears.
    from cms.translation import completes_translation

    reappeared = bool(instance.numchild) and (
        not getattr(instance, "_change_was_visible", False) or completes_translation(instance)
    )
    record(Event.PUBLISHED, page_id=instance.pk, subtree=reappeared, reason=_("发布《%(title)s》") % {"title": instance.title})


def on_unpublished(sender, instance, **kwargs):
    # An unpublished or expired page hides everything below it (cms.visibility)
    record(Event.UNPUBLISHED, page_id=instance.pk, subtree=True, reason=_("取消发布《%(title)s》") % {"title": instance.title})


def on_moved(sender, instance, parent_page_before=None, **kwargs):
    record(
        Event.MOVED,
        page_id=instance.pk,
        subtree=True,
        pages=[parent_page_before.pk] if parent_page_before is not None else [],
        reason=_("移动《%(title)s》") % {"title": instance.title},
    )


def connect() -> None:
    """Connect the feed's receivers (``CmsConfig.ready``)."""
    from wagtail.signals import page_published, page_unpublished, post_page_move

    page_published.connect(on_published, dispatch_uid=_UID + "published")
    page_unpublished.connect(on_unpublished, dispatch_uid=_UID + "unpublished")
    post_page_move.connect(on_moved, dispatch_uid=_UID + "moved")
    pre_save.connect(on_pre_save, dispatch_uid=_UID + "pre-save")
    post_save.connect(on_saved, dispatch_uid=_UID + "saved")
    pre_delete.connect(on_deleting, dispatch_uid=_UID + "deleting")
    post_delete.connect(on_deleted, dispatch_uid=_UID + "deleted")
    m2m_changed.connect(on_m2m_changed, dispatch_uid=_UID + "m2m")
