"""Rendering a large build in several processes.

Rendering is CPU-bound Python (templates), so one process uses one core. For large builds the pages
are split into chunks rendered by forked worker processes; each inherits the build's renderer (its
Site, site root paths and the theme's ``SiteIndex``, loaded once in the parent) and opens its own
database connection. Results come back in chunk order, so the build's output does not depend on how
many workers rendered it.

Forking is only used where it is safe and worth it: a file or server database (not an in-memory one),
no open transaction (a child could not see its uncommitted rows), at least ``PARALLEL_MIN_PAGES``
pages, and ``RENDER_WORKERS`` (0: one per available core) above 1.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable

from django.db import connections

from .conf import publish_setting

CHUNK = 250

_STATE: tuple | None = None  # (render_chunk, renderer), inherited by forked workers

#: held while the workers are forked. A thread of the publishing process (the lease's heartbeat) holds it
#: while it uses the database or logs, so no child starts with a lock that thread held (a driver's,
#: logging's) and deadlocks on it.
FORK_LOCK = threading.Lock()


def worker_count(n_pages: int) -> int:
    configured = int(publish_setting("RENDER_WORKERS") or 0)
    if configured == 1 or n_pages < int(publish_setting("PARALLEL_MIN_PAGES")):
        return 1
    if configured <= 0:
        try:
            configured = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            configured = os.cpu_count() or 1
    if configured <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            return 1
    for conn in connections.all():
        name = str(conn.settings_dict.get("NAME") or "")
        if conn.vendor == "sqlite" and (not name or ":memory:" in name or "mode=memory" in name):
            return 1
    return configured


def _work(rows):
    from .render import BuildOutput

    render_chunk, renderer = _STATE
    renderer.out = BuildOutput()
    extra = render_chunk(renderer, rows)
    out = renderer.out
    return list(out.objects.values()), out.warnings, out.pages_rendered, extra


def render_in_workers(
    renderer,
    rows: list,
    render_chunk: Callable,
    workers: int,
    on_chunk: Callable[[int], None] | None = None,
) -> list:
    """``render_chunk(renderer, rows)`` over chunks of ``rows`` in ``workers`` processes; the objects
    they render go into ``renderer.out``; returns the concatenated extra results, in order."""
    global _STATE
    # everything the workers share is loaded before they fork: the first chunk is rendered here,
    # which also compiles the templates and fills Django's URL resolver caches for every worker
    renderer.prepare()
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    out = renderer.out
    before = out.pages_rendered
    extras: list = list(render_chunk(renderer, chunks[0])) if chunks else []
    if on_chunk and chunks:
        on_chunk(out.pages_rendered - before)
    chunks = chunks[1:]
    connections.close_all()  # each worker opens its own connection
    _STATE = (render_chunk, renderer)
    try:
        ctx = multiprocessing.get_context("fork")
        with FORK_LOCK:
            pool = ctx.Pool(workers, initializer=_reset_signals)
        try:
            for objects, warnings, rendered, extra in pool.imap(_work, chunks):
                for obj in objects:
                    out.add(obj)
                out.warnings += warnings
                out.pages_rendered += rendered
                extras += extra
                if on_chunk:
                    on_chunk(rendered)
        except BaseException:
            pool.terminate()
            raise
        else:
            pool.close()
        finally:
            pool.join()
    finally:
        _STATE = None
        renderer.out = out
    return extras


def _reset_signals() -> None:
    """Workers die on SIGTERM/SIGINT, whatever handlers the publishing process (a task worker) set."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
