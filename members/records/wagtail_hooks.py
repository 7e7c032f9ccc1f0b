"""Admin wiring of 学习记录: 积分规则 (points rules), the 学习情况 report and dashboard panel for branch
administrators, and one member's records."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet

from . import admin_views, services, views
from .models import PointsRule


class PointsRuleViewSet(ModelViewSet):
    model = PointsRule
    icon = "pick"
    menu_label = "积分规则"
    menu_name = "study_points_rules"
    menu_order = 257
    add_to_admin_menu = True
    form_fields = ["name", "action", "points", "daily_cap", "enabled"]
    list_display = ["name", "action", "points", "daily_cap", "enabled"]
    name = "study_points_rules"


@hooks.register("register_admin_viewset")
def register_points_rules():
    return PointsRuleViewSet()


@hooks.register("register_admin_urls")
def register_study_urls():
    report = admin_views.ParticipationReportView
    return [
        path("study-records/participation/", report.as_view(), name="study_records_participation"),
        path(
            "study-records/participation/results/",
            report.as_view(results_only=True),
            name="study_records_participation_results",
        ),
        path(
            "study-records/unit/<int:unit_id>/",
            admin_views.UnitMembersReportView.as_view(),
            name="study_records_unit",
        ),
        path(
            "study-records/member/<int:user_id>/",
            views.MemberRecordsView.as_view(),
            name="study_records_member",
        ),
    ]


class ParticipationMenuItem(MenuItem):
    def is_shown(self, request):
        return services.may_view_participation(request.user)


@hooks.register("register_reports_menu_item")
def register_participation_report():
    return ParticipationMenuItem(
        "学习情况", reverse("study_records_participation"), icon_name="table", order=700
    )


@hooks.register("construct_homepage_panels")
def add_participation_panel(request, panels):
    if services.may_view_participation(request.user):
        panels.append(admin_views.ParticipationPanel(request.user))
