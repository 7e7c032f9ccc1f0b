"""Index maintenance services: called by tasks, signals, the management command and tests.

Writes that fail because the engine is unreachable are queued in
:class:`search.models.PendingIndexUpdate` and replayed by
:func:`replay_pending` (run after every successful write and by the
``search_index update`` command), so an Elasticsearch outage loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from wagtail.models import Page

from search.backends.base import Progress, SearchError, SearchUnavailable
from search.documents import document_id, expected_ids, iter_documents, page_id_of, page_to_document
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
    pending: int = 0
    vectors: int | None = None  # documents with a re-ranking vector; None when re-ranking is off

    @property
    def ok(self) -> bool:
        return self.healthy and not self.missing and not self.stale and not self.pending


def _queue(ids: Iterable[str], action: str, error: Exception) -> None:
    from search.models import PendingIndexUpdate

    for doc_id in ids:
        obj, created = PendingIndexUpdate.objects.get_or_create(document_id=doc_id, defaults={"action": action})
        if not created:
            obj.action = action
            obj.attempts += 1
        obj.last_error = str(error)[:2000]
        obj.save()


def affected_page_ids(page_ids: Iterable[int], *, descendants: bool = True) -> list[int]:
    """The pages themselves and (for privacy or move changes) every page below them."""
    ids = set(page_ids)
    if descendants:
        for page in Page.objects.filter(pk__in=list(ids)):
            ids.update(Page.objects.descendant_of(page).values_list("pk", flat=True))
    return sorted(ids)


def update_pages(page_ids: Iterable[int], *, descendants: bool = False) -> tuple[int, int]:
    """Bring the index in line with these pages: index live ones, delete the rest.  Returns (indexed, deleted)."""
    ids = affected_page_ids(page_ids, descendants=descendants)
    pages = {p.pk: p for p in Page.objects.filter(pk__in=ids).specific()}
    docs, gone = [], []
    for pk in ids:
        page = pages.get(pk)
        doc = page_to_document(page) if page is not None else None
        if doc is None:
            gone.append(document_id(pk))
        else:
            docs.append(doc)
    backend = get_search_backend()
    try:
        if docs:
            backend.index(docs)
        if gone:
            backend.delete(gone)
    except SearchUnavailable as exc:
        logger.warning("search: engine unavailable, queued %d update(s): %s", len(docs) + len(gone), exc)
        _queue([d.id for d in docs], "index", exc)
        _queue(gone, "delete", exc)
        schedule_replay()
        return 0, 0
    update_vectors(backend, docs, gone)
    replay_pending()
    return len(docs), len(gone)


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


def replay_pending(limit: int = 500) -> int:
    """Apply queued updates (oldest first) while the engine is reachable.  Returns how many were applied."""
    from search.models import PendingIndexUpdate

    pending = list(PendingIndexUpdate.objects.all()[:limit])
    if not pending:
        return 0
    backend = get_search_backend()
    to_index = [p for p in pending if p.action == PendingIndexUpdate.Action.INDEX]
    to_delete = [p.document_id for p in pending if p.action == PendingIndexUpdate.Action.DELETE]
    pages = {p.pk: p for p in Page.objects.filter(pk__in=[page_id_of(p.document_id) for p in to_index]).specific()}
    docs = []
    for item in to_index:
        page = pages.get(page_id_of(item.document_id) or -1)
        doc = page_to_document(page) if page is not None else None
        if doc is None:
            to_delete.append(item.document_id)
        else:
            docs.append(doc)
    try:
        if docs:
            backend.index(docs)
        if to_delete:
            backend.delete(to_delete)
    except SearchError as exc:
        PendingIndexUpdate.objects.filter(pk__in=[p.pk for p in pending]).update(last_error=str(exc)[:2000])
        return 0
    update_vectors(backend, docs, to_delete)
    PendingIndexUpdate.objects.filter(pk__in=[p.pk for p in pending]).delete()
    return len(pending)


REPLAY_DELAYS = (10, 30, 60, 120, 300, 600)  # seconds between replay attempts while the engine is down


def schedule_replay(attempt: int = 0) -> bool:
    """Queue a replay of the pending updates after a back-off delay, when the task backend can defer
    jobs (the database backend used by ``./dev up`` and production can; the test backend cannot).
    Returns whether a replay was scheduled."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks import task_backends

    from search.tasks import replay_pending_updates

    if not task_backends[replay_pending_updates.backend].supports_defer:
        return False
    delay = REPLAY_DELAYS[min(attempt, len(REPLAY_DELAYS) - 1)]

    def _enqueue() -> None:
        replay_pending_updates.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(attempt + 1)

    transaction.on_commit(_enqueue)
    return True


def rebuild(progress: Progress | None = None) -> int:
    """Rebuild the whole index from the database (atomic switch inside the engine)."""
    from search.models import PendingIndexUpdate

    count = get_search_backend().rebuild(iter_documents(), progress=progress)
    # Everything queued before the rebuild started is now in the new index.
    PendingIndexUpdate.objects.all().delete()
    return count


def enqueue_vectors() -> None:
    """Fill the re-ranker's vectors in a background job after the current transaction commits."""

    def _enqueue() -> None:
        from search.tasks import embed_search_vectors

        embed_search_vectors.enqueue()

    if get_search_backend().reranker is not None:
        transaction.on_commit(_enqueue)


def check() -> CheckReport:
    from search.models import PendingIndexUpdate

    backend = get_search_backend()
    health = backend.health()
    expected = expected_ids()
    report = CheckReport(
        healthy=health.ok,
        engine=health.engine,
        detail=health.detail,
        indexed=health.documents,
        expected=len(expected),
        pending=PendingIndexUpdate.objects.count(),
        vectors=backend.reranker.store.count() if backend.reranker is not None else None,
    )
    ids_of: Callable[[], set[str]] | None = getattr(backend, "document_ids", None)
    if health.ok and ids_of is not None:
        indexed = ids_of()
        report.missing = sorted(expected - indexed)
        report.stale = sorted(indexed - expected)
    return report


def enqueue_page_update(page_ids: Iterable[int], *, descendants: bool = False) -> None:
    """Schedule an index update after the current transaction commits (never inside the editor's request)."""
    ids = sorted(set(page_ids))
    if not ids:
        return

    def _enqueue() -> None:
        from search.tasks import update_search_index

        update_search_index.enqueue(page_ids=ids, descendants=descendants)

    transaction.on_commit(_enqueue)
