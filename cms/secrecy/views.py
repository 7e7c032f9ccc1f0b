"""The reviewer's decision form (审查人 records 准予上网 / 不予上网, with an optional 审核人)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .classification import Classification
from .models import SecrecyReview
from .review import ReviewError, decide, may_review
from .scanner import Finding


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="审查结论",
        choices=[(SecrecyReview.Decision.CLEARED, "准予上网"), (SecrecyReview.Decision.REFUSED, "不予上网")],
        widget=forms.RadioSelect,
    )
    approver = forms.ModelChoiceField(
        label="审核人", queryset=get_user_model().objects.none(), required=False,
        help_text="确认本结论的另一位负责人（可选，不能是审查人或采集人）。",
    )
    comment = forms.CharField(label="审查意见", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")


def decide_view(request, pk):
    if not request.user.has_perm("secrecy.review_secrecy"):
        raise PermissionDenied
    review = get_object_or_404(SecrecyReview.objects.select_related("collector", "revision"), pk=pk)
    if not may_review(request.user, review):
        raise PermissionDenied
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decide(
                review, request.user, form.cleaned_data["decision"],
                approver=form.cleaned_data["approver"], comment=form.cleaned_data["comment"],
            )
        except ReviewError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已记录保密审查结论：{review.get_decision_display()}。")
            return redirect(reverse("secrecy_review:index"))
    context = {
        "review": review,
        "findings": [Finding(**f) for f in review.findings],
        "classification": Classification(review.classification).label,
        "form": form,
        "page_title": "保密审查",
    }
    return TemplateResponse(request, "secrecy/decide.html", context)
