"""Numbers for the admin's search report: top queries, queries without results, click-through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone


@dataclass
class QueryStat:
    query: str
    searches: int
    clicks: int
    zero_results: int
    last: dt.datetime | None

    @property
    def click_through(self) -> float:
        return self.clicks / self.searches if self.searches else 0.0


def query_stats(days: int = 30, limit: int = 50) -> dict[str, object]:
    from search.models import QueryLog, SearchClick

    since = timezone.now() - dt.timedelta(days=days)
    logs = QueryLog.objects.filter(created_at__gte=since)
    rows = (
        logs.values("query")
        .annotate(searches=Count("id", distinct=True), clicks=Count("clicks"), zero=Count("id", filter=Q(results=0), distinct=True), last=Max("created_at"))
        .order_by("-searches", "query")
    )
    top = [QueryStat(r["query"], r["searches"], r["clicks"], r["zero"], r["last"]) for r in rows[:limit]]
    zero = [
        QueryStat(r["query"], r["searches"], r["clicks"], r["zero"], r["last"])
        for r in rows.filter(zero__gt=0).order_by("-zero", "query")[:limit]
    ]
    total = logs.count()
    clicked = logs.filter(clicks__isnull=False).distinct().count()
    return {
        "days": days,
        "total_searches": total,
        "searches_with_click": clicked,
        "click_through": clicked / total if total else 0.0,
        "zero_result_searches": logs.filter(results=0).count(),
        "top": top,
        "zero": zero,
        "clicks": SearchClick.objects.filter(created_at__gte=since).count(),
    }
