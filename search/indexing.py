"""Index maintenance services: called by the background jobs, the management command and tests.

The index follows the change feed (``cms.changes``) as its ``search`` consumer: :func:`catch_up` turns
the changes after the consumer's cursor into pages to index or drop and moves the cursor only once the
engine took them. While the engine is unreachable the cursor stays put, and a later catch-up replays
everything, so an Elasticsearch outage loses nothing. These services never enqueue jobs (``search.tasks``
does, and calls them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from wagtail.models import Page

from cms import changes
from cms.models import ContentChange
from search.backends.base import Progress
from search.documents import (
    document_id,
    expected_ids,
    file_document_id,
    files_to_documents,
    iter_documents,
    page_to_document,
)
from search.loader import get_search_backend

logger = logging.getLogger("shuyuan.search")


@dataclass
class CheckReport:
    healthy: bool
    engine: str
    detail: str
    indexed: int | None
    expected: int
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    pending: int = 0  # changes the index has still to follow (the search consumer's backlog)
    vectors: int | None = None  # documents with a re-ranking vector; None when re-ranking is off

    @property
    def ok(self) -> bool:
        return self.healthy and not self.missing and not self.stale and not self.pending


def affected_page_ids(page_ids: Iterable[int], *, descendants: bool = True) -> list[int]:
    """The pages themselves and (for privacy or move changes) every page below them."""
    ids = set(page_ids)
    if descendants:
        for page in Page.objects.filter(pk__in=list(ids)):
            ids.update(Page.objects.descendant_of(page).values_list("pk", flat=True))
    return sorted(ids)


def update_pages(page_ids: Iterable[int], *, descendants: bool = False) -> tuple[int, int]:
    """Bring the index in line with these pages: index live ones, delete the rest.  Returns (indexed, deleted).

    Raises ``SearchUnavailable`` when the engine cannot be reached (nothing is recorded as done)."""
    return _write(affected_page_ids(page_ids, descendants=descendants))


def update_files(file_ids: Iterable[int]) -> tuple[int, int]:
    """Bring the index in line with these library documents (their own search documents: indexed at
    their effective audience, dropped when deleted or without text). Returns (indexed, deleted)."""
    return _write((), file_ids)


def _write(ids: Iterable[int], file_ids: Iterable[int] = ()) -> tuple[int, int]:
    ids = list(ids)
    pages = {p.pk: p for p in Page.objects.filter(pk__in=ids).specific()} if ids else {}
    docs, gone = [], []
    for pk in ids:
        page = pages.get(pk)
        doc = page_to_document(page) if page is not None else None
        if doc is None:
            gone.append(document_id(pk))
        else:
            docs.append(doc)
    file_docs, file_gone = _file_documents(file_ids)
    docs += file_docs
    gone += file_gone
    backend = get_search_backend()
    if docs:
        backend.index(docs)
    if gone:
        backend.delete(gone)
    update_vectors(backend, docs, gone)
    return len(docs), len(gone)


def _file_documents(file_ids: Iterable[int]) -> tuple[list, list[str]]:
    """(search documents, ids to drop) of these library documents; a deleted one is dropped."""
    from wagtail.documents import get_document_model

    wanted = sorted(set(file_ids))
    if not wanted:
        return [], []
    files = list(get_document_model().objects.filter(pk__in=wanted).order_by("pk"))
    docs, gone = files_to_documents(files)
    present = {f.pk for f in files}
    gone += [file_document_id(pk) for pk in wanted if pk not in present]
    return docs, gone


def update_vectors(backend, docs: list, gone: list[str]) -> None:
    """Keep the re-ranker's vectors in step with an index write (inside the same background job).

    The word index is already written: a model failure is logged and leaves those documents
    ranked by words alone until ``search_index vectors`` runs, instead of failing the job."""
    reranker = backend.reranker
    if reranker is None:
        return
    try:
        if docs:
            reranker.embed(docs)
        if gone:
            reranker.forget(gone)
    except (RuntimeError, OSError, ValueError) as exc:
        logger.warning("search: vectors not updated for %d document(s): %s", len(docs) + len(gone), exc)


def embed_vectors(progress: Progress | None = None) -> tuple[int, int]:
    """Compute the missing or out-of-date vectors of every indexed document and drop those of
    documents no longer indexed.  Resumable: a re-run embeds only what is still missing.
    Returns (embedded, pruned); (0, 0) when re-ranking is off."""
    reranker = get_search_backend().reranker
    if reranker is None:
        return 0, 0
    expected = expected_ids()
    embedded = reranker.embed(iter_documents(), progress=progress, total=len(expected))
    return embedded, reranker.prune(expected)


# -- following the change feed -------------------------------------------------------------------------
CONSUMER = "search"
Event = ContentChange.Event
#: the changes that can alter the index (images, snippets and tags among ADDED/CHANGED/REMOVED are ignored)
EVENTS = (
    Event.PUBLISHED, Event.UNPUBLISHED, Event.MOVED, Event.DELETED, Event.PAGE_SAVED, Event.RESTRICTION,
    Event.ADDED, Event.CHANGED, Event.REMOVED, Event.DICTIONARY, Event.FULL,
)
#: page changes after which a page may no longer use a file it used (its new content leaves the file out,
#: or the page is gone): the ReferenceIndex no longer names the file, so a following file's audience may
#: have narrowed without any current use pointing at it (see :func:`files_for`)
_DROPS_USES = frozenset({Event.PUBLISHED, Event.PAGE_SAVED, Event.DELETED})
_OBJECT_EVENTS = (Event.ADDED, Event.CHANGED, Event.REMOVED)
#: with the page's translations: a translation is never more visible than its source (``cms.visibility``),
#: so its indexed audience changes with the source's
_WITH_TRANSLATIONS = frozenset({Event.PUBLISHED, Event.MOVED, Event.RESTRICTION})


def is_document_change(row: ContentChange) -> bool:
    """A document added, changed (a replaced file, another audience, a secrecy hold) or deleted: its own
    search document changes, and so do the pages attaching it."""
    from django.conf import settings

    return row.event in _OBJECT_EVENTS and row.content_type.lower() == settings.WAGTAILDOCS_DOCUMENT_MODEL.lower()


def affects_pages(row: ContentChange) -> bool:
    """Whether :func:`catch_up` has work for this change (a dictionary change asks for a rebuild instead)."""
    if row.event in _OBJECT_EVENTS:
        return is_document_change(row)
    return row.event != Event.DICTIONARY


def pages_for(rows: Iterable[ContentChange]) -> tuple[set[int], set[int]]:
    """The pages these changes affect: (pages, roots of subtrees to re-index as a whole)."""
    from cms.models import StudyMaterialAttachment

    pages: set[int] = set()
    roots: set[int] = set()
    translated: set[int] = set()
    documents: set[str] = set()
    for row in rows:
        if is_document_change(row):
            documents.add(row.object_id)
        elif row.page_id and affects_pages(row):
            (roots if row.subtree else pages).add(row.page_id)
            if row.event in _WITH_TRANSLATIONS:
                translated.add(row.page_id)
    if translated:
        keys = Page.objects.filter(pk__in=translated).values("translation_key")
        pages |= set(Page.objects.filter(translation_key__in=keys).values_list("pk", flat=True))
        # the translations of a subtree root are roots too (their subtrees follow the source's)
        root_keys = Page.objects.filter(pk__in=roots & translated).values("translation_key")
        roots |= set(Page.objects.filter(translation_key__in=root_keys).values_list("pk", flat=True))
    if documents:
        pages |= set(
            StudyMaterialAttachment.objects.filter(document_id__in=documents).values_list("page_id", flat=True)
        )
    return pages - roots, roots


def files_for(rows: Iterable[ContentChange], page_ids: Iterable[int]) -> set[int]:
    """The library documents whose own search document these changes may alter (``search.documents``).

    * a document added, changed (a replaced file, another audience, a secrecy hold) or deleted;
    * the files attached to ``page_ids`` (the pages these changes re-index): a live material carries
      their text, so they have no search document of their own; an unpublished one no longer does;
    * every file that follows its pages and is used (ReferenceIndex) by one of ``page_ids``: a page
      published, restricted, moved or unpublished changes the effective audience of the files it uses;
    * after a change that may have dropped a use (a page published or saved with other content, or
      deleted: :data:`_DROPS_USES`), every following file that is not public now but that the index
      still shows wider (:func:`shown_wider`): a use that is gone is no longer in the ReferenceIndex,
      and a file that lost a public page's use is among these (a public file's audience cannot have
      narrowed, so nothing is left visible wider than it is).
    A file with an explicit audience does not depend on pages for its audience: only its own changes
    and its attachments concern it.
    """
    from django.contrib.contenttypes.models import ContentType
    from wagtail.documents import get_document_model
    from wagtail.models import ReferenceIndex

    from cms.models import StudyMaterialAttachment
    from media.audience import FileAudience, public_files

    rows = list(rows)
    model = get_document_model()
    files = {int(row.object_id) for row in rows if is_document_change(row) and row.object_id.isdigit()}
    following = model.objects.filter(audience=FileAudience.FOLLOW)
    page_ids = sorted(set(page_ids))
    for start in range(0, len(page_ids), 500):
        chunk = page_ids[start : start + 500]
        files |= set(StudyMaterialAttachment.objects.filter(page_id__in=chunk).values_list("document_id", flat=True))
        used = ReferenceIndex.objects.filter(
            base_content_type=ContentType.objects.get_for_model(Page),
            object_id__in=[str(pk) for pk in chunk],
            to_content_type=ContentType.objects.get_for_model(model),
        ).values_list("to_object_id", flat=True)
        ids = {int(pk) for pk in used if str(pk).isdigit()}
        files |= set(following.filter(pk__in=ids).values_list("pk", flat=True))
    if any(row.event in _DROPS_USES for row in rows):
        narrower = following.exclude(pk__in=public_files(model).values("pk"))
        files |= shown_wider(list(narrower.only("pk", "audience", "secrecy_hold", "classification")))
    files.discard(None)
    return files


def shown_wider(files: list) -> set[int]:
    """Of these files (none of them public now), those the index still shows to a wider audience than
    their effective one today: asked of the engine (``admitted_ids``: its own visibility filter over
    these ids), so that a publish costs one lookup instead of rewriting every restricted file. An
    engine that cannot say gets every one of them rewritten."""
    from cms.visibility import Audience
    from media.audience import effective_audiences
    from search.backends.base import SearchQuery
    from search.documents import file_pk_of

    if not files:
        return set()
    audiences = effective_audiences(files)
    backend = get_search_backend()
    wider: set[int] = set()
    for now, seen_by in ((Audience.MEMBERS, {"public"}), (Audience.INTERNAL, {"public", "members"})):
        ids = [file_document_id(f.pk) for f in files if audiences[(type(f), f.pk)] == now]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            try:
                admitted = backend.admitted_ids(SearchQuery(audiences=frozenset(seen_by)), chunk)
            except NotImplementedError:
                admitted = chunk
            wider |= {pk for pk in map(file_pk_of, admitted) if pk is not None}
    return wider


def catch_up(limit: int = 500) -> int:
    """Apply the changes after the search consumer's cursor, oldest first, moving the cursor after each
    batch. Returns how many changes were followed. Raises ``SearchUnavailable`` (the cursor stays where
    the engine stopped taking writes) so the caller can try again later."""
    done = 0
    while True:
        rows, upto = changes.pending(CONSUMER, limit=limit)
        if not rows:
            return done
        if any(row.event == Event.FULL for row in rows):
            rebuild()
            return done + len(rows)
        pages, roots = pages_for(rows)
        ids = set(pages) | set(affected_page_ids(roots, descendants=True))
        files = files_for(rows, ids)
        if ids or files:
            _write(sorted(ids), sorted(files))
        changes.acknowledge(CONSUMER, upto)
        done += len(rows)


def backlog() -> int:
    """How many changes the index has still to follow."""
    return changes.backlog(CONSUMER)


def rebuild(progress: Progress | None = None) -> int:
    """Rebuild the whole index from the database (atomic switch inside the engine)."""
    upto = changes.latest()
    count = get_search_backend().rebuild(iter_documents(), progress=progress)
    # Every change made before the rebuild started is in the new index.
    changes.acknowledge(CONSUMER, upto)
    return count


def check() -> CheckReport:
    backend = get_search_backend()
    health = backend.health()
    expected = expected_ids()
    report = CheckReport(
        healthy=health.ok,
        engine=health.engine,
        detail=health.detail,
        indexed=health.documents,
        expected=len(expected),
        pending=backlog(),
        vectors=backend.reranker.store.count() if backend.reranker is not None else None,
    )
    ids_of: Callable[[], set[str]] | None = getattr(backend, "document_ids", None)
    if health.ok and ids_of is not None:
        indexed = ids_of()
        report.missing = sorted(expected - indexed)
        report.stale = sorted(indexed - expected)
    return report
