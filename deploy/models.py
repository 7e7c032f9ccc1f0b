"""Publish history, the publish lease and CDN purge records (pending changes: ``deploy.pending``)."""

from __future__ import annotations

import os
import socket
import time
import traceback
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .affected import Plan
    from .manifest import Diff, Entry
    from .purge import PurgeOutcome
    from .render import BuildOutput

#: how many URLs of each kind a run keeps as its sample of what changed
CHANGES_SAMPLE = 200


class PublishRun(models.Model):
    """One publish, as editors see it in the history report."""

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        SUCCEEDED = "succeeded", _("成功")
        NOTHING = "nothing", _("无变化")
        DRY_RUN = "dry_run", _("演练")
        FAILED = "failed", _("失败")
        #: stopped without finishing (the process was killed) and its lease has run out
        INTERRUPTED = "interrupted", _("中断")

    class Mode(models.TextChoices):
        FULL = "full", _("全站")
        INCREMENTAL = "incremental", _("增量")

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    trigger = models.CharField(max_length=32, default="command")
    reason = models.TextField(blank=True)
    target = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rendered = models.PositiveIntegerField(default=0)
    uploaded = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    purged = models.PositiveIntegerField(default=0)
    purge_failed = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(default=0)
    #: milliseconds per phase (render, diff, upload, delete, purge...)
    timings = models.JSONField(default=dict, blank=True)
    #: a sample of what changed: {"added": [...], "changed": [...], "removed": [...]} (URLs, capped)
    changes = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    #: the lease this run held (``PublishLock.name`` and holder token): a running run whose lease is gone
    #: was killed mid-way (see ``mark_interrupted``)
    lock_name = models.CharField(max_length=255, blank=True)
    holder = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("发布记录")
        verbose_name_plural = _("发布记录")

    def __str__(self) -> str:
        return f"#{self.pk} {self.mode} {self.status}"

    @property
    def duration_s(self) -> float:
        return self.duration_ms / 1000

    @property
    def is_problem(self) -> bool:
        """What editors must be told about (the dashboard warning)."""
        return self.status in (self.Status.FAILED, self.Status.INTERRUPTED)

    # -- the bookkeeping of a publish (``deploy.publisher`` calls these as its steps go) ------------------
    @classmethod
    def start(cls, target, *, full: bool, trigger: str, user, holder: str) -> PublishRun:
        """Record a publish to ``target`` that holds its lease (``holder``): any other run still
        "running" on that target is dead, and is marked interrupted first."""
        lock_name = target.key[:255]
        cls.mark_interrupted(lock_name=lock_name)
        return cls.objects.create(
            mode=cls.Mode.FULL if full else cls.Mode.INCREMENTAL,
            trigger=trigger,
            target=target.describe()[:500],
            requested_by=user if getattr(user, "pk", None) else None,
            lock_name=lock_name,
            holder=holder,
        )

    def note_plan(self, plan: Plan) -> None:
        """The mode the plan settled on, and its reasons (each once, in order)."""
        if plan.full:
            self.mode = self.Mode.FULL
        self.reason = "; ".join(dict.fromkeys(r for r in plan.reasons if r))[:2000]

    def note_build(self, out: BuildOutput) -> None:
        self.rendered = out.pages_rendered
        self.warnings = list(dict.fromkeys(out.warnings))[:200]

    def add_warnings(self, messages: Iterable[str], limit: int | None = None) -> None:
        self.warnings = (self.warnings + list(messages))[:limit]

    def note_changes(self, d: Diff, deletions: list[str], repair: list[Entry]) -> None:
        """Counts, and a sample of what changed (URLs, capped) for the history report. ``repair``: objects
        uploaded again because a killed run may have overwritten them."""
        self.uploaded = len(d.added) + len(d.changed) + len(repair)
        self.unchanged = d.unchanged
        self.deleted = len(deletions)
        self.changes = {
            "added": sorted(e.url or e.path for e in d.added)[:CHANGES_SAMPLE],
            "changed": sorted(e.url or e.path for e in d.changed)[:CHANGES_SAMPLE],
            "removed": sorted(deletions)[:CHANGES_SAMPLE],
            "counts": {"added": len(d.added), "changed": len(d.changed), "removed": len(deletions)},
        }
        if repair:
            self.changes["repaired"] = sorted(e.url or e.path for e in repair)[:CHANGES_SAMPLE]
            self.changes["counts"]["repaired"] = len(repair)

    def note_purge(self, outcome: PurgeOutcome) -> None:
        """What the CDN purge sent; a failure is a warning (the next publish retries), never an error."""
        self.purged = outcome.sent
        self.purge_failed = not outcome.ok
        if outcome.errors:
            self.add_warnings(f"CDN purge failed (will retry next publish): {e}" for e in outcome.errors[:10])

    def note_phase(self, name: str, ms: int) -> None:
        self.timings[name] = ms

    def fail(self, exc: BaseException) -> None:
        """Call while handling ``exc``: the traceback goes into ``error``."""
        self.status = self.Status.FAILED
        self.error = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=8)}"[:20000]

    def finish(self, started: float) -> None:
        """Save the run as it ended (``started``: its ``time.monotonic()`` start), however it ended."""
        self.finished_at = timezone.now()
        self.duration_ms = int((time.monotonic() - started) * 1000)
        self.save()

    @classmethod
    def mark_interrupted(cls, lock_name: str | None = None) -> int:
        """Mark runs still "running" whose lease has expired (or was taken over) as interrupted.

        A publish that is killed (SIGKILL, a machine restart) never reaches its ``finally``: its run would
        stay "running" forever. A live publish renews its lease every few seconds, so a run whose lease is
        no longer held by it (taken over, expired, or its process gone) has stopped. ``lock_name``: only
        the runs on that target (``publish()``, once it holds the target's lease, closes the runs a killed
        publish left there). Returns how many runs were marked.
        """
        now = timezone.now()
        marked = 0
        runs = cls.objects.filter(status=cls.Status.RUNNING)
        if lock_name is not None:
            runs = runs.filter(lock_name=lock_name)
        for run in runs.only("pk", "lock_name", "holder", "started_at"):
            if run.lock_name and run.holder:
                lock = (
                    PublishLock.objects.filter(name=run.lock_name, holder=run.holder)
                    .only("holder", "expires_at", "host", "pid").first()
                )
                ended_at = lock.expires_at if lock is not None else None
                alive = lock is not None and lock.expires_at > now and not lock.holder_gone
            else:  # a run recorded before leases were noted: give it the default lease from its start
                from .conf import publish_setting

                ttl = timedelta(seconds=float(publish_setting("LOCK_TTL")))
                alive = run.started_at + ttl > now
                ended_at = None
            if alive:
                continue
            marked += cls.objects.filter(pk=run.pk, status=cls.Status.RUNNING).update(
                status=cls.Status.INTERRUPTED,
                finished_at=min(ended_at or now, now),
                error="中断：发布进程在完成前停止（例如被终止或服务器重启），其租约已失效（心跳停止或进程已不存在）。"
                "下一次发布接管租约，并完成未完成的工作。\n"
                "Interrupted: the publish stopped before finishing (no heartbeat, or its process is gone); "
                "the next publish takes over its lease and finishes the work.",
            )
        return marked


class PurgeRecord(models.Model):
    """One batch sent to one CDN backend, with its outcome."""

    run = models.ForeignKey(PublishRun, null=True, on_delete=models.CASCADE, related_name="purges")
    created_at = models.DateTimeField(default=timezone.now)
    backend = models.CharField(max_length=100)
    url_count = models.PositiveIntegerField(default=0)
    urls = models.JSONField(default=list, blank=True)
    ok = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.backend}: {self.url_count} URLs {'ok' if self.ok else 'failed'}"


class PublishLock(models.Model):
    """A lease: at most one publish per target runs at a time, and a dead holder's lease is taken over.

    Its holder renews it (``expires_at``, ``heartbeat_at``) every few seconds while it runs. The next
    publish takes it over when it ran out (no heartbeat for the lease's length) or at once when its
    holder's process is gone from this host (``host``, ``pid``: a killed publisher on the same machine).
    """

    name = models.CharField(max_length=255, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)
    #: the holder's last renewal, its machine and process (``host`` carries the PID namespace, so a
    #: container sharing a hostname is never taken for this one)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder or 'nobody'} until {self.expires_at}"

    @property
    def holder_gone(self) -> bool:
        """Whether the holder's process is known to be gone (it ran on this host and no longer exists)."""
        return bool(self.holder and self.pid and self.host == this_host() and not process_alive(self.pid))

    @classmethod
    def acquire(cls, name: str, ttl: timedelta, holder: str | None = None) -> str | None:
        """Take the lease if it is free, expired, or held by a process gone from this host; return the
        holder token, or None if busy."""
        holder = holder or uuid.uuid4().hex
        now = timezone.now()
        mine = {"holder": holder, "acquired_at": now, "expires_at": now + ttl, "heartbeat_at": now,
                "host": this_host(), "pid": os.getpid()}
        if cls.objects.filter(name=name, expires_at__lt=now).update(**mine):
            return holder
        current = cls.objects.filter(name=name).only("holder", "host", "pid").first()
        if current is None:
            try:
                with transaction.atomic():
                    cls.objects.create(name=name, **mine)
                return holder
            except IntegrityError:
                return None
        if current.holder_gone and cls.objects.filter(name=name, holder=current.holder).update(**mine):
            return holder
        return None

    @classmethod
    def renew(cls, name: str, holder: str, ttl: timedelta) -> bool:
        now = timezone.now()
        return bool(cls.objects.filter(name=name, holder=holder).update(expires_at=now + ttl, heartbeat_at=now))

    @classmethod
    def release(cls, name: str, holder: str) -> None:
        cls.objects.filter(name=name, holder=holder).update(holder="", expires_at=timezone.now(), pid=None)


def this_host() -> str:
    """This machine's name, with its PID namespace where Linux shows it (process ids are comparable only
    within one namespace)."""
    try:
        ns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname()[:200]
    return f"{socket.gethostname()[:200]} pidns:{ns}"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie (a killed process its parent has
    not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    except OSError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")
