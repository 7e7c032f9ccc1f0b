"""The secrecy review inside the page editor: the findings of the content being edited, with their
places, and where the live version stands (held until a reviewer decides), at the top of the 内容 tab."""

from __future__ import annotations

from django.urls import reverse
from wagtail.admin.panels import Panel


class SecrecyFindingsPanel(Panel):
    """Read-only: it adds no field to the form. Shown only when there is something to say."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("heading", "保密审查")
        super().__init__(*args, **kwargs)

    def clone_kwargs(self):
        kwargs = super().clone_kwargs()
        kwargs.pop("help_text", None)
        return kwargs

    @property
    def clean_name(self):
        return "secrecy_findings"

    class BoundPanel(Panel.BoundPanel):
        template_name = "secrecy/panels/findings.html"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.findings = []
            self.review = None
            self.held = False
            page = self.instance
            if page is None or page.pk is None or not hasattr(page, "classification"):
                return
            from .models import SecrecyHold
            from .review import live_review, may_review
            from .scanner import Vocabulary, scan_page

            self.findings = scan_page(page, Vocabulary.load())
            if page.live:
                self.held = SecrecyHold.objects.filter(page_id=page.pk).exists()
                self.review = live_review(page)
                if self.review is not None and self.request is not None and self.review.findings:
                    user = self.request.user
                    if may_review(user, self.review) and self.review.collector_id != user.pk:
                        self.decide_url = reverse("secrecy_decide", args=[self.review.pk])

        decide_url = None

        def is_shown(self):
            return bool(self.findings or self.held)

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context.update(findings=self.findings, review=self.review, held=self.held, decide_url=self.decide_url)
            return context
