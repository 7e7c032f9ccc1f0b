"""Admin: participation of a branch administrator's own branch and the branches below (学习情况), on
the dashboard and as a report with CSV/XLSX export (Wagtail's ``ReportView``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.reports import ReportView

from . import services

PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
DEFAULT_PERIOD = "30"


def period_from(request) -> tuple[str, services.Period]:
    key = request.GET.get("days", DEFAULT_PERIOD)
    key = key if key in PERIODS else DEFAULT_PERIOD
    return key, services.Period.last_days(PERIODS[key])


class PeriodReportView(ReportView):
    """A report over the last 7, 30, 90 or 365 days (``?days=``), exported with the same period."""

    template_name = "study_records/admin/participation.html"
    results_template_name = "study_records/admin/participation_results.html"
    paginate_by = 100

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.period_key, self.period = period_from(request)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["period"] = self.period
        context["period_key"] = self.period_key
        context["periods"] = list(PERIODS)
        return context

    def get_export_url(self, format):
        return f"{self.get_index_url()}?export={format}&days={self.period_key}"


class ParticipationReportView(PeriodReportView):
    page_title = "学习情况"
    header_icon = "table"
    index_url_name = "study_records_participation"
    index_results_url_name = "study_records_participation_results"
    export_filename = "study-participation"
    columns = [
        Column("code", label="编码"),
        TitleColumn(
            "name",
            label="单位",
            get_url=lambda row: reverse("study_records_unit", args=[row.pk]) + "?days=30",
        ),
        Column("members", label="会员数"),
        Column("active_members", label="活跃会员"),
        Column("reading_minutes", label="阅读时长（分钟）"),
        Column("quizzes_taken", label="参加测评"),
        Column("average_points", label="人均积分"),
    ]
    list_export = [
        "code",
        "name",
        "members",
        "active_members",
        "reading_minutes",
        "quizzes_taken",
        "average_points",
    ]
    export_headings = {c.name: c.label for c in columns}

    def dispatch(self, request, *args, **kwargs):
        if not services.may_view_participation(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return services.participation(self.request.user, self.period)


class UnitMembersReportView(PeriodReportView):
    """The members of one unit (within the administrator's scope), each linking to their records."""

    header_icon = "group"
    export_filename = "study-members"
    columns = [
        TitleColumn(
            "username", label="账号", get_url=lambda row: reverse("study_records_member", args=[row.user_id])
        ),
        Column("name", label="姓名"),
        Column("reading_minutes", label="阅读时长（分钟）"),
        Column("quizzes_taken", label="参加测评"),
        Column("points", label="学习积分"),
    ]
    list_export = ["username", "name", "reading_minutes", "quizzes_taken", "points"]
    export_headings = {c.name: c.label for c in columns}

    def dispatch(self, request, *args, **kwargs):
        found = services.unit_members(request.user, kwargs["unit_id"], self.period)
        if found is None:
            raise PermissionDenied
        self.unit, self.rows = found
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"学习情况：{self.unit.name}"

    def get_index_url(self):
        return reverse("study_records_unit", args=[self.unit.pk])

    def get_queryset(self):
        return self.rows


class ParticipationPanel(Component):
    """The admin home's 学习情况 panel: the branches a unit administrator manages, last 30 days."""

    name = "study_records_participation"
    order = 65
    template_name = "study_records/admin/panel.html"
    MAX_ROWS = 12

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        from .tasks import ensure_purge_schedule

        ensure_purge_schedule()  # a cheap read once the chain is running
        period = services.Period.last_days(PERIODS[DEFAULT_PERIOD])
        rows = services.participation(self.user, period)
        return {
            "rows": rows[: self.MAX_ROWS],
            "more": max(0, len(rows) - self.MAX_ROWS),
            "period": period,
            "totals": {
                "members": sum(r.members for r in rows),
                "active_members": sum(r.active_members for r in rows),
                "reading_minutes": sum(r.reading_minutes for r in rows),
                "quizzes_taken": sum(r.quizzes_taken for r in rows),
            },
            "report_url": reverse("study_records_participation"),
        }
