"""Publishing: build what changed, compare with the last manifest, upload safely, purge, record.

``publish()`` is the one entry point (the command, the admin button and the background job call it).
The order of operations is what makes a publish safe to interrupt:

1. take the lease on the target (two publishes never interleave; the command waits for a running one);
2. read the last manifest; finish what a previous run left undone (its journal, pending deletions
   and purges);
3. render what the changes affect (or everything), check every response, then check secrecy
   independently; nothing is uploaded if anything fails;
4. diff with the last manifest; record the paths about to be added *and overwritten* in a journal
   (merged with any journal a killed run left);
5. upload new and changed assets, then pages (new before changed), and re-upload whatever a killed run
   may have overwritten (the journal's "overwriting" paths), so no page a killed run wrote stays up;
6. write the manifest (with the deletions and purges still to do);
7. delete what the site no longer contains (capped), then purge exactly the changed URLs from the CDN;
8. write the manifest again without the finished work, record the run.

Killed anywhere, the target holds one manifest whose objects all exist; the next run redoes the rest.

Pending changes (``PendingChange``) describe what the *configured* target (``STORAGES["publish"]``) does
not reflect yet. Only a publish to that target consumes them; a publish anywhere else (``publish_site
--to DIR``, a scratch folder) leaves them queued and, since the queue says nothing about that folder,
rebuilds everything (uploading only what differs from the folder's own manifest).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from wagtail.contrib.frontend_cache.utils import get_backends
from wagtail.models import Locale, Page

from cms.visibility import public_pages

from . import purge as purge_mod
from .affected import (
    Plan,
    PlanBuilder,
    appeared_pages,
    full_plan,
    plan_for_paths,
    public_page_ids,
    withdrawn_groups,
)
from .checks import broken_links, check_secrecy
from .conf import publish_setting
from .feeds import sitemap_languages
from .manifest import JOURNAL_PATH, KIND_ASSET, MANIFEST_PATH, Diff, Manifest, diff, merge
from .models import PendingChange, PublishLock, PublishRun
from .parallel import render_in_workers, worker_count
from .preload import load_specific
from .render import BuildOutput, Renderer, feed_group, sitemap_group
from .targets import PublishTarget, TargetError, get_target, write_many

Progress = Callable[[str, int, int], None]
CHUNK = 500
#: while waiting for another publish: seconds between attempts to take the lease, and between messages
WAIT_POLL = 1.0
WAIT_REPORT_EVERY = 15.0
_sleep = time.sleep  # tests replace it


class PublishBusy(Exception):
    """Another publish holds the lease on this target."""


class LeaseLost(Exception):
    """This publish ran past its lease and another one may have started; it stopped."""


class TooManyDeletions(Exception):
    """The publish would delete more objects than ``MAX_DELETIONS``; nothing was uploaded."""


@dataclass
class PublishResult:
    run: PublishRun
    diff: Diff | None = None
    plan: Plan | None = None
    deletions: list[str] = field(default_factory=list)
    purge_urls: list[str] = field(default_factory=list)
    broken_links: list[tuple[str, str]] = field(default_factory=list)


def _noop(phase: str, done: int, total: int) -> None:
    pass


# -- planning -----------------------------------------------------------------------------------------
def plan_from_pending(rows: list[PendingChange]) -> Plan:
    builder = PlanBuilder()
    for row in rows:
        if row.kind == "full":
            builder.plan.merge(full_plan(row.reason or "full publish requested"))
        elif row.kind == "listing":
            # pages that list a taxonomy (filters, sub-routes): their own group only
            builder.listing_changed(row.also_pages, reason=row.reason)
            continue
        elif row.kind in ("page", "subtree") and row.object_id:
            builder.page_changed(int(row.object_id), subtree=row.kind == "subtree", reason=row.reason)
        elif row.kind == "object" and row.content_type:
            from django.apps import apps

            model = apps.get_model(row.content_type)
            obj = model._default_manager.filter(pk=row.object_id).first()
            if obj is not None:
                builder.object_changed(obj, reason=row.reason)
        if row.also_pages:
            builder.context_of(row.also_pages)
        if builder.plan.full:
            break
    return builder.plan


# -- building -----------------------------------------------------------------------------------------
def build(plan: Plan, renderer: Renderer, progress: Progress = _noop) -> BuildOutput:
    out = renderer.out
    locales = {loc.pk: loc for loc in Locale.objects.all()}
    public = public_pages()
    if plan.full:
        rows = list(public.filter(depth__gt=1).order_by("path").values_list("pk", "content_type_id"))
    else:
        rows = list(public.filter(pk__in=plan.page_ids).order_by("path").values_list("pk", "content_type_id"))
    total = len(rows)
    progress("render", 0, total)

    def render_chunk(renderer: Renderer, chunk: list) -> list:
        """Render these pages, and the feeds of the columns among them that this build rebuilds."""
        for page in load_specific(chunk, locales):
            renderer.render_page(page)
            if callable(getattr(page, "articles", None)) and (plan.full or page.pk in plan.feed_ids):
                renderer.add_feeds(page, feed_group(page.pk))
        return []

    workers = worker_count(total)
    if workers > 1:
        done = [0]

        def on_chunk(n: int) -> None:
            done[0] += n
            progress("render", done[0], total)

        render_in_workers(renderer, rows, render_chunk, workers, on_chunk)
    else:
        for i in range(0, total, CHUNK):
            render_chunk(renderer, rows[i : i + CHUNK])
            progress("render", min(i + CHUNK, total), total)
    languages = sitemap_languages()
    wanted = languages if plan.full else [code for code in languages if code in plan.languages]
    for code in wanted:
        renderer.add_url(f"/{code}/sitemap.xml", sitemap_group(code))
    if plan.full or plan.languages or "robots" in plan.site_groups:
        renderer.add_url("/robots.txt", "robots")
        renderer.add_url("/sitemap.xml", "robots")
    if plan.full or "404" in plan.site_groups:
        renderer.add_404(settings.LANGUAGE_CODE)
    if plan.full or "root" in plan.site_groups:
        renderer.add_url("/", "root", allow_redirect=True)
    return out


def rebuilt_groups(plan: Plan) -> set[str]:
    groups = plan.groups()
    if plan.languages:
        groups.add("robots")
    return groups


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
    """Publish the site (incrementally unless ``full``) to ``target`` (default: ``STORAGES["publish"]``).

    ``wait``: seconds to wait for a publish already running on the target (``on_wait`` gets progress
    messages) before giving up with ``PublishBusy``; 0 gives up at once.
    ``primary``: whether this target is the one the pending changes are for (consumes them); by default,
    whether it is the configured target.
    """
    progress = progress or _noop
    explicit = target is not None or folder is not None
    target = target or get_target(folder)
    if primary is None:
        primary = not explicit or _is_configured_target(target)
    ttl = timedelta(seconds=int(publish_setting("LOCK_TTL")))
    holder = _acquire(target, ttl, wait, on_wait)
    PublishRun.mark_interrupted(lock_name=target.key[:255])  # we hold the lease: any other run on it is dead
    run = PublishRun.objects.create(
        mode=PublishRun.Mode.FULL if full else PublishRun.Mode.INCREMENTAL,
        trigger=trigger,
        target=target.describe()[:500],
        requested_by=user if getattr(user, "pk", None) else None,
        lock_name=target.key[:255],
        holder=holder,
    )
    timings: dict[str, int] = {}
    started = time.monotonic()
    mark = [started]

    def phase(name: str) -> None:
        now = time.monotonic()
        timings[name] = int((now - mark[0]) * 1000)
        mark[0] = now
        if not PublishLock.renew(target.key, holder, ttl):
            raise LeaseLost(f"lost the lease on {target.describe()}")

    try:
        result = _publish(
            run, target, full=full, dry_run=dry_run, progress=progress, phase=phase,
            allow_mass_delete=allow_mass_delete, check_links=check_links, render_mode=render_mode,
            primary=primary,
        )
    except BaseException as e:
        run.status = PublishRun.Status.FAILED
        run.error = f"{type(e).__name__}: {e}\n\n{traceback.format_exc(limit=8)}"[:20000]
        raise
    finally:
        run.finished_at = timezone.now()
        run.duration_ms = int((time.monotonic() - started) * 1000)
        run.timings = timings
        run.save()
        PublishLock.release(target.key, holder)
    return result


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
    return f"{who} is publishing to {target.describe()}{until}; waiting for it to finish (up to {remaining:.0f} s more)…"


def _publish(run, target, *, full, dry_run, progress, phase, allow_mass_delete, check_links, render_mode, primary):
    try:
        old = Manifest.from_bytes(target.read(MANIFEST_PATH))
        journal = json.loads(target.read(JOURNAL_PATH) or b"{}")
    except (TargetError, ValueError) as e:
        raise TargetError(f"cannot read the manifest of {target.describe()}: {e}") from e
    # what a killed run wrote without recording it in a manifest: new objects, and objects it overwrote
    leftover_written = set(journal.get("writing", []))
    leftover_overwritten = set(journal.get("overwriting", []))
    if primary:
        pending = list(PendingChange.objects.order_by("id"))
    else:
        pending = []  # the queue belongs to the configured target; it says nothing about this one
    last_pending = pending[-1].pk if pending else 0
    if not old.entries:
        full = True
    if not primary and not full:
        full = True
        run.reason = "not the configured target: full build (pending changes stay queued for it)"
    if full:
        run.mode = PublishRun.Mode.FULL
        plan = full_plan(run.reason or "full publish")
    else:
        plan = plan_from_pending(pending)
        groups = old.groups()
        public_ids = public_page_ids()
        gone = withdrawn_groups(groups, public_ids)
        for pk in appeared_pages(groups, public_ids):
            builder = PlanBuilder()
            builder.page_changed(pk, reason=f"page {pk} is public but not published")
            plan.merge(builder.plan)
        if gone:
            plan.page_ids |= gone
            plan.feed_ids |= gone
            plan.reasons.append(f"{len(gone)} pages no longer public")
            builder = PlanBuilder()
            builder.context_of(gone)
            plan.merge(builder.plan)
        if leftover_overwritten:
            plan.merge(plan_for_paths(old, leftover_overwritten))
    if plan.full:
        run.mode = PublishRun.Mode.FULL
    run.reason = "; ".join(dict.fromkeys(r for r in plan.reasons if r))[:2000]
    leftover_deletions = set(old.pending_deletions) | leftover_written
    leftover_purge = set(old.pending_purge)
    # purges still owed: the run carries the flag until it sent them (the scheduled tick retries)
    run.purge_failed = bool(leftover_purge)
    phase("plan")

    if plan.is_empty and not leftover_deletions and not leftover_purge and not leftover_overwritten:
        run.status = PublishRun.Status.DRY_RUN if dry_run else PublishRun.Status.NOTHING
        if not dry_run and primary:
            PendingChange.objects.filter(pk__lte=last_pending).delete()
        return PublishResult(run=run, plan=plan)

    # 1. render and check (nothing leaves the machine before this succeeds)
    renderer = Renderer(mode=render_mode)
    if plan.is_empty:
        out = renderer.out
    else:
        out = build(plan, renderer, progress)
    run.rendered = out.pages_rendered
    run.warnings = list(dict.fromkeys(out.warnings))[:200]
    entries = [obj.entry() for obj in out.objects.values()]
    if plan.full:
        new = Manifest.from_entries(entries)
    else:
        new = merge(old, rebuilt_groups(plan), entries)
    new.run_id = run.pk
    phase("render")
    check_secrecy(new)
    broken = []
    if check_links if check_links is not None else plan.full:
        broken = broken_links(
            ((o.path, o.body) for o in out.objects.values()), set(new.entries),
            base_url=publish_setting("BASE_URL"), dynamic_prefixes=publish_setting("DYNAMIC_PREFIXES"),
        )
        run.warnings = (run.warnings + [f"broken link in {p}: {link}" for p, link in broken[:100]])[:300]
    phase("check")

    # 2. diff
    d = diff(old, new)
    deletions = sorted({e.path for e in d.removed} | (leftover_deletions - set(new.entries)))
    # objects a killed run may have overwritten that this diff calls unchanged: upload them again (the
    # target may hold the killed run's version, which the old manifest doesn't describe)
    touched = {e.path for e in d.added} | {e.path for e in d.changed}
    repair = [
        new.entries[p] for p in sorted(leftover_overwritten - touched) if p in new.entries and p in out.objects
    ]
    purge_paths = set(d.purge_urls()) | leftover_purge | {e.url or "/" + e.path for e in repair}
    have_cdn = bool(get_backends())
    if not have_cdn:
        purge_paths = set()
        run.purge_failed = False
    run.uploaded = len(d.added) + len(d.changed) + len(repair)
    run.unchanged = d.unchanged
    run.deleted = len(deletions)
    run.changes = {
        "added": sorted(e.url or e.path for e in d.added)[:200],
        "changed": sorted(e.url or e.path for e in d.changed)[:200],
        "removed": sorted(deletions)[:200],
        "counts": {"added": len(d.added), "changed": len(d.changed), "removed": len(deletions)},
    }
    if repair:
        run.changes["repaired"] = sorted(e.url or e.path for e in repair)[:200]
        run.changes["counts"]["repaired"] = len(repair)
    _check_deletion_cap(d, deletions, allow_mass_delete)
    phase("diff")
    result = PublishResult(
        run=run, diff=d, plan=plan, deletions=deletions, purge_urls=sorted(purge_paths), broken_links=broken
    )
    if dry_run:
        run.status = PublishRun.Status.DRY_RUN
        return result
    if d.is_empty and not deletions and not purge_paths and not repair:
        run.status = PublishRun.Status.NOTHING
        if primary:
            PendingChange.objects.filter(pk__lte=last_pending).delete()
        if journal:
            target.delete_many([JOURNAL_PATH])  # a killed run's journal whose work turned out to be done
        return result

    # 3. upload: assets, then pages. First the journal: every object this run may add or overwrite,
    # with what a killed earlier run left (its journal is replaced only by a superset of it).
    bodies = out.objects
    uploads = d.uploads + repair
    writing = sorted(leftover_written | {e.path for e in d.added})
    overwriting = sorted(leftover_overwritten | {e.path for e in d.changed} | {e.path for e in repair})
    if writing or overwriting:
        target.write(
            _meta_entry(JOURNAL_PATH),
            json.dumps({"run": run.pk, "writing": writing, "overwriting": overwriting}).encode(),
        )
    done = [0]

    def tick(_entry):
        done[0] += 1
        if done[0] % 50 == 0 or done[0] == len(uploads):
            progress("upload", done[0], len(uploads))

    progress("upload", 0, len(uploads))
    write_many(target, [(e, bodies[e.path].body) for e in uploads if e.kind == KIND_ASSET], tick)
    phase("upload_assets")
    write_many(target, [(e, bodies[e.path].body) for e in uploads if e.kind != KIND_ASSET], tick)
    phase("upload_pages")

    # 4. manifest, with the work still to do
    new.pending_deletions = deletions
    new.pending_purge = sorted(purge_paths)
    target.write(_meta_entry(MANIFEST_PATH), new.to_bytes())
    if writing or overwriting or journal:
        target.delete_many([JOURNAL_PATH])
    phase("manifest")

    # 5. deletions, then purge
    if deletions:
        progress("delete", 0, len(deletions))
        target.delete_many(deletions)
        progress("delete", len(deletions), len(deletions))
    new.pending_deletions = []
    phase("delete")
    if purge_paths:
        progress("purge", 0, len(purge_paths))
        outcome = purge_mod.purge(purge_mod.absolute_urls(purge_paths), run=run)
        run.purged = outcome.sent
        run.purge_failed = not outcome.ok
        failed = set(outcome.failed_urls)
        new.pending_purge = sorted(p for p in purge_paths if purge_mod.absolute_urls([p])[0] in failed)
        if outcome.errors:
            run.warnings = run.warnings + [f"CDN purge failed (will retry next publish): {e}" for e in outcome.errors[:10]]
        progress("purge", len(purge_paths), len(purge_paths))
    phase("purge")
    if deletions or purge_paths:
        target.write(_meta_entry(MANIFEST_PATH), new.to_bytes())
    if primary:
        PendingChange.objects.filter(pk__lte=last_pending).delete()
    run.status = PublishRun.Status.SUCCEEDED
    phase("finish")
    return result


def _meta_entry(path: str):
    from .manifest import Entry

    return Entry(path=path, sha256="", size=0, content_type="application/json", cache_control="no-store", kind="meta")


def _check_deletion_cap(d: Diff, deletions: list[str], allow: bool) -> None:
    cap = int(publish_setting("MAX_DELETIONS"))
    if allow or len(deletions) <= cap:
        return
    # Withdrawals (pages that still exist but are no longer public) always go: secrecy beats the cap.
    withdrawn_ids = set()
    for e in d.removed:
        kind, _s, ident = e.group.partition(":")
        if kind in ("page", "feed") and ident.isdigit():
            withdrawn_ids.add(int(ident))
    existing = set(Page.objects.filter(pk__in=withdrawn_ids).values_list("pk", flat=True))
    other = [
        e for e in d.removed
        if not (e.group.partition(":")[0] in ("page", "feed") and int(e.group.partition(":")[2] or 0) in existing)
    ]
    if len(other) > cap:
        raise TooManyDeletions(
            f"this publish would delete {len(other)} objects (cap {cap}); check the site, then re-run "
            "with --allow-mass-delete"
        )


def request_full_publish(reason: str = "full publish requested", user=None) -> PendingChange:
    return PendingChange.objects.create(kind="full", reason=reason[:200])


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
