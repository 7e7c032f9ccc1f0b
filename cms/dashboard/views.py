"""The dashboard's own admin view: the 稿件统计 CSV export."""

from __future__ import annotations

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone

from . import stats

CSV_HEADER = ["单位编码", "单位", "编辑", "用户名", "已发布稿件数"]


def can_view(user) -> bool:
    """Who sees the site's figures: every account that may enter the admin (see README)."""
    return user.is_active and user.has_perm("wagtailadmin.access_admin")


def manuscripts_csv(request):
    """稿件统计 as CSV (UTF-8 with a BOM, so that Excel opens the Chinese correctly)."""
    if not can_view(request.user):
        raise PermissionDenied
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="manuscripts-{timezone.localdate():%Y%m%d}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for row in stats.manuscripts(stats.scope_for(request.user)):
        writer.writerow([_cell(row[k]) for k in ("unit_code", "unit", "editor", "username", "items")])
    return response


def _cell(value):
    """No spreadsheet formulas from user-entered names (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
