"""One publish to one target, as the steps ``deploy.service`` describes: recover, plan, build, check, diff,
upload, commit, then delete and purge, and record.

``Publisher.publish`` runs them in that order; each step is a method that reads what the earlier steps
left on the publisher and ends one or more timed phases (``PublishRun.timings``). The lease's heartbeat
(``Lease``) keeps it through every phase; each phase and progress tick checks it, so a publish whose
lease was taken over stops (``LeaseLost``) before it writes anything more.
``deploy.service.publish`` takes the lease and records the run around it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils.translation import gettext as _
from wagtail.contrib.frontend_cache.utils import get_backends
from wagtail.models import Locale, Page

from . import pending
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
from .conf import publish_setting, target_bounds
from .feeds import build_scope, public_pages, sitemap_languages
from .manifest import JOURNAL_PATH, KIND_ASSET, MANIFEST_PATH, Diff, Entry, Manifest, merge
from .manifest import diff as diff_manifests
from .models import PublishLock, PublishRun
from .parallel import FORK_LOCK, render_in_workers, worker_count
from .preload import load_specific
from .render import BuildOutput, Renderer, feed_group, sitemap_group
from .targets import PublishTarget, TargetError, write_many

Progress = Callable[[str, int, int], None]
CHUNK = 500
#: pages uploaded per batch (their bodies are read from the build's compressed copies batch by batch)
UPLOAD_BATCH = 1000
logger = logging.getLogger("shuyuan.deploy")


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


@dataclass
class Lease:
    """The lease a publish holds on its target (``PublishLock``), with its heartbeat.

    ``start`` renews it every ``heartbeat`` seconds from a background thread, whatever the publish is
    doing (rendering, a long upload, waiting on a slow target), so a short lease is enough and a dead
    publisher's lease runs out within seconds. When the database cannot be reached from another thread
    (the publish runs inside a transaction, whose lock row another connection cannot see, or on an
    in-memory SQLite database), the publishing thread renews it instead, at every phase and progress
    tick. ``check`` and ``renew`` raise ``LeaseLost`` once another publish took the lease over: the
    publish stops before it writes anything more (the upload's last phase renews it just before the
    manifest is written).
    """

    target: PublishTarget
    holder: str
    ttl: timedelta
    heartbeat: float = 0.0
    _renewed: float = field(default_factory=time.monotonic, repr=False)
    _lost: str = field(default="", repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> Lease:
        """Start the heartbeat thread (when another thread can use the database)."""
        if self.heartbeat > 0 and self._thread is None and _threads_can_renew():
            self._thread = threading.Thread(target=self._beat, name="publish-lease", daemon=True)
            self._thread.start()
        return self

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.heartbeat):
                with FORK_LOCK:  # never while render workers are being forked
                    try:
                        held = PublishLock.renew(self.target.key, self.holder, self.ttl)
                    except DatabaseError as e:  # the next beat (or the publishing thread) tries again
                        logger.warning("could not renew the publish lease on %s: %s", self.target.describe(), e)
                        continue
                if not held:
                    self._lost = "taken over"
                    return
                self._renewed = time.monotonic()
        finally:
            connections.close_all()  # this thread's own connections

    def renew(self) -> None:
        """Renew now (``LeaseLost`` if the lease is no longer ours)."""
        self.check()
        if not PublishLock.renew(self.target.key, self.holder, self.ttl):
            self._lost = "taken over"
            self.check()
        self._renewed = time.monotonic()

    def tick(self) -> None:
        """On progress: stop if the lease is lost; renew here when no thread does (or its renewals are
        failing)."""
        self.check()
        due = self.heartbeat or self.ttl.total_seconds() / 3
        if self._thread is not None and self._thread.is_alive():
            due *= 2
        if time.monotonic() - self._renewed >= due:
            self.renew()

    def check(self) -> None:
        if self._lost:
            raise LeaseLost(f"lost the lease on {self.target.describe()} ({self._lost})")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        PublishLock.release(self.target.key, self.holder)


def _threads_can_renew() -> bool:
    """Whether a thread's own database connection sees and may update the lease row."""
    conn = connections[PublishLock.objects.db]
    if conn.in_atomic_block:
        return False
    name = str(conn.settings_dict.get("NAME") or "")
    return not (conn.vendor == "sqlite" and (not name or ":memory:" in name or "mode=memory" in name))


@dataclass
class Leftovers:
    """What an earlier run left undone on the target, as its manifest and journal say."""

    #: the journal of a killed run ({} if none)
    journal: dict
    #: objects a killed run wrote without recording them in a manifest
    written: set[str]
    #: objects a killed run may have overwritten (the target may hold its version)
    overwritten: set[str]
    #: deletions still to do: the manifest's, and what a killed run wrote
    deletions: set[str]
    #: URLs still to purge from the CDN
    purge: set[str]

    @classmethod
    def read(cls, target: PublishTarget) -> tuple[Manifest, Leftovers]:
        try:
            old = Manifest.from_bytes(target.read(MANIFEST_PATH))
            journal = json.loads(target.read(JOURNAL_PATH) or b"{}")
        except (TargetError, ValueError) as e:
            raise TargetError(f"无法读取 {target.describe()} 的发布清单：{e}") from e
        written = set(journal.get("writing", []))
        return old, cls(
            journal=journal,
            written=written,
            overwritten=set(journal.get("overwriting", [])),
            deletions=set(old.pending_deletions) | written,
            purge=set(old.pending_purge),
        )

    @property
    def any(self) -> bool:
        return bool(self.deletions or self.purge or self.overwritten)


# -- building -----------------------------------------------------------------------------------------
def build(plan: Plan, renderer: Renderer, progress: Progress = _noop) -> BuildOutput:
    """Render what ``plan`` says (pages, their feeds, sitemaps, robots.txt, the 404 and root pages)."""
    out = renderer.out
    renderer.plan = plan  # a listing's routes and the sitemap chunks to rebuild (deploy.affected.Plan)
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
    _add_site_urls(plan, renderer)
    return out


def _add_site_urls(plan: Plan, renderer: Renderer) -> None:
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
    if plan.full or "redirects" in plan.site_groups:
        renderer.add_redirects()


def published_sitemaps(manifest: Manifest) -> dict[str, set[int]]:
    """{language: the chunks of its sitemap} that ``manifest`` holds (its ``sitemap:`` groups)."""
    out: dict[str, set[int]] = {}
    for group in {e.group for e in manifest.entries.values()}:
        kind, _sep, rest = group.partition(":")
        if kind == "sitemap" and rest:
            language, _sep, chunk = rest.partition(":")
            out.setdefault(language, set()).add(int(chunk or 0))
    return out


def rebuilt_groups(plan: Plan) -> set[str]:
    groups = plan.groups()
    if plan.languages:
        groups.add("robots")
    return groups


def stale_plan(old: Manifest, overwritten: set[str]) -> Plan:
    """What an incremental publish rebuilds whatever the pending changes say: pages public but not
    published, published pages no longer public (a withdrawn page never stays up), and the objects a
    killed run may have overwritten."""
    plan = Plan()
    groups = {e.group for e in old.entries.values()}
    public_ids = public_page_ids()
    gone = withdrawn_groups(groups, public_ids)
    for pk in appeared_pages(groups, public_ids):
        builder = PlanBuilder()
        builder.page_changed(pk, reason=_("页面 %(page)s 已公开但尚未发布到静态网站") % {"page": pk})
        plan.merge(builder.plan)
    if gone:
        plan.page_ids |= gone
        plan.feed_ids |= gone
        plan.reasons.append(_("%(n)d 个页面不再公开") % {"n": len(gone)})
        builder = PlanBuilder()
        builder.context_of(gone)
        plan.merge(builder.plan)
    if overwritten:
        plan.merge(plan_for_paths(old, overwritten))
    return plan


def meta_entry(path: str) -> Entry:
    return Entry(path=path, sha256="", size=0, content_type="application/json", cache_control="no-store", kind="meta")


def check_deletion_cap(d: Diff, deletions: list[str], allow: bool) -> None:
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
            _("这次发布将删除 %(n)d 个文件（上限 %(cap)d）；请检查网站，确认无误后加 --allow-mass-delete 重新发布")
            % {"n": len(other), "cap": cap}
        )


# -- the steps ----------------------------------------------------------------------------------------
class Publisher:
    """One publish of ``target``, recorded in ``run``, while holding ``lease``.

    ``primary``: the target is the one the pending changes are for (a publish consumes them only then).
    """

    def __init__(
        self,
        run: PublishRun,
        target: PublishTarget,
        lease: Lease,
        *,
        primary: bool,
        dry_run: bool = False,
        progress: Progress | None = None,
        allow_mass_delete: bool = False,
        check_links: bool | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.run = run
        self.target = target
        self.lease = lease
        self.primary = primary
        self.dry_run = dry_run
        self._report = progress or _noop
        self.allow_mass_delete = allow_mass_delete
        self.check_links = check_links
        self.render_mode = render_mode
        self.result = PublishResult(run=run)
        self._mark = time.monotonic()
        # filled in by the steps, in order
        self.old = Manifest()
        self.leftovers: Leftovers | None = None
        self.last_change = 0  # the newest pending change this publish covers
        self.out = BuildOutput()
        self.new = Manifest()
        self.repair: list[Entry] = []
        self.purge_paths: set[str] = set()
        self.wrote_journal = False

    def publish(self, full: bool = False) -> PublishResult:
        """Run the steps in order; stop after ``plan`` or ``diff`` when there is nothing to do, and after
        ``diff`` on a dry run. Every step reads the visibility rule of one ``build_scope``, made for
        this publish."""
        with build_scope():
            return self._publish(full)

    def _publish(self, full: bool) -> PublishResult:
        self.recover()
        plan = self.plan(full)
        if plan.is_empty and not self.leftovers.any:
            return self.stop(PublishRun.Status.DRY_RUN if self.dry_run else PublishRun.Status.NOTHING)
        self.build()
        self.check()
        self.diff()
        if self.dry_run:
            return self.stop(PublishRun.Status.DRY_RUN)
        if not self.has_work:
            self.stop(PublishRun.Status.NOTHING)
            if self.leftovers.journal:
                self.target.delete_many([JOURNAL_PATH])  # a killed run's journal whose work turned out to be done
            return self.result
        self.upload()
        self.commit()
        self.delete()
        self.purge()
        self.record()
        return self.result

    def progress(self, phase: str, done: int, total: int) -> None:
        """Report progress; every tick also keeps the lease (``LeaseLost`` stops the publish)."""
        self._report(phase, done, total)
        self.lease.tick()

    def phase(self, name: str) -> None:
        """End the phase ``name``: note its duration, renew the lease (``LeaseLost`` if it is gone)."""
        now = time.monotonic()
        self.run.note_phase(name, int((now - self._mark) * 1000))
        self._mark = now
        self.lease.renew()

    def recover(self) -> None:
        """Read the last manifest and what a previous run left undone (its journal, pending deletions
        and purges)."""
        self.old, self.leftovers = Leftovers.read(self.target)

    def plan(self, full: bool) -> Plan:
        """Everything (asked for, a target with no manifest, or not the configured target), or what the
        pending changes affect plus what the manifest shows stale."""
        changes, self.last_change = pending.load(self.primary)
        if not self.old.entries:
            full = True
        if not self.primary and not full:
            full = True
            self.run.reason = _("不是配置的发布目标：全站构建（待发布的修改仍留给配置的目标）")
        if full:
            plan = full_plan(self.run.reason or _("全站发布"))
        else:
            plan = pending.plan(changes)
            plan.merge(stale_plan(self.old, self.leftovers.overwritten))
            if not plan.is_empty:
                # a page published, moved, restricted or withdrawn may open or close a redirect to it
                plan.site_groups.add("redirects")
        self.run.note_plan(plan)
        # purges still owed: the run carries the flag until it sent them (the scheduled tick retries)
        self.run.purge_failed = bool(self.leftovers.purge)
        self.result.plan = plan
        self.phase("plan")
        return plan

    def build(self) -> None:
        """Render the plan and make the new manifest (the old one with the rebuilt groups replaced)."""
        plan = self.result.plan
        renderer = Renderer(mode=self.render_mode)
        if not plan.full:
            renderer.published_sitemaps = published_sitemaps(self.old)
        self.out = renderer.out if plan.is_empty else build(plan, renderer, self.progress)
        self.run.note_build(self.out)
        entries = [obj.entry() for obj in self.out.objects.values()]
        self.new = Manifest.from_entries(entries) if plan.full else merge(self.old, rebuilt_groups(plan), entries)
        self.new.run_id = self.run.pk
        self.phase("render")

    def check(self) -> None:
        """Secrecy (raises: nothing is uploaded), then links (warnings; by default on full builds)."""
        check_secrecy(self.new)
        if self.check_links if self.check_links is not None else self.result.plan.full:
            broken = broken_links(
                ((o.path, o.body) for o in self.out.objects.values()), set(self.new.entries),
                base_url=publish_setting("BASE_URL"), dynamic_prefixes=publish_setting("DYNAMIC_PREFIXES"),
            )
            self.run.add_warnings((_("%(page)s 中的链接失效：%(link)s") % {"page": p, "link": link} for p, link in broken[:100]), limit=300)
            self.result.broken_links = broken
        self.phase("check")

    def diff(self) -> Diff:
        """Compare with the old manifest: uploads, deletions (capped), repairs and URLs to purge."""
        d = diff_manifests(self.old, self.new)
        left = self.leftovers
        deletions = sorted({e.path for e in d.removed} | (left.deletions - set(self.new.entries)))
        # objects a killed run may have overwritten that this diff calls unchanged: upload them again (the
        # target may hold the killed run's version, which the old manifest doesn't describe)
        touched = {e.path for e in d.added} | {e.path for e in d.changed}
        self.repair = [
            self.new.entries[p] for p in sorted(left.overwritten - touched)
            if p in self.new.entries and p in self.out.objects
        ]
        purge_paths = set(d.purge_urls()) | left.purge | {e.url or "/" + e.path for e in self.repair}
        if not get_backends():
            purge_paths = set()
            self.run.purge_failed = False
        self.purge_paths = purge_paths
        self.run.note_changes(d, deletions, self.repair)
        check_deletion_cap(d, deletions, self.allow_mass_delete)
        self.phase("diff")
        self.result.diff, self.result.deletions, self.result.purge_urls = d, deletions, sorted(purge_paths)
        return d

    @property
    def has_work(self) -> bool:
        return not (self.result.diff.is_empty and not self.result.deletions and not self.purge_paths and not self.repair)

    def upload(self) -> None:
        """Journal first (every object this run may add or overwrite, merged with what a killed earlier
        run left: a journal is replaced only by a superset of it), then assets, then pages."""
        from . import releases

        releases.archive(self)  # number the release and keep what it uploads, before uploading it
        d, left = self.result.diff, self.leftovers
        writing = sorted(left.written | {e.path for e in d.added})
        overwriting = sorted(left.overwritten | {e.path for e in d.changed} | {e.path for e in self.repair})
        if writing or overwriting:
            self.target.write(
                meta_entry(JOURNAL_PATH),
                json.dumps({"run": self.run.pk, "writing": writing, "overwriting": overwriting}).encode(),
            )
            self.wrote_journal = True
        uploads = d.uploads + self.repair
        bodies = self.out.objects
        done = [0]

        def tick(_entry):
            done[0] += 1
            if done[0] % 50 == 0 or done[0] == len(uploads):
                self.progress("upload", done[0], len(uploads))
            else:
                self.lease.tick()

        bound = target_bounds()["TARGET_TIMEOUT"]
        self.progress("upload", 0, len(uploads))
        assets = [(e, bodies[e.path].body) for e in uploads if e.kind == KIND_ASSET]
        write_many(self.target, assets, tick, timeout=bound)
        self.phase("upload_assets")
        pages = [e for e in uploads if e.kind != KIND_ASSET]
        for i in range(0, len(pages), UPLOAD_BATCH):  # one batch of bodies in memory at a time, in order
            batch = [(e, bodies[e.path].body) for e in pages[i : i + UPLOAD_BATCH]]
            write_many(self.target, batch, tick, timeout=bound)
        self.phase("upload_pages")

    def commit(self) -> None:
        """Write the manifest, with the deletions and purges still to do; drop the journal."""
        self.new.pending_deletions = self.result.deletions
        self.new.pending_purge = sorted(self.purge_paths)
        self.target.write(meta_entry(MANIFEST_PATH), self.new.to_bytes())
        if self.wrote_journal or self.leftovers.journal:
            self.target.delete_many([JOURNAL_PATH])
        self.phase("manifest")

    def delete(self) -> None:
        """Delete what the site no longer contains."""
        deletions = self.result.deletions
        if deletions:
            self.progress("delete", 0, len(deletions))
            self.target.delete_many(deletions)
            self.progress("delete", len(deletions), len(deletions))
        self.new.pending_deletions = []
        self.phase("delete")

    def purge(self) -> None:
        """Purge exactly the changed URLs from the CDN; the URLs that failed stay owed in the manifest."""
        paths = self.purge_paths
        if paths:
            self.progress("purge", 0, len(paths))
            outcome = purge_mod.purge(purge_mod.absolute_urls(paths), run=self.run)
            self.run.note_purge(outcome)
            failed = set(outcome.failed_urls)
            self.new.pending_purge = sorted(p for p in paths if purge_mod.absolute_urls([p])[0] in failed)
            self.progress("purge", len(paths), len(paths))
        self.phase("purge")

    def record(self) -> None:
        """Write the manifest again without the finished work; the pending changes are published."""
        from . import releases

        if self.result.deletions or self.purge_paths:
            self.target.write(meta_entry(MANIFEST_PATH), self.new.to_bytes())
        releases.record(self)  # keep the release's manifest, note it on the run, collect old releases
        self.stop(PublishRun.Status.SUCCEEDED)
        if self.primary:
            from search.public.tasks import request_export

            request_export()  # the public search bundle follows the site, in a background job
        self.phase("finish")

    def stop(self, status: str) -> PublishResult:
        """End with ``status``; a publish that reflects every pending change (nothing to do, or done)
        acknowledges them, on the configured target only."""
        self.run.status = status
        if self.primary and status in (PublishRun.Status.NOTHING, PublishRun.Status.SUCCEEDED):
            pending.acknowledge(self.last_change)
        return self.result
