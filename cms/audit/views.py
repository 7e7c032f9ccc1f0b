"""The audit log (审计日志) in the Wagtail admin: a filtered, paginated list and its CSV export.

Read-only by construction: these are the only views over ``AuditEvent`` and they answer GET only.
"""

from __future__ import annotations

import csv
import json

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from . import reading
from .access import can_read_audit_log
from .log import record

PAGE_SIZE = 50


class FilterForm(forms.Form):
    start = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    action = forms.ChoiceField(label=_("操作"), required=False)
    account = forms.CharField(label=_("账号"), required=False, max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("全部"))] + reading.action_choices()

    def filters(self) -> reading.Filters:
        data = self.cleaned_data if self.is_valid() else {}
        return reading.Filters(
            start=data.get("start"),
            end=data.get("end"),
            action=data.get("action", ""),
            account=data.get("account", ""),
        )


def _require_reader(request):
    if not can_read_audit_log(request.user):
        raise PermissionDenied


class _Paged:
    """What Paginator needs from an object list: a count, and slices read from the merged sources."""

    def __init__(self, filters):
        self.filters = filters

    def count(self):
        return reading.count(self.filters)

    def __getitem__(self, bounds):
        return reading.rows_between(self.filters, bounds.start or 0, bounds.stop)


@require_GET
def audit_log(request):
    _require_reader(request)
    form = FilterForm(request.GET or None)
    filters = form.filters() if request.GET else reading.Filters()
    paginator = Paginator(_Paged(filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("p"))
    query = request.GET.copy()
    query.pop("p", None)
    return TemplateResponse(
        request,
        "audit/log.html",
        {"form": form if request.GET else FilterForm(), "page": page, "query": query.urlencode()},
    )


class _Echo:
    def write(self, value):
        return value


CSV_HEADER = [
    _("时间"),
    _("操作"),
    _("操作代码"),
    _("账号"),
    _("客户端地址"),
    _("用户代理"),
    _("对象"),
    _("详情"),
]


@require_GET
def audit_log_export(request):
    """The filtered list as CSV, UTF-8 with a BOM so Excel shows the Chinese; the export is itself
    recorded (audit.export) before the first row is sent."""
    _require_reader(request)
    form = FilterForm(request.GET or None)
    filters = form.filters() if request.GET else reading.Filters()
    record("audit.export", request=request, detail={"filters": filters.as_detail(), "format": "csv"})
    writer = csv.writer(_Echo())
    tz = timezone.get_current_timezone()

    def rows():
        yield "\ufeff" + writer.writerow([str(h) for h in CSV_HEADER])
        for row in reading.iter_rows(filters):
            yield writer.writerow(
                [
                    timezone.localtime(row.time, tz).strftime("%Y-%m-%d %H:%M:%S"),
                    row.label,
                    row.action,
                    row.username,
                    row.address,
                    row.user_agent,
                    row.object,
                    json.dumps(row.detail, ensure_ascii=False, sort_keys=True, default=str)
                    if row.detail
                    else "",
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
