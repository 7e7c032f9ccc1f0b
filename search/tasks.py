"""Background jobs (django-tasks), and how the index follows the change feed (``cms.changes``).

Index work never runs inside an editor's request: once an editor's transaction commits, the feed
notifies the ``search`` consumer (``notify``), which enqueues ``update_search_index`` (follow the feed
from the cursor) or, for a dictionary edit, a debounced ``rebuild_search_index``. The jobs call the
services in ``search.indexing``, which never enqueue anything themselves.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_tasks import task

from cms import changes
from cms.jobs import enqueue_later, enqueue_on_commit, retry_later
from search import indexing
from search.backends.base import SearchError, SearchUnavailable

logger = logging.getLogger("shuyuan.search")

#: seconds between attempts to catch up while the engine is down (the last one repeats until it is back)
CATCH_UP_DELAYS = (10, 30, 60, 120, 300, 600)
#: seconds a dictionary edit waits before its rebuild, so that editors adding several words in a row
#: (each save would otherwise start a full rebuild) get one rebuild; ``SHUYUAN_DICTIONARY_REBUILD_DELAY``
DICTIONARY_REBUILD_DELAY = 60


def register() -> None:
    """Join the change feed as its ``search`` consumer (``SearchConfig.ready``)."""
    changes.register(indexing.CONSUMER, notify, events=indexing.EVENTS)


def notify(rows) -> None:
    """After an editor's transaction committed: follow the feed in the background; a dictionary edit
    changes segmentation, so it reloads the analyzer and rebuilds the index (once for a burst of edits)."""
    if any(row.event == indexing.Event.DICTIONARY for row in rows):
        from search.dictionary import fingerprint, invalidate

        invalidate()
        delay = getattr(settings, "SHUYUAN_DICTIONARY_REBUILD_DELAY", DICTIONARY_REBUILD_DELAY)
        enqueue_later(rebuild_search_index, delay, fingerprint())
    if any(indexing.affects_pages(row) for row in rows):
        update_search_index.enqueue()


@task()
def update_search_index(attempt: int = 0, **_old_arguments) -> dict:
    """Follow the change feed; while the engine is unreachable, try again later (the cursor stays put,
    so nothing is lost). Jobs queued by an older version (with page ids) simply catch up."""
    try:
        followed = indexing.catch_up()
    except SearchUnavailable as exc:
        delay = retry_later(update_search_index, attempt, delays=CATCH_UP_DELAYS, repeat_last=True)
        logger.warning("search: engine unavailable, %d change(s) wait (retry in %ss): %s",
                       indexing.backlog(), delay, exc)
        return {"status": "unavailable", "retry_in": delay}
    except SearchError as exc:
        # the engine refused a change (a bug or a misconfiguration, e.g. no index yet): the job fails
        # visibly, the cursor stays before that change, and the catch-up is tried again later
        delay = retry_later(update_search_index, attempt, delays=CATCH_UP_DELAYS, repeat_last=True)
        logger.error("search: the engine refused a change, %d change(s) wait (retry in %ss): %s",
                     indexing.backlog(), delay, exc)
        raise
    return {"status": "ok", "changes": followed}


@task()
def rebuild_search_index(dictionary: str | None = None) -> int:
    """Rebuild the index; given the ``dictionary`` fingerprint of the edit that asked for it, only if
    no later edit changed the dictionary again (that edit's own, later job rebuilds then), so a burst
    of dictionary edits costs one rebuild. Returns the number of documents indexed (0 when skipped)."""
    from search.dictionary import fingerprint

    if dictionary is not None and fingerprint() != dictionary:
        logger.info("dictionary rebuild skipped: a later edit has its own")
        return 0
    count = indexing.rebuild()
    enqueue_vectors()
    return count


def enqueue_vectors() -> None:
    """Fill the re-ranker's vectors in a background job (after the current transaction commits)."""
    from search.loader import get_search_backend

    if get_search_backend().reranker is not None:
        enqueue_on_commit(embed_search_vectors)


@task()
def embed_search_vectors() -> dict[str, int]:
    """Compute the semantic re-ranking vectors that are missing or out of date (after a rebuild)."""
    embedded, pruned = indexing.embed_vectors()
    return {"embedded": embedded, "pruned": pruned}
