"""Admin views: the publish history report and the "publish the whole site" button."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import PendingChange, PublishRun

PERMISSION = "deploy.add_publishrun"


@permission_required(PERMISSION, raise_exception=True)
def history(request):
    runs = Paginator(PublishRun.objects.select_related("requested_by"), 30).get_page(request.GET.get("p"))
    return TemplateResponse(
        request,
        "deploy/history.html",
        {"runs": runs, "pending": PendingChange.objects.count(), "header_icon": "upload"},
    )


@permission_required(PERMISSION, raise_exception=True)
def run_detail(request, pk: int):
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
