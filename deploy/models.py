"""Publish history, the publish lease, CDN purge records and the queue of pending changes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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

    @classmethod
    def mark_interrupted(cls, lock_name: str | None = None) -> int:
        """Mark runs still "running" whose lease has expired (or was taken over) as interrupted.

        A publish that is killed (SIGKILL, a machine restart) never reaches its ``finally``: its run would
        stay "running" forever. A live publish renews its lease at every phase, so a run whose lease is
        no longer held by it has stopped. ``lock_name``: only the runs on that target (``publish()``, once
        it holds the target's lease, closes the runs a killed publish left there). Returns how many runs
        were marked.
        """
        now = timezone.now()
        marked = 0
        runs = cls.objects.filter(status=cls.Status.RUNNING)
        if lock_name is not None:
            runs = runs.filter(lock_name=lock_name)
        for run in runs.only("pk", "lock_name", "holder", "started_at"):
            if run.lock_name and run.holder:
                ended_at = (
                    PublishLock.objects.filter(name=run.lock_name, holder=run.holder)
                    .values_list("expires_at", flat=True).first()
                )
                alive = ended_at is not None and ended_at > now
            else:  # a run recorded before leases were noted: give it the default lease from its start
                from .conf import publish_setting

                ttl = timedelta(seconds=int(publish_setting("LOCK_TTL")))
                alive = run.started_at + ttl > now
                ended_at = None
            if alive:
                continue
            marked += cls.objects.filter(pk=run.pk, status=cls.Status.RUNNING).update(
                status=cls.Status.INTERRUPTED,
                finished_at=min(ended_at or now, now),
                error="中断：发布进程在完成前停止（例如被终止或服务器重启），且其租约已过期。"
                "下一次发布会完成未完成的工作。\n"
                "Interrupted: the publish stopped before finishing and its lease expired; "
                "the next publish finishes the work.",
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


class PendingChange(models.Model):
    """Something editors changed that the static site does not reflect yet.

    Signal handlers only insert a row (cheap, inside the editor's transaction); the background job
    takes every pending row, rebuilds what they affect and deletes them once the publish succeeded. A
    crash or an unreachable target leaves the rows in place, so nothing is lost.
    """

    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=32)  # page, subtree, object, listing, full
    object_id = models.CharField(max_length=64, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    #: page ids whose groups must also be rebuilt (old parent of a moved page, ancestors of a deleted one)
    also_pages = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.content_type}:{self.object_id} ({self.reason})"


class PublishLock(models.Model):
    """A lease: at most one publish per target runs at a time, and a dead holder's lease expires."""

    name = models.CharField(max_length=255, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder or 'nobody'} until {self.expires_at}"

    @classmethod
    def acquire(cls, name: str, ttl: timedelta, holder: str | None = None) -> str | None:
        """Take the lease if it is free or expired; return the holder token, or None if busy."""
        holder = holder or uuid.uuid4().hex
        now = timezone.now()
        taken = cls.objects.filter(name=name, expires_at__lt=now).update(
            holder=holder, acquired_at=now, expires_at=now + ttl
        )
        if taken:
            return holder
        if not cls.objects.filter(name=name).exists():
            try:
                with transaction.atomic():
                    cls.objects.create(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
                return holder
            except IntegrityError:
                return None
        return None

    @classmethod
    def renew(cls, name: str, holder: str, ttl: timedelta) -> bool:
        return bool(
            cls.objects.filter(name=name, holder=holder).update(expires_at=timezone.now() + ttl)
        )

    @classmethod
    def release(cls, name: str, holder: str) -> None:
        cls.objects.filter(name=name, holder=holder).update(holder="", expires_at=timezone.now())
