"""The audit log as one list: our ``AuditEvent`` rows and Wagtail's log entries, newest first.

Wagtail keeps publish, unpublish, workflow and edit actions in its own log models; rather than copy
them, the view and the CSV export read every source through the same filter and merge them by time.
Each source is read in time order, so a page of results or a whole export needs no union query and
no more rows in memory than one page per source.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent

ACTION_LABELS = {
    "auth.login": _("登录"),
    "auth.login_failed": _("登录失败"),
    "auth.lockout": _("账号锁定"),
    "auth.logout": _("退出登录"),
    "auth.password_changed": _("修改密码"),
    "auth.2fa_added": _("添加双因素设备"),
    "auth.2fa_enabled": _("启用双因素认证"),
    "auth.2fa_disabled": _("停用双因素认证"),
    "auth.2fa_removed": _("移除双因素设备"),
    "security.unlock": _("解除锁定"),
    "security.password_expired": _("密码已过期"),
    "security.2fa.enabled": _("启用双因素认证"),
    "security.2fa.disabled": _("停用双因素认证"),
    "security.2fa.recovery_regenerated": _("重新生成恢复码"),
    "security.2fa.recovery_used": _("使用恢复码登录"),
    "user.created": _("创建账号"),
    "user.deleted": _("删除账号"),
    "user.activated": _("启用账号"),
    "user.deactivated": _("停用账号"),
    "perm.group_changed": _("用户组变更"),
    "perm.user_permissions_changed": _("账号权限变更"),
    "perm.superuser_changed": _("超级管理员身份变更"),
    "perm.staff_changed": _("职员身份变更"),
    "perm.group_created": _("创建用户组"),
    "perm.group_deleted": _("删除用户组"),
    "perm.group_permissions_changed": _("用户组权限变更"),
    "perm.role_setup": _("初始化三员角色"),
    "settings.created": _("新建设置"),
    "settings.changed": _("修改设置"),
    "settings.deleted": _("删除设置"),
    "audit.export": _("导出审计日志"),
}


@dataclass
class Row:
    time: datetime
    action: str
    label: str
    username: str
    address: str
    user_agent: str
    object: str
    detail: dict = field(default_factory=dict)
    source: str = "audit"


@dataclass
class Filters:
    start: date | None = None
    end: date | None = None
    action: str = ""
    account: str = ""

    def as_detail(self) -> dict:
        return {k: str(v) for k, v in vars(self).items() if v}


def _bounds(filters: Filters):
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(filters.start, time.min), tz) if filters.start else None
    end = (
        timezone.make_aware(datetime.combine(filters.end + timedelta(days=1), time.min), tz)
        if filters.end
        else None
    )
    return start, end


def wagtail_log_models():
    from wagtail.log_actions import registry

    return list(registry.get_log_entry_models())


def wagtail_action_label(action: str) -> str:
    from wagtail.log_actions import registry

    try:
        return str(registry.get_action_label(action))
    except KeyError:
        return action


def action_choices() -> list[tuple[str, str]]:
    from wagtail.log_actions import registry

    ours = [(code, str(label)) for code, label in ACTION_LABELS.items()]
    theirs = [(code, str(label)) for code, label in registry.get_choices()]
    return ours + theirs


def _filtered(qs, filters: Filters, time_field: str, account: Q):
    """``qs`` narrowed to the filters' dates, action and account, newest first."""
    start, end = _bounds(filters)
    if start:
        qs = qs.filter(**{f"{time_field}__gte": start})
    if end:
        qs = qs.filter(**{f"{time_field}__lt": end})
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.account:
        qs = qs.filter(account)
    return qs.order_by(f"-{time_field}", "-pk")


def _our_rows(filters: Filters):
    return _filtered(AuditEvent.objects.all(), filters, "time", Q(username__icontains=filters.account))


def _to_row(event: AuditEvent) -> Row:
    return Row(
        time=event.time,
        action=event.action,
        label=str(ACTION_LABELS.get(event.action, event.action)),
        username=event.username,
        address=event.address or "",
        user_agent=event.user_agent,
        object=event.object_repr,
        detail=event.detail,
    )


def _their_rows(model, filters: Filters):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    account = Q(user__in=User._default_manager.filter(**{f"{User.USERNAME_FIELD}__icontains": filters.account}))
    return _filtered(model.objects.all(), filters, "timestamp", account)


def _entry_to_row(entry, usernames: dict) -> Row:
    return Row(
        time=entry.timestamp,
        action=entry.action,
        label=wagtail_action_label(entry.action),
        username=usernames.get(entry.user_id, "") if entry.user_id else "",
        address="",
        user_agent="",
        object=entry.label,
        detail=entry.data or {},
        source=entry._meta.model_name,
    )


def _username_map(entries) -> dict:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    ids = {e.user_id for e in entries if e.user_id}
    if not ids:
        return {}
    return dict(User._default_manager.filter(pk__in=ids).values_list("pk", User.USERNAME_FIELD))


def _iter_source(queryset, convert, batch: int) -> Iterator[Row]:
    """Read a time-ordered queryset in batches (keyset-free: offsets are fine at audit volumes)."""
    offset = 0
    while True:
        chunk = list(queryset[offset : offset + batch])
        if not chunk:
            return
        yield from convert(chunk)
        offset += batch


def iter_rows(filters: Filters, batch: int = 500) -> Iterator[Row]:
    """Every row matching the filters, newest first, across all sources."""
    sources = [_iter_source(_our_rows(filters), lambda chunk: map(_to_row, chunk), batch)]
    for model in wagtail_log_models():

        def convert(chunk):
            names = _username_map(chunk)
            return (_entry_to_row(e, names) for e in chunk)

        sources.append(_iter_source(_their_rows(model, filters), convert, batch))
    return heapq.merge(*sources, key=lambda row: row.time, reverse=True)


def count(filters: Filters) -> int:
    return _our_rows(filters).count() + sum(_their_rows(m, filters).count() for m in wagtail_log_models())


def rows_between(filters: Filters, start: int, stop: int) -> list[Row]:
    """Rows ``start`` to ``stop`` of the merged list (reads at most ``stop`` rows from each source)."""
    return list(itertools.islice(iter_rows(filters, batch=min(stop, 1000)), start, stop))
