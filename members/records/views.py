"""The member's own study page (我的学习) and, in the admin, one member's records for their branch
administrators. Both are served by the CMS only."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from cms.visibility import is_member

from . import services
from .models import QuizRecord, ReadingRecord

PER_PAGE = 20


def _records_context(request, member) -> dict:
    period = services.Period.this_year()
    readings = Paginator(
        ReadingRecord.objects.filter(user=member).order_by("-day", "-updated_at", "-pk"), PER_PAGE
    )
    quizzes = QuizRecord.objects.filter(user=member).order_by("-finished_at", "-pk")[:50]
    return {
        "member": member,
        "summary": services.summary(member, period),
        "readings": readings.get_page(request.GET.get("p")),
        "quizzes": quizzes,
    }


@never_cache
@login_required
def my_study(request):
    """我的学习: what the member read and for how long, the quizzes taken, 学习积分 this year."""
    context = _records_context(request, request.user)
    context["is_member"] = is_member(request.user)
    context["account_url"] = reverse("account")
    return render(request, "study_records/my_study.html", context)


class MemberRecordsView(WagtailAdminTemplateMixin, TemplateView):
    """Admin: one member's records, for the member's branch administrators (and superusers); anyone
    else gets 403, whether or not the account exists."""

    template_name = "study_records/admin/member.html"
    header_icon = "user"

    def dispatch(self, request, *args, **kwargs):
        self.member = get_user_model()._default_manager.filter(pk=kwargs["user_id"]).first()
        if self.member is None or not services.may_view_member(request.user, self.member):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"学习记录：{self.member.get_username()}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(_records_context(self.request, self.member))
        return context
