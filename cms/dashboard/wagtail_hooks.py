"""Admin wiring: the 数据看板 panel on the admin home and its CSV export."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.components import Component

from . import charts, stats, views


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("dashboard/manuscripts.csv", views.manuscripts_csv, name="dashboard_manuscripts_csv")]


class DashboardPanel(Component):
    """Charts of the site's figures. Sections whose data needs a permission of its own (publish
    history, search log) appear only to users who hold it."""

    name = "shuyuan_dashboard"
    order = 60
    template_name = "dashboard/panel.html"

    class Media:
        css = {"all": ["dashboard/dashboard.css"]}

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        from deploy.views import can_view as can_view_publishing

        from .links import link_summary
        from .tasks import ensure_link_check_schedule

        ensure_link_check_schedule()  # a cheap read once the chain is running
        scope = stats.scope_for(self.user)
        rows = stats.manuscripts(scope)
        approvals = stats.pending_approvals(scope)
        links = link_summary()
        context = {
            "items_total": sum(r["items"] for r in rows),
            "scoped": scope is not None,
            "month_chart": charts.column_chart(stats.by_month(scope=scope), _("每月发布")),
            "column_chart": charts.bar_chart(stats.by_column(scope), _("各栏目文章")),
            "unit_chart": charts.bar_chart(stats.by_unit(rows), _("各单位稿件")),
            "editor_chart": charts.bar_chart(stats.by_editor(rows)[:15], _("各编辑稿件")),
            "approvals": approvals,
            "approval_chart": charts.bar_chart(
                approvals["by_task"] + ([(_("保密审查"), approvals["secrecy"])] if approvals["secrecy"] is not None else []),
                _("待审批"),
                tone="warning",
            ),
            "links": links,
            "link_chart": charts.bar_chart(
                [(_("正常"), links["ok"]), (_("失效"), links["broken"]), (_("未检查"), links["unchecked"])],
                _("红色云图链接"),
            ),
        }
        if can_view_publishing(self.user):
            publishing = stats.publishing()
            context["publishing"] = publishing
            context["publish_chart"] = charts.bar_chart(publishing["by_status"], _("发布状态"))
        if self.user.has_perm("search.view_querylog"):
            search = stats.search()
            context["search"] = search
            context["top_chart"] = charts.bar_chart(search["top_chart"], _("热门搜索词"))
            context["zero_chart"] = charts.bar_chart(search["zero_chart"], _("无结果搜索词"), tone="warning")
        return context


@hooks.register("construct_homepage_panels")
def add_dashboard_panel(request, panels):
    if views.can_view(request.user):
        panels.append(DashboardPanel(request.user))
