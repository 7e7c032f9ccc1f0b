"""``manage.py publish_site``: publish the static site (a thin wrapper over ``deploy.service.publish``).

If another publish to the same target is running (the background worker's, typically right after
``load_demo`` queued changes), the command waits for it to finish (``--wait``, default 30 minutes,
longer than a dead publisher's lease) and then publishes; the lease still keeps two publishes from
interleaving. ``--to DIR`` publishes into another folder without taking the configured target's queue of
pending changes. ``--rollback [RELEASE]`` restores the previous (or the named) release of the target,
holding the lease like a publish (``deploy.releases``); ``--releases`` lists them.
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from deploy.releases import RollbackError, releases_of
from deploy.releases import rollback as restore_release
from deploy.service import PublishBusy, TooManyDeletions, publish
from deploy.service import verify as verify_target
from deploy.tasks import ensure_schedule

#: seconds to wait for a running publish (a live one keeps its lease with a heartbeat; a dead one is
#: taken over within LOCK_TTL, at once when its process is gone from this host)
DEFAULT_WAIT = 1800.0


class Command(BaseCommand):
    help = "Publish the public site to the configured target (incremental unless --full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every page, not only what changed")
        parser.add_argument("--dry-run", action="store_true", help="build and compare, upload nothing")
        parser.add_argument(
            "--to", metavar="DIR",
            help="publish into this local folder instead of the target (a full build; the configured "
            "target's pending changes stay queued for it)",
        )
        parser.add_argument("--allow-mass-delete", action="store_true", help="lift the deletion cap")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--wait", type=float, default=DEFAULT_WAIT, metavar="SECONDS",
            help=f"if another publish to the target is running, wait up to this long for it to finish "
            f"(default {DEFAULT_WAIT:.0f}; 0 fails at once)",
        )
        parser.add_argument("--no-wait", action="store_const", const=0.0, dest="wait", help="same as --wait 0")
        parser.add_argument(
            "--verify", action="store_true", help="compare the target with its manifest (no publish)"
        )
        parser.add_argument(
            "--rollback", nargs="?", type=int, const=0, default=None, metavar="RELEASE",
            help="restore the previous release of the target, or release RELEASE (see --releases); "
            "what is not public now stays off the site",
        )
        parser.add_argument("--releases", action="store_true", help="list the target's releases")

    def handle(self, *args, full=False, dry_run=False, to=None, allow_mass_delete=False, no_progress=False,
               verify=False, wait=DEFAULT_WAIT, rollback=None, releases=False, **kw):
        if releases:
            self.list_releases(to)
            return
        if verify:
            report = verify_target(folder=to, check_hashes=True)
            for label, paths in (("missing", report.missing), ("extra", report.extra),
                                 ("different", report.mismatched)):
                for p in paths[:100]:
                    self.stdout.write(f"{label}: {p}")
            if not report.ok:
                raise CommandError("the target does not match its manifest; run publish_site --full")
            self.stdout.write("the target matches its manifest")
            return
        bar = None if no_progress or kw.get("verbosity", 1) < 1 else ProgressBar(self.stderr)
        common = dict(
            dry_run=dry_run, folder=to, progress=bar, trigger="command", allow_mass_delete=allow_mass_delete,
            wait=max(0.0, wait or 0.0), on_wait=lambda message: self.stderr.write(message),
        )
        try:
            if rollback is not None:
                result = restore_release(rollback or None, **common)
            else:
                result = publish(full=full, **common)
        except (PublishBusy, TooManyDeletions, RollbackError) as e:
            raise CommandError(str(e)) from e
        finally:
            if bar:
                bar.close()
        run = result.run
        ensure_schedule()
        self.stdout.write(
            f"{run.get_status_display()} [{run.mode}] → {run.target}: rendered {run.rendered} pages, "
            f"uploaded {run.uploaded}, deleted {run.deleted}, unchanged {run.unchanged}, "
            f"purged {run.purged} URLs in {run.duration_ms / 1000:.2f}s"
        )
        if dry_run and result.diff is not None:
            d = result.diff
            for label, items in (("add", d.added), ("change", d.changed)):
                for e in items[:50]:
                    self.stdout.write(f"  {label} {e.path}")
            for p in result.deletions[:50]:
                self.stdout.write(f"  delete {p}")
        for w in run.warnings[:20]:
            self.stderr.write(f"warning: {w}")

    def list_releases(self, to) -> None:
        from deploy.targets import get_target

        for info in releases_of(get_target(to)):
            run = info.run
            what = ""
            if run is not None:
                restored = run.changes.get("release", {}).get("restored_from")
                what = f"run #{run.pk} {run.started_at:%Y-%m-%d %H:%M:%S}" + (
                    f", rollback to {restored}" if restored else f", {run.mode}"
                )
            flags = " (current)" if info.current else "" if info.restorable else " (collected)"
            self.stdout.write(f"{info.number:>6}{flags} {what}".rstrip())


class ProgressBar:
    """A one-line text progress bar on stderr (no dependency)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = getattr(getattr(stream, "_out", stream), "isatty", lambda: False)()
        self.last = 0.0
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase == self.phase and done < total and now - self.last < 0.2:
            return
        self.last = now
        width = 30
        filled = int(width * done / total) if total else width
        line = f"{phase:>8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.tty:
            self.stream.write("\r" + line, ending="")
            if done >= total:
                self.stream.write("")
        elif phase != self.phase or done >= total:
            self.stream.write(line)
        self.phase = phase
        sys.stderr.flush()

    def close(self) -> None:
        pass
