"""Publishing: build what changed, compare with the last manifest, upload safely, purge, record.

``publish()`` is the one entry point (the command, the admin button and the background job call it).
It takes the lease, records the run, and runs the steps of ``deploy.publisher.Publisher``, whose order
is what makes a publish safe to interrupt:

1. take the lease on the target (two publishes never interleave; the command waits for a running one;
   a holder without a heartbeat for ``LOCK_TTL`` seconds, or whose process is gone, is taken over);
2. ``recover``: read the last manifest and what a previous run left undone (its journal, pending
   deletions and purges);
3. ``plan`` what to rebuild; ``build`` it, ``check`` every response, then check secrecy
   independently; nothing is uploaded if anything fails;
4. ``diff`` with the last manifest (deletions capped);
5. ``upload``: first a journal of the paths about to be added *and overwritten* (merged with any journal
   a killed run left), then new and changed assets, then pages (new before changed), and whatever a
   killed run may have overwritten (the journal's "overwriting" paths), so no page a killed run wrote
   stays up;
6. ``commit``: write the manifest (with the deletions and purges still to do);
7. ``delete`` what the site no longer contains, then ``purge`` exactly the changed URLs from the CDN;
8. ``record``: write the manifest again without the finished work, acknowledge the pending changes.

Killed anywhere, the target holds one manifest whose objects all exist; the next run redoes the rest.

Pending changes (``deploy.pending``) describe what the *configured* target (``SHUYUAN_PUBLISH_TARGET``)
does not reflect yet. Only a publish to that target consumes them; a publish anywhere else
(``publish_site --to DIR``, a scratch folder) leaves them queued and, since the queue says nothing about
that folder, rebuilds everything (uploading only what differs from the folder's own manifest).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .conf import lease_seconds
from .conf import validate as validate_settings
from .manifest import MANIFEST_PATH, Manifest
from .models import PublishLock, PublishRun
from .publisher import (
    Lease,
    LeaseLost,
    Progress,
    PublishBusy,
    Publisher,
    PublishResult,
    TooManyDeletions,
    build,
)
from .targets import PublishTarget, TargetError, get_target

__all__ = [
    "LeaseLost",
    "PublishBusy",
    "PublishResult",
    "TooManyDeletions",
    "build",
    "configured_target",
    "publish",
    "verify",
]

#: while waiting for another publish: seconds between attempts to take the lease, and between messages
WAIT_POLL = 1.0
WAIT_REPORT_EVERY = 15.0
_sleep = time.sleep  # tests replace it


# -- publishing ---------------------------------------------------------------------------------------
def publish(
    *,
    full: bool = False,
    dry_run: bool = False,
    target: PublishTarget | None = None,
    folder=None,
    progress: Progress | None = None,
    trigger: str = "command",
    user=None,
    allow_mass_delete: bool = False,
    check_links: bool | None = None,
    render_mode: str | None = None,
    wait: float = 0,
    on_wait: Callable[[str], None] | None = None,
    primary: bool | None = None,
) -> PublishResult:
    """Publish the site (incrementally unless ``full``) to ``target`` (default: ``SHUYUAN_PUBLISH_TARGET``).

    ``wait``: seconds to wait for a publish already running on the target (``on_wait`` gets progress
    messages) before giving up with ``PublishBusy``; 0 gives up at once.
    ``primary``: whether this target is the one the pending changes are for (consumes them); by default,
    whether it is the configured target.
    """
    explicit = target is not None or folder is not None
    target = target or get_target(folder)
    if primary is None:
        primary = not explicit or _is_configured_target(target)

    def make(run, lease):
        return Publisher(
            run, target, lease, primary=primary, dry_run=dry_run, progress=progress,
            allow_mass_delete=allow_mass_delete, check_links=check_links, render_mode=render_mode,
        )

    return run_with_lease(target, make, lambda publisher: publisher.publish(full), full=full, trigger=trigger,
                          user=user, wait=wait, on_wait=on_wait)


def run_with_lease(target, make, run_it, *, full=False, trigger="command", user=None, wait=0.0, on_wait=None):
    """Take the target's publish lease (waiting ``wait`` seconds, then ``PublishBusy``), record a run,
    keep the lease's heartbeat while ``run_it(make(run, lease))`` works, and close both whatever
    happens: the one wrapper of a publish and a rollback (``deploy.releases``)."""
    validate_settings()
    ttl_s, heartbeat = lease_seconds()
    ttl = timedelta(seconds=ttl_s)
    lease = Lease(target, _acquire(target, ttl, wait, on_wait), ttl, heartbeat)
    try:
        run = PublishRun.start(target, full=full, trigger=trigger, user=user, holder=lease.holder)
    except BaseException:
        lease.release()
        raise
    started = time.monotonic()
    try:
        publisher = make(run, lease)
        lease.start()
        return run_it(publisher)
    except BaseException as e:
        run.fail(e)
        raise
    finally:
        run.finish(started)
        lease.release()


def _is_configured_target(target: PublishTarget) -> bool:
    configured = configured_target()
    return configured is not None and configured.key == target.key


def configured_target() -> PublishTarget | None:
    try:
        return get_target()
    except (ImproperlyConfigured, TargetError):
        return None


def _acquire(target: PublishTarget, ttl: timedelta, wait: float, on_wait) -> str:
    """Take the lease on the target, waiting up to ``wait`` seconds for a running publish to finish."""
    holder = PublishLock.acquire(target.key, ttl)
    if holder is not None:
        return holder
    deadline = time.monotonic() + max(0.0, wait)
    last_report = None
    while holder is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        now = time.monotonic()
        if on_wait is not None and (last_report is None or now - last_report >= WAIT_REPORT_EVERY):
            on_wait(_busy_message(target, remaining))
            last_report = now
        _sleep(min(WAIT_POLL, remaining))
        holder = PublishLock.acquire(target.key, ttl)
    if holder is None:
        waited = f" (waited {wait:.0f} s)" if wait > 0 else ""
        raise PublishBusy(f"another publish to {target.describe()} is running{waited}")
    if on_wait is not None:
        on_wait(f"the other publish to {target.describe()} finished; publishing now")
    return holder


def _busy_message(target: PublishTarget, remaining: float) -> str:
    lock = PublishLock.objects.filter(name=target.key).first()
    other = PublishRun.objects.filter(
        status=PublishRun.Status.RUNNING, lock_name=target.key[:255], holder=getattr(lock, "holder", "") or "-"
    ).first()
    who = f"run #{other.pk} ({other.trigger}, started {timezone.localtime(other.started_at):%H:%M:%S})" if other else (
        "another publish"
    )
    until = f", lease until {timezone.localtime(lock.expires_at):%H:%M:%S}" if lock else ""
    if lock and lock.pid:
        until += f" (host {lock.host.split(' pidns:')[0]}, pid {lock.pid})"
    return f"{who} is publishing to {target.describe()}{until}; waiting for it to finish (up to {remaining:.0f} s more)…"


@dataclass
class VerifyReport:
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.mismatched)


def verify(target: PublishTarget | None = None, folder=None, check_hashes: bool = False) -> VerifyReport:
    """Compare what the target holds with its manifest (a listing; with ``check_hashes``, one request
    per object to read the stored hash)."""
    target = target or get_target(folder)
    manifest = Manifest.from_bytes(target.read(MANIFEST_PATH))
    present = {p for p in target.list_paths() if not p.startswith("_shuyuan/")}
    report = VerifyReport(
        missing=sorted(set(manifest.entries) - present),
        extra=sorted(present - set(manifest.entries) - set(manifest.pending_deletions)),
    )
    if check_hashes:
        report.mismatched = sorted(
            p for p, e in manifest.entries.items() if p in present and target.stored_sha256(p) != e.sha256
        )
    return report
