"""The secrecy review in the admin: the word lists (片段 → 敏感词, 规范用语), the review records
(read-only, exported as CSV), the reviewer's decision form, the findings shown to the editor on
every save, and the CMS front end refusing a held page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.models import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from . import views
from .models import PreferredTerm, SecrecyHold, SecrecyReview, SensitiveWord
from .review import reviews_for
from .scanner import Vocabulary, scan_page


class SensitiveWordViewSet(SnippetViewSet):
    model = SensitiveWord
    icon = "warning"
    menu_label = _("敏感词")
    list_display = ["word", "note"]
    search_fields = ["word"]


class PreferredTermViewSet(SnippetViewSet):
    model = PreferredTerm
    icon = "edit"
    menu_label = _("规范用语")
    list_display = ["wrong", "correct", "note"]
    search_fields = ["wrong", "correct"]


register_snippet(SensitiveWordViewSet)
register_snippet(PreferredTermViewSet)


class ReviewRecordPolicy(ModelPermissionPolicy):
    """Review records are read (and exported) by reviewers; nobody adds, edits or deletes them by hand:
    they are written by publishing and by the decision form."""

    def user_has_permission(self, user, action):
        if action == "view":
            return user.is_active and (user.is_superuser or user.has_perm("secrecy.review_secrecy"))
        return False


class DecisionColumn(Column):
    def get_value(self, instance):
        if not instance.findings:
            return ""
        return format_html('<a class="button button-small" href="{}">审查</a>', reverse("secrecy_decide", args=[instance.pk]))


class ScopedIndexView(IndexView):
    """A unit's reviewers read (and export) the records of their own subtree and collection."""

    def get_base_queryset(self):
        return reviews_for(self.request.user).select_related("collector", "reviewer", "approver")


class ScopedInspectView(InspectView):
    def get_object(self, queryset=None):
        return get_object_or_404(reviews_for(self.request.user), pk=unquote(str(self.pk)))


class SecrecyReviewViewSet(ModelViewSet):
    model = SecrecyReview
    icon = "warning"
    menu_label = _("保密审查")
    menu_order = 260
    add_to_admin_menu = True
    url_prefix = "secrecy-reviews"
    name = "secrecy_review"
    inspect_view_enabled = True
    list_display = [
        "title", "subject", "classification_label", "collector", "reviewer", "approver", "decision_label", "online_at",
        DecisionColumn("decide", label=_("操作")),
    ]
    list_filter = ["decision"]
    search_fields = ["title"]
    list_export = [
        "subject", "page_id", "revision_id", "document_id", "file_hash", "title", "classification_label", "collector", "reviewer", "approver",
        "decision_label", "comment", "created_at", "decided_at", "online_at", "findings_summary",
    ]
    export_headings = {
        "subject": "类型", "page_id": "页面编号", "revision_id": "版本编号", "document_id": "文件编号",
        "file_hash": "文件指纹", "title": "标题", "classification_label": "密级",
        "collector": "采集人", "reviewer": "审查人", "approver": "审核人", "decision_label": "审查结论",
        "comment": "审查意见", "created_at": "送审时间", "decided_at": "审查时间", "online_at": "上网时间",
        "findings_summary": "发现的问题",
    }
    export_filename = "保密审查记录"
    form_fields = ["decision"]

    index_view_class = ScopedIndexView
    inspect_view_class = ScopedInspectView


register_permission_policy(SecrecyReview, ReviewRecordPolicy(SecrecyReview))


@hooks.register("register_admin_viewset")
def register_review_viewset():
    return SecrecyReviewViewSet()


@hooks.register("register_admin_urls")
def register_decision_url():
    return [path("secrecy-reviews/decide/<int:pk>/", views.decide_view, name="secrecy_decide")]


def _report(request, page):
    """Show the editor what the review finds in what they just saved, with its places."""
    if not hasattr(page, "classification"):
        return
    findings = scan_page(page, Vocabulary.load())
    for f in findings[:20]:
        messages.warning(request, f"保密审查：{f.place}有{f.kind_label}「{f.text}」。{f.suggestion}")
    if len(findings) > 20:
        messages.warning(request, f"保密审查：另有 {len(findings) - 20} 处问题。")
    if page.live and SecrecyHold.objects.filter(page_id=page.pk).exists():
        messages.error(request, "本页未通过保密审查，在审查人准予上网之前不会出现在网站、接口和搜索中。")


@hooks.register("after_create_page")
@hooks.register("after_edit_page")
def findings_after_save(request, page):
    _report(request, page.specific)


@hooks.register("on_serve_page")
def held_pages_are_not_served(callback):
    """The CMS front end serves no page the secrecy review holds (nor anything below it)."""

    def inner(page, request, serve_args, serve_kwargs):
        step = page.steplen
        paths = [page.path[:i] for i in range(step, len(page.path) + 1, step)]
        if SecrecyHold.objects.filter(page__path__in=paths).exists():
            raise Http404
        return callback(page, request, serve_args, serve_kwargs)

    return inner
