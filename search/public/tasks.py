"""The export as a background job, asked for after each publish (``deploy``) when
``SHUYUAN_PUBLIC_SEARCH_EXPORT`` names the bundle folder.

Exporting reads every public page (tens of pages a second, as the search index's own rebuild does),
so a publish never waits for it: it asks for an export, and a burst of publishes costs one export.
A job whose request is older than the start of the live release's export is already covered and does
nothing. A failed export keeps the previous release live and is retried with back-off.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django_tasks import task

from cms.jobs import enqueue_later, retry_later

logger = logging.getLogger("shuyuan.search")

DELAY = 10  # seconds: publishes within this window share one export
RETRY_DELAYS = (60, 300, 900, 3600)


def export_folder() -> str | None:
    return getattr(settings, "SHUYUAN_PUBLIC_SEARCH_EXPORT", None) or None


def request_export() -> bool:
    """Ask for an export soon (no-op, False, when no export folder is configured)."""
    if not export_folder():
        return False
    enqueue_later(export_public_search_task, DELAY, dt.datetime.now(dt.UTC).isoformat())
    return True


@task()
def export_public_search_task(requested_at: str, attempt: int = 0) -> dict:
    from .bundle import live_started
    from .export import PublicExportError, export_public_search

    dest = export_folder()
    if not dest:
        return {"skipped": "SHUYUAN_PUBLIC_SEARCH_EXPORT is not set"}
    live = live_started(dest)
    if live is not None and live >= dt.datetime.fromisoformat(requested_at):
        return {"skipped": "covered by the live release", "started": live.isoformat()}
    try:
        result = export_public_search(dest)
    except (OSError, PublicExportError) as exc:
        # PublicExportError: the two readings of what is public disagreed (a page changed between
        # them, or a bug); nothing was switched, and a later reading decides again
        delay = retry_later(export_public_search_task, attempt, requested_at, delays=RETRY_DELAYS)
        logger.error("public search export failed (retry in %s s): %s", delay, exc)
        raise
    return {"release": result.release, "documents": result.documents, "seconds": round(result.seconds, 1)}
