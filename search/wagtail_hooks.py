"""Admin: the search dictionary (a snippet) and the search report."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from search.models import DictionaryEntry


class DictionaryEntryViewSet(SnippetViewSet):
    model = DictionaryEntry
    icon = "doc-full"
    menu_label = _("搜索词典")
    list_display = ["word", "synonyms", "enabled", "updated_at"]
    search_fields = ["word", "synonyms"]
    add_to_admin_menu = False


register_snippet(DictionaryEntryViewSet)


def search_report(request):
    if not request.user.has_perm("search.view_querylog"):
        raise PermissionDenied
    from cms import changes
    from search.indexing import CONSUMER, check
    from search.models import ExtractedText
    from search.reports import query_stats

    try:
        days = min(max(int(request.GET.get("days", 30)), 1), 365)
    except ValueError:
        days = 30
    context = {
        "stats": query_stats(days=days),
        "health": check() if request.GET.get("check") else None,
        # the changes the index has still to follow (they wait while the engine is unreachable)
        "pending": changes.pending(CONSUMER, limit=50).changes,
        "skipped": ExtractedText.objects.exclude(skipped_reason="").order_by("-updated_at")[:50],
        "page_title": _("搜索报告"),
    }
    return render(request, "search/admin/report.html", context)


@hooks.register("register_admin_urls")
def register_search_report_url():
    return [path("reports/search/", search_report, name="search_report")]


class SearchReportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("search.view_querylog")


@hooks.register("register_reports_menu_item")
def register_search_report_menu_item():
    return SearchReportMenuItem(_("搜索报告"), reverse("search_report"), icon_name="search", order=900)
