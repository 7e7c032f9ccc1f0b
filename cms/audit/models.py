"""The audit log's own records: what happened to accounts, permissions and settings.

Wagtail already records publish, unpublish, workflow and edit actions in its log entries
(``wagtail.models.PageLogEntry`` / ``ModelLogEntry``); the audit view reads those beside these rows
instead of copying them. Rows here are append-only: nothing in the admin edits or deletes them, the
model refuses updates, and only the retention job (``cms.audit.retention``) removes old ones.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    def older_than(self, cutoff):
        return self.filter(time__lt=cutoff)


class AuditEvent(models.Model):
    """One security-relevant event (等保: time, account, address, user agent, what happened)."""

    time = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # Events recorded while an account is being deleted must not block the deletion.
        db_constraint=False,
    )
    # Kept as text so a deleted or renamed account's events still say whose they were.
    username = models.CharField(_("用户名"), max_length=150, blank=True, db_index=True)
    address = models.GenericIPAddressField(_("客户端地址"), null=True, blank=True)
    user_agent = models.CharField(_("用户代理"), max_length=512, blank=True)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("对象类型"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    object_id = models.CharField(_("对象编号"), max_length=255, blank=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-time", "-pk"]
        default_permissions = ()
        permissions = [
            ("view_auditlog", _("可查看和导出审计日志")),
            ("assign_roles", _("可为其他账号分配角色（用户组）")),
        ]

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.action} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("审计事件只能追加，不能修改。")
        super().save(*args, **kwargs)


class PruneSchedule(models.Model):
    """The live chain of retention jobs (one row): a job whose token is not this one stops, so
    starting the chain twice never runs two chains (the pattern of ``deploy.tasks.schedule_tick``)."""

    name = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
