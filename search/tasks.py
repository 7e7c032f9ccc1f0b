"""Background jobs (django-tasks): index updates never run inside an editor's request."""

from __future__ import annotations

from django_tasks import task


@task()
def update_search_index(page_ids: list[int], descendants: bool = False) -> dict[str, int]:
    from search.indexing import update_pages

    indexed, deleted = update_pages(page_ids, descendants=descendants)
    return {"indexed": indexed, "deleted": deleted}


@task()
def replay_pending_updates() -> int:
    from search.indexing import replay_pending

    return replay_pending()


@task()
def rebuild_search_index() -> int:
    from search.indexing import rebuild

    return rebuild()
