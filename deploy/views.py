"""Admin views: the publish history report, the "publish the whole site" button, and rollback to an
earlier release (``deploy.releases``) with a confirmation step.

Viewing the history (and the dashboard warning about a failed publish) needs ``deploy.view_publishrun``,
which reviewers and editors have (migration 0003); publishing the whole site, and rolling back, need
``deploy.add_publishrun`` (administrators).
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import permission_required, user_passes_test
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import pending, releases
from .conf import publish_setting
from .models import PublishRun

#: may publish the whole site
PERMISSION = "deploy.add_publishrun"
#: may see the publish history and its failures
VIEW_PERMISSION = "deploy.view_publishrun"


#: how a publish was started (``PublishRun.trigger``), as editors read it
TRIGGERS = {
    "auto": gettext_lazy("内容修改后自动"),
    "admin": gettext_lazy("管理后台"),
    "schedule": gettext_lazy("定时"),
    "command": gettext_lazy("命令行"),
}
#: the publisher's timed steps (``PublishRun.timings``)
PHASES = {
    "plan": gettext_lazy("计划"),
    "render": gettext_lazy("渲染"),
    "restore": gettext_lazy("恢复"),
    "check": gettext_lazy("检查"),
    "diff": gettext_lazy("比对"),
    "upload": gettext_lazy("上传"),
    "manifest": gettext_lazy("清单"),
    "delete": gettext_lazy("删除"),
    "purge": gettext_lazy("CDN 刷新"),
    "finish": gettext_lazy("收尾"),
}
#: the lists of ``PublishRun.changes``
CHANGE_LISTS = {
    "added": gettext_lazy("新增"),
    "changed": gettext_lazy("修改"),
    "removed": gettext_lazy("删除"),
    "repaired": gettext_lazy("重新上传"),
}


#: reasons recorded in English before they were written in Chinese, as they read now
LEGACY_REASONS = [
    (re.compile(r"^published «(.*)»$"), gettext_lazy("发布《%(0)s》")),
    (re.compile(r"^unpublished «(.*)»$"), gettext_lazy("取消发布《%(0)s》")),
    (re.compile(r"^moved «(.*)»$"), gettext_lazy("移动《%(0)s》")),
    (re.compile(r"^deleted «(.*)»$"), gettext_lazy("删除《%(0)s》")),
    (re.compile(r"^page «(.*)» saved$"), gettext_lazy("保存页面《%(0)s》")),
    (re.compile(r"^page «(.*)» relations changed$"), gettext_lazy("修改页面《%(0)s》的关联")),
    (re.compile(r"^dictionary «(.*)» changed$"), gettext_lazy("修改词典《%(0)s》")),
    (re.compile(r"^(.*) «(.*)» (?:added|changed|deleted)$"), gettext_lazy("修改%(0)s《%(1)s》")),
    (re.compile(r"^(.*) of page (\d+) changed$"), gettext_lazy("修改页面 %(1)s 的%(0)s")),
    (re.compile(r"^view restriction changed$"), gettext_lazy("访问限制已修改")),
    (re.compile(r"^full publish requested$"), gettext_lazy("请求全站发布")),
    (re.compile(r"^full(?: publish)?$"), gettext_lazy("全站发布")),
    (re.compile(r"^(\d+) pages no longer public$"), gettext_lazy("%(0)s 个页面不再公开")),
    (re.compile(r"^page (\d+) is public but not published$"), gettext_lazy("页面 %(0)s 已公开但尚未发布到静态网站")),
    (re.compile(r"^page (\d+) moved or changed with (\d+) descendants$"), gettext_lazy("页面 %(0)s 及其下 %(1)s 个页面移动或修改")),
    (re.compile(r"^page (\d+) appears on every page$"), gettext_lazy("页面 %(0)s 出现在每个页面上")),
    (re.compile(r"^re-checking (\d+) objects .*$"), gettext_lazy("重新检查中断的发布可能覆盖的 %(0)s 个文件")),
    (re.compile(r"^not the configured target.*$"), gettext_lazy("不是配置的发布目标：全站构建（待发布的修改仍留给配置的目标）")),
]


def trigger_label(run: PublishRun) -> str:
    return TRIGGERS.get(run.trigger, run.trigger)


def reason_label(reason: str) -> str:
    """A run's reasons as editors read them (runs recorded before the reasons were Chinese included)."""
    parts = []
    for part in reason.split("; ") if reason else []:
        for pattern, label in LEGACY_REASONS:
            found = pattern.match(part)
            if found:
                part = str(label) % {str(i): g for i, g in enumerate(found.groups())}
                break
        parts.append(part)
    return "；".join(parts)


def rollback_outcome(run: PublishRun) -> str:
    """"refused" (another publish held the target), "failed", or "" for a run that is not a failed rollback."""
    info = (run.changes or {}).get("rollback") if isinstance(run.changes, dict) else None
    return str(info.get("outcome", "failed")) if isinstance(info, dict) and run.is_problem else ""


def can_view(user) -> bool:
    return user.has_perm(VIEW_PERMISSION) or user.has_perm(PERMISSION)


def _viewer(user) -> bool:
    if not can_view(user):
        raise PermissionDenied
    return True


def release_label(info: dict) -> str:
    if not info:
        return ""
    label = _("第 %(n)d 版") % {"n": info["number"]}
    if info.get("restored_from"):
        label += _("（回滚至第 %(n)d 版）") % {"n": info["restored_from"]}
    return label


class _Releases:
    """The configured target's releases, as the history offers them for rollback."""

    def __init__(self) -> None:
        from .service import configured_target

        target = configured_target()
        self.lock_name = target.key[:255] if target is not None else None
        try:
            self.kept = set(releases.Archive.for_target(target).numbers()) if target is not None else set()
        except ImproperlyConfigured:
            self.kept = set()
        self.current = None
        if self.lock_name:
            for changes in (
                PublishRun.objects.filter(lock_name=self.lock_name, status=PublishRun.Status.SUCCEEDED)
                .values_list("changes", flat=True)[:50]
            ):
                number = releases.release_of(PublishRun(changes=changes)).get("number")
                if number is not None:
                    self.current = number
                    break

    def can_restore(self, run: PublishRun, number: int | None) -> bool:
        return number is not None and run.lock_name == self.lock_name and number in self.kept and number != self.current


@user_passes_test(_viewer)
def history(request):
    PublishRun.mark_interrupted()
    runs = Paginator(PublishRun.objects.select_related("requested_by"), 30).get_page(request.GET.get("p"))
    can_publish = request.user.has_perm(PERMISSION)
    offered = _Releases() if can_publish else None
    for run in runs:
        run.trigger_label = trigger_label(run)
        run.reason_label = reason_label(run.reason)
        info = releases.release_of(run)
        run.release_label = release_label(info)
        run.rollback_to = info["number"] if offered and offered.can_restore(run, info.get("number")) else None
        run.rollback_failed = rollback_outcome(run)
    return TemplateResponse(
        request,
        "deploy/history.html",
        {
            "runs": runs,
            "pending": len(pending.load(True)[0]),
            "header_icon": "upload",
            "can_publish": can_publish,
        },
    )


@user_passes_test(_viewer)
def run_detail(request, pk: int):
    PublishRun.mark_interrupted()
    run = get_object_or_404(PublishRun, pk=pk)
    return TemplateResponse(
        request,
        "deploy/run.html",
        {
            "run": run,
            "trigger": trigger_label(run),
            "reason": reason_label(run.reason),
            "release": release_label(releases.release_of(run)),
            "timings": [(PHASES.get(name, name), ms) for name, ms in (run.timings or {}).items()],
            "change_lists": [
                (CHANGE_LISTS.get(name, name), items)
                for name, items in (run.changes or {}).items()
                if isinstance(items, list) and items
            ],
            "purges": run.purges.all()[:100],
        },
    )


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def publish_all(request):
    from .tasks import ensure_schedule, publish_site_task

    publish_site_task.enqueue(True, request.user.pk)
    ensure_schedule()
    messages.success(request, _("已提交全站发布任务，稍后在发布记录中查看结果。"))
    return redirect("deploy_history")


def _lease_busy(lock_name: str | None) -> bool:
    """Does a publish hold the target's lease now (a rollback asked for now would wait for it)?"""
    from django.utils import timezone

    from .models import PublishLock

    return bool(lock_name) and PublishLock.objects.filter(name=lock_name, expires_at__gt=timezone.now()).exclude(holder="").exists()


@permission_required(PERMISSION, raise_exception=True)
def rollback(request, number: int):
    """GET: what rolling back to release ``number`` does, and a confirmation button; POST: do it (in the
    background, like the publish button; the result appears in the history)."""
    offered = _Releases()
    run = PublishRun.objects.filter(
        lock_name=offered.lock_name or "", status=PublishRun.Status.SUCCEEDED, changes__release__number=number
    ).first()
    if run is None or not offered.can_restore(run, number):
        messages.error(request, _("第 %(n)d 版不能回滚（不在存档中，或就是现在的版本）。") % {"n": number})
        return redirect("deploy_history")
    if request.method == "POST":
        busy = _lease_busy(offered.lock_name)
        releases.rollback_task.enqueue(number, request.user.pk)
        messages.success(request, _("已提交回滚到第 %(n)d 版的任务，稍后在发布记录中查看结果。") % {"n": number})
        if busy:
            messages.warning(request, _(
                "另一个发布正在进行：回滚会等它结束，最多等待 %(s)d 秒；仍未结束则不回滚，发布记录中会记下原因。"
            ) % {"s": releases.ROLLBACK_WAIT_LEASES * int(publish_setting("LOCK_TTL"))})
        return redirect("deploy_history")
    return TemplateResponse(
        request,
        "deploy/rollback.html",
        {"number": number, "run": run, "current": offered.current, "header_icon": "upload"},
    )
