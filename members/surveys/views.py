"""The admin of 问卷与信箱: Wagtail's form data listing with a 统计图 button, the charts of a survey's
choice questions (server-rendered SVG bars, no script), and replies to mailbox letters (信箱回复)."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.contrib.forms.models import FormSubmission
from wagtail.contrib.forms.utils import get_forms_for_user
from wagtail.contrib.forms.views import SubmissionsListView
from wagtail.models import Page

from members.views import scoped_by

from . import rules
from .models import LetterReply, MailboxPage

CHART_TYPES = rules.CHOICE_TYPES | {"checkbox"}


class SurveySubmissionsListView(SubmissionsListView):
    """Wagtail's listing (and its CSV/XLSX export), with a button to the charts or the replies."""

    @property
    def header_buttons(self):
        page = self.form_page
        if isinstance(page.specific, MailboxPage):
            return [HeaderButton("回复来信", url=reverse("letter_replies:index"), icon_name="mail")]
        return [HeaderButton("统计图", url=reverse("surveys_charts", args=(page.pk,)), icon_name="table")]


def tally(page) -> tuple[list[dict], int]:
    """Per choice question: its label, the number who answered and each choice's count and share."""
    spec = page.form_spec()
    questions = [f for f in spec["fields"] if f["type"] in CHART_TYPES]
    counts = {f["name"]: Counter() for f in questions}
    answered = Counter()
    total = 0
    for data in page.get_submissions().order_by("pk").values_list("form_data", flat=True).iterator():
        total += 1
        for field in questions:
            value = data.get(field["name"])
            values = value if isinstance(value, list) else [value]
            if field["type"] == "checkbox":
                values = ["是" if value is True else "否"]
            values = [v for v in values if v not in (None, "")]
            if values:
                answered[field["name"]] += 1
            counts[field["name"]].update(str(v) for v in values)
    out = []
    for field in questions:
        choices = ["是", "否"] if field["type"] == "checkbox" else list(field.get("choices") or ())
        extra = [c for c in counts[field["name"]] if c not in choices]  # answers to choices since removed
        n = answered[field["name"]]
        top = max([counts[field["name"]][c] for c in choices + extra] or [0]) or 1
        bars = [
            {
                "label": choice,
                "count": counts[field["name"]][choice],
                "percent": round(100 * counts[field["name"]][choice] / n) if n else 0,
                "width": round(400 * counts[field["name"]][choice] / top),
                "y": 28 * i,
            }
            for i, choice in enumerate(choices + extra)
        ]
        out.append({"label": field["label"], "answered": n, "multiple": field["type"] in rules.MULTI_CHOICE,
                    "bars": bars, "height": 28 * len(bars)})
    return out, total


def charts(request, page_id: int):
    if not get_forms_for_user(request.user).filter(pk=page_id).exists():
        raise PermissionDenied
    page = get_object_or_404(Page, pk=page_id).specific
    questions, total = tally(page)
    return TemplateResponse(
        request,
        "surveys/admin/charts.html",
        {
            "page": page,
            "questions": questions,
            "total": total,
            "submissions_url": reverse("wagtailforms:list_submissions", args=(page.pk,)),
        },
    )


def letters_for(user):
    """The mailbox letters of the mailboxes this user may see the submissions of."""
    pages = get_forms_for_user(user).type(MailboxPage)
    return FormSubmission.objects.filter(page__in=pages).order_by("-submit_time", "-pk")


class LetterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        data = obj.form_data
        consent = "同意公开" if data.get("consent") is True else "不同意公开"
        return f"{data.get('subject', '')}（{obj.submit_time:%Y-%m-%d}，{consent}）"


class ReplyForm(WagtailAdminModelForm):
    submission = LetterChoiceField(queryset=FormSubmission.objects.none(), label="来信")

    class Meta:
        model = LetterReply
        fields = ["submission", "text", "replier", "published"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self, "for_user", None)
        self.fields["submission"].queryset = letters_for(user) if user is not None else FormSubmission.objects.none()


def replies_for(user):
    """The replies an account may see and edit: to letters of the mailboxes it may see."""
    return LetterReply.objects.filter(submission__in=letters_for(user)).select_related("submission")


@scoped_by(replies_for)  # edit, delete, inspect, history and usage too: another scope's reply is a 404
class ReplyViewSet(ModelViewSet):
    model = LetterReply
    icon = "mail"
    menu_label = "信箱回复"
    menu_order = 252
    add_to_admin_menu = True
    name = "letter_replies"
    list_display = ["__str__", "replier", "published", "consented", "updated_at"]
    list_filter = ["published"]
    inspect_view_enabled = True

    def get_form_class(self, for_update=False):
        return ReplyForm

    def get_queryset(self, request):
        return replies_for(request.user)
