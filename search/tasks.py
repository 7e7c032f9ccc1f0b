"""Background jobs (django-tasks): index updates never run inside an editor's request."""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger("shuyuan.search")


@task()
def update_search_index(page_ids: list[int], descendants: bool = False) -> dict[str, int]:
    from search.indexing import update_pages

    indexed, deleted = update_pages(page_ids, descendants=descendants)
    return {"indexed": indexed, "deleted": deleted}


@task()
def replay_pending_updates(attempt: int = 0) -> int:
    """Replay updates queued while the engine was unreachable; try again later while it still is."""
    from search.indexing import replay_pending, schedule_replay
    from search.models import PendingIndexUpdate

    applied = 0
    while (n := replay_pending()) > 0:
        applied += n
    if PendingIndexUpdate.objects.exists():
        schedule_replay(attempt)
    return applied


@task()
def rebuild_search_index(dictionary: str | None = None) -> int:
    """Rebuild the index; given the ``dictionary`` fingerprint of the edit that asked for it, only if
    no later edit changed the dictionary again (that edit's own, later job rebuilds then), so a burst
    of dictionary edits costs one rebuild. Returns the number of documents indexed (0 when skipped)."""
    from search.dictionary import fingerprint
    from search.indexing import enqueue_vectors, rebuild

    if dictionary is not None and fingerprint() != dictionary:
        logger.info("dictionary rebuild skipped: a later edit has its own")
        return 0
    count = rebuild()
    enqueue_vectors()
    return count


@task()
def embed_search_vectors() -> dict[str, int]:
    """Compute the semantic re-ranking vectors that are missing or out of date (after a rebuild)."""
    from search.indexing import embed_vectors

    embedded, pruned = embed_vectors()
    return {"embedded": embedded, "pruned": pruned}
