"""Admin wiring: the publish history report, the publish button, a dashboard warning on failure."""

from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from . import views
from .models import PublishRun


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        path("publishing/", views.history, name="deploy_history"),
        path("publishing/<int:pk>/", views.run_detail, name="deploy_run"),
        path("publishing/publish-all/", views.publish_all, name="deploy_publish_all"),
        path("publishing/rollback/<int:number>/", views.rollback, name="deploy_rollback"),
    ]


class PublishMenuItem(MenuItem):
    def is_shown(self, request):
        return views.can_view(request.user)


@hooks.register("register_reports_menu_item")
def register_history_menu_item():
    return PublishMenuItem(_("发布记录"), reverse("deploy_history"), icon_name="upload", order=900)


class PublishFailurePanel(Component):
    name = "shuyuan_publish_failure"
    order = 50

    def __init__(self, run):
        self.run = run

    def render_html(self, parent_context=None):
        return render_to_string("deploy/panel.html", {"run": self.run})


@hooks.register("construct_homepage_panels")
def add_failure_panel(request, panels):
    if not views.can_view(request.user):
        return
    PublishRun.mark_interrupted()
    last = PublishRun.objects.exclude(status__in=[PublishRun.Status.DRY_RUN, PublishRun.Status.RUNNING]).first()
    if last is not None and last.is_problem:
        panels.append(PublishFailurePanel(last))
