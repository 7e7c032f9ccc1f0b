"""Admin views: the publish history report and the "publish the whole site" button.

Viewing the history (and the dashboard warning about a failed publish) needs ``deploy.view_publishrun``,
which reviewers and editors have (migration 0003); publishing the whole site needs
``deploy.add_publishrun`` (administrators).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required, user_passes_test
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import pending
from .models import PublishRun

#: may publish the whole site
PERMISSION = "deploy.add_publishrun"
#: may see the publish history and its failures
VIEW_PERMISSION = "deploy.view_publishrun"


def can_view(user) -> bool:
    return user.has_perm(VIEW_PERMISSION) or user.has_perm(PERMISSION)


def _viewer(user) -> bool:
    if not can_view(user):
        raise PermissionDenied
    return True


@user_passes_test(_viewer)
def history(request):
    PublishRun.mark_interrupted()
    runs = Paginator(PublishRun.objects.select_related("requested_by"), 30).get_page(request.GET.get("p"))
    return TemplateResponse(
        request,
        "deploy/history.html",
        {
            "runs": runs,
            "pending": len(pending.load(True)[0]),
            "header_icon": "upload",
            "can_publish": request.user.has_perm(PERMISSION),
        },
    )


@user_passes_test(_viewer)
def run_detail(request, pk: int):
    PublishRun.mark_interrupted()
    run = get_object_or_404(PublishRun, pk=pk)
    return TemplateResponse(request, "deploy/run.html", {"run": run, "purges": run.purges.all()[:100]})


@require_POST
@permission_required(PERMISSION, raise_exception=True)
def publish_all(request):
    from .tasks import ensure_schedule, publish_site_task

    publish_site_task.enqueue(True, request.user.pk)
    ensure_schedule()
    messages.success(request, _("已提交全站发布任务，稍后在发布记录中查看结果。"))
    return redirect("deploy_history")
