"""The dashboard's figures, each one query (or a few) straight from the database.

What counts as a published item (稿件): a live page of one of ``ITEM_MODELS`` in the source language
(translations are copies of the same item, not new ones). Its month is the month of its first
publication (``first_published_at``, in the site's time zone), its column the column page it sits in
(articles only), its editor the page's owner (the account that created it: Wagtail's 所有者), and its
unit the organisation whose root page is its closest ancestor (``cms.orgs``). The tests compare every
figure with a direct query.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from wagtail.models import Page, WorkflowState

#: the page types that are items (稿件), as "app_label.ModelName"; listings (columns, indexes) are not
ITEM_MODELS = ("cms.ArticlePage", "cms.StudyMaterialPage", "cms.ExhibitionPage", "cms.RedExhibitionPage")
NO_UNIT = "未归属单位"
NO_EDITOR = "（未知）"


def item_models() -> list:
    from django.apps import apps

    return [apps.get_model(label) for label in ITEM_MODELS]


#: a scope: the paths of the page subtrees whose figures a user sees; None: the whole site
Scope = tuple[str, ...] | None


def scope_for(user) -> Scope:
    """The subtrees whose figures ``user`` sees (分级维护): a unit's accounts see their own unit and the
    units below (the pages they may edit: their unit's subtree in every language); superusers, the
    committee, site-wide roles and accounts with no page powers (audit administrators) see the site."""
    if user.is_superuser:
        return None
    roots = list(
        Page.objects.filter(
            group_permissions__group__user=user, group_permissions__permission__codename="change_page"
        ).values_list("path", "depth")
    )
    if not roots or any(depth <= 2 for _path, depth in roots):
        return None
    return tuple(sorted({path for path, _depth in roots}))


def in_scope(queryset, scope: Scope, field: str = "path"):
    """``queryset`` narrowed to pages (``field``: their path) inside ``scope``."""
    if scope is None:
        return queryset
    from django.db.models import Q

    q = Q(pk=None)
    for path in scope:
        q |= Q(**{f"{field}__startswith": path})
    return queryset.filter(q)


def published_items(scope: Scope = None):
    """Every published item (see the module's docstring), inside ``scope``."""
    items = Page.objects.live().filter(locale__language_code=settings.LANGUAGE_CODE).type(*item_models())
    return in_scope(items, scope)


def by_column(scope: Scope = None) -> list[tuple[str, int]]:
    """Published articles per column, most first."""
    from cms.models import ArticlePage, ColumnPage

    steplen = Page.steplen
    paths = Counter(
        p[:-steplen] for p in published_items(scope).type(ArticlePage).values_list("path", flat=True)
    )
    titles = dict(ColumnPage.objects.filter(path__in=list(paths)).values_list("path", "title"))
    counts = Counter()
    for path, n in paths.items():
        counts[titles.get(path, "（其他）")] += n
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def month_start(day: dt.date, back: int) -> dt.date:
    """The first day of the month ``back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def by_month(months: int = 12, today: dt.date | None = None, scope: Scope = None) -> list[tuple[str, int]]:
    """Published items per month of first publication, the last ``months`` months (oldest first)."""
    today = today or timezone.localdate()
    first = month_start(today, months - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    counts = Counter(
        f"{timezone.localtime(when):%Y-%m}"
        for when in published_items(scope).filter(first_published_at__gte=since).values_list("first_published_at", flat=True)
    )
    labels = [f"{month_start(today, back):%Y-%m}" for back in range(months - 1, -1, -1)]
    return [(label, counts.get(label, 0)) for label in labels]


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    path: str


def units() -> list[Unit]:
    """The organisations with a root page, deepest root first (so the first match is the closest)."""
    from django.apps import apps

    try:
        organisation = apps.get_model("orgs", "Organisation")
    except LookupError:
        return []
    rows = organisation.objects.filter(root_page__isnull=False).values_list("code", "name", "root_page__path")
    return sorted((Unit(*row) for row in rows), key=lambda u: (-len(u.path), u.code))


def unit_of(path: str, all_units: list[Unit]) -> Unit | None:
    for unit in all_units:
        if path.startswith(unit.path):
            return unit
    return None


def editor_name(user) -> str:
    """The name the admin shows for ``user`` (Wagtail's own rule)."""
    from wagtail.admin.utils import get_user_display_name

    return NO_EDITOR if user is None else get_user_display_name(user)


def manuscripts(scope: Scope = None) -> list[dict]:
    """稿件统计: published items per (unit, editor), the rows of the CSV export, sorted by unit code."""
    from django.contrib.auth import get_user_model

    all_units = units()
    counts = Counter(
        (unit_of(path, all_units), owner_id)
        for path, owner_id in published_items(scope).values_list("path", "owner_id")
    )
    users = get_user_model().objects.in_bulk([owner for _, owner in counts if owner is not None])
    rows = []
    for (unit, owner_id), n in counts.items():
        user = users.get(owner_id)
        rows.append({
            "unit_code": unit.code if unit else "",
            "unit": unit.name if unit else NO_UNIT,
            "editor": editor_name(user),
            "username": user.get_username() if user else "",
            "items": n,
        })
    return sorted(rows, key=lambda r: (r["unit_code"] or "~", r["unit"], -r["items"], r["username"]))


def by_unit(rows: list[dict]) -> list[tuple[str, int]]:
    counts = Counter()
    for row in rows:
        counts[f"{row['unit_code']} {row['unit']}".strip()] += row["items"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def by_editor(rows: list[dict]) -> list[tuple[str, int]]:
    counts = Counter()
    for row in rows:
        label = row["editor"]
        if row["username"] and row["username"] != label:
            label = f"{label}（{row['username']}）"
        counts[label] += row["items"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def pending_approvals(scope: Scope = None) -> dict:
    """Workflows in progress (waiting for a reviewer), in total and per current task, and the pages held
    by the secrecy review until a reviewer decides (None when the secrecy app has no such model)."""
    states = WorkflowState.objects.filter(status=WorkflowState.STATUS_IN_PROGRESS)
    if scope is not None:
        from django.contrib.contenttypes.models import ContentType

        pages = in_scope(Page.objects.all(), scope).values_list("pk", flat=True)
        states = states.filter(
            base_content_type=ContentType.objects.get_for_model(Page), object_id__in=[str(pk) for pk in pages]
        )
    per_task = (
        states.values("current_task_state__task__name")
        .annotate(n=Count("id"))
        .order_by("-n", "current_task_state__task__name")
    )
    return {
        "total": states.count(),
        "by_task": [(row["current_task_state__task__name"] or "（无）", row["n"]) for row in per_task],
        "secrecy": pending_secrecy_reviews(scope),
    }


def pending_secrecy_reviews(scope: Scope = None) -> int | None:
    """Pages held off the public site whose secrecy review awaits a decision (``cms.secrecy``)."""
    from django.apps import apps

    try:
        hold = apps.get_model("secrecy", "SecrecyHold")
        review = apps.get_model("secrecy", "SecrecyReview")
    except LookupError:
        return None
    return in_scope(hold.objects.filter(review__decision=review.Decision.PENDING), scope, "page__path").count()


def publishing(days: int = 30) -> dict:
    """The static site's publishes of the last ``days`` days, per status, and the latest failures."""
    from deploy.models import PublishRun

    since = timezone.now() - dt.timedelta(days=days)
    runs = PublishRun.objects.filter(started_at__gte=since).exclude(status=PublishRun.Status.DRY_RUN)
    counts = dict(runs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    labels = dict(PublishRun.Status.choices)
    problems = [PublishRun.Status.FAILED, PublishRun.Status.INTERRUPTED]
    return {
        "days": days,
        "by_status": [(str(labels[s]), counts.get(s, 0)) for s in PublishRun.Status.values if s != PublishRun.Status.DRY_RUN],
        "last": PublishRun.objects.exclude(status__in=[PublishRun.Status.DRY_RUN, PublishRun.Status.RUNNING]).first(),
        "failures": list(runs.filter(status__in=problems)[:5]),
        "failed": sum(counts.get(s, 0) for s in problems),
    }


def search(days: int = 30, limit: int = 10) -> dict:
    """Top and zero-result queries (the search report's own numbers)."""
    from search.reports import query_stats

    stats = query_stats(days=days, limit=limit)
    return {
        **stats,
        "top_chart": [(s.query, s.searches) for s in stats["top"]],
        "zero_chart": [(s.query, s.zero_results) for s in stats["zero"]],
    }
