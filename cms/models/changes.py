"""The change feed's tables: one outbox row per content change, and each consumer's place in it.

``cms.changes`` writes a :class:`ContentChange` in the transaction that makes the change (so a rolled-back
edit leaves no row) and decides what counts as a content change; each consumer (publishing, the search
index) reads the rows after its :class:`ChangeCursor` and decides what work they mean for it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ContentChange(models.Model):
    """One content change, with what had to be known at the moment it happened."""

    class Event(models.TextChoices):
        PUBLISHED = "published", _("发布")
        UNPUBLISHED = "unpublished", _("取消发布")  # also a scheduled expiry
        MOVED = "moved", _("移动")
        DELETED = "deleted", _("删除页面")
        #: a page row saved outside a publish (not a draft save): a script, a bulk update, a new page
        PAGE_SAVED = "page_saved", _("页面修改")
        RESTRICTION = "restriction", _("访问限制")
        #: an image, document, snippet or other content object added / changed / deleted
        ADDED = "added", _("新增对象")
        CHANGED = "changed", _("修改对象")
        REMOVED = "removed", _("删除对象")
        DICTIONARY = "dictionary", _("搜索词典")
        #: a site or locale changed
        SITE = "site", _("站点设置")
        #: anything may have changed: rebuild everything (requested, or carried over by a migration)
        FULL = "full", _("全部重建")

    created_at = models.DateTimeField(default=timezone.now)
    event = models.CharField(max_length=16, choices=Event.choices)
    page_id = models.BigIntegerField(null=True, blank=True)
    #: the page's whole subtree may look different (unpublished, moved, restriction, a section reappeared)
    subtree = models.BooleanField(default=False)
    #: the changed object, when it is not a page ("app_label.Model" and its primary key)
    content_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    #: other pages affected, known only at the time (ancestors of a deleted page, the old parent of a
    #: moved one, the pages that showed a deleted object)
    pages = models.JSONField(default=list, blank=True)
    #: listing pages whose filters offered a deleted term (they rebuild their own sub-routes)
    listings = models.JSONField(default=list, blank=True)
    #: only this consumer needs the row (a full publish requested for the static site); blank: everyone
    consumer = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("内容变更")
        verbose_name_plural = _("内容变更")

    def __str__(self) -> str:
        target = f"page {self.page_id}" if self.page_id else f"{self.content_type}:{self.object_id}"
        return f"#{self.pk} {self.event} {target} ({self.reason})"


class ChangeCursor(models.Model):
    """How far one consumer of the feed has got: every change up to ``position`` is done for it."""

    consumer = models.CharField(max_length=32, primary_key=True)
    position = models.BigIntegerField(default=0)
    #: ids at or below ``position`` that were not committed when the consumer read past them, with the
    #: time first seen missing ([[id, unix time], ...]): on PostgreSQL a transaction that took a lower
    #: id may commit after a higher one was consumed; the consumer reads these again until they appear
    #: or ``cms.changes.GAP_TTL`` passes (a rolled-back id never appears)
    gaps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("变更进度")
        verbose_name_plural = _("变更进度")

    def __str__(self) -> str:
        return f"{self.consumer} @ {self.position}"
