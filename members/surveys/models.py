"""Models of 问卷与信箱: survey pages (民意调查) and the feedback mailbox (对话信箱) as Wagtail form pages,
replies to letters, and the record of what the public inbox brought in.

Both page types are ``ShuyuanPage``s, so their audience (公开 / 仅会员 / 内部) is the project's one
visibility rule (``cms.visibility``: a view restriction Wagtail enforces): a public one is published to
the static site and its form posts to the isolated public service (``search.public``, which writes the
submission to an inbox the worker imports: ``members.surveys.inbox``); a members-only one is answered on
the CMS with a normal POST and CSRF. Submissions are Wagtail's own ``FormSubmission`` rows, so the admin's
form data listing and its CSV export work on them as on any form page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.forms.forms import WagtailAdminFormPageForm
from wagtail.contrib.forms.models import AbstractFormField, FormMixin, FormSubmission
from wagtail.fields import RichTextField
from wagtail.models import Page

from cms.forms import ShuyuanPageForm
from cms.models.pages import ShuyuanPage
from cms.visibility import Audience

from . import rules

PARENTS = ["cms.HomePage", "cms.ColumnPage"]


class SurveyPageForm(WagtailAdminFormPageForm, ShuyuanPageForm):
    """Wagtail's form-page checks (no two fields with one name) and the project's page form."""


def bound_fields(spec: dict[str, Any], answers) -> list[dict[str, Any]]:
    """The fields of ``spec`` with what was sent for each (re-shown after a refusal)."""
    out = []
    for field in spec["fields"]:
        getlist = getattr(answers, "getlist", None)
        sent = getlist(field["name"]) if getlist else []
        choices = [{"value": c, "checked": c in sent, "id": f"f-{field['name']}-{i}"} for i, c in enumerate(field.get("choices", ()))]
        out.append({**field, "value": sent[0] if sent else "", "checked": bool(sent), "options": choices,
                    "multiline": field["type"] == "multiline", "input_type": INPUT_TYPES.get(field["type"], "text")})
    return out


INPUT_TYPES = {"email": "email", "number": "number", "url": "url", "date": "date", "datetime": "datetime-local", "hidden": "hidden"}


class FormPageMixin(FormMixin):
    """What a survey and the mailbox share: the definition (``rules`` shape), open/closed, serving."""

    kind = "survey"

    def form_spec(self) -> dict[str, Any]:
        fields = []
        for field in self.get_form_fields():
            name = field.clean_name or field.get_field_clean_name()
            item = {
                "name": name,
                "label": str(field.label),
                "type": field.field_type,
                "required": bool(field.required),
                "help_text": str(field.help_text or ""),
            }
            if field.field_type in rules.CHOICE_TYPES:
                item["choices"] = rules.split_choices(field.choices)
            if field.field_type in rules.TEXT_TYPES:
                item["max_length"] = getattr(field, "max_length", None) or rules.max_length_of(field.field_type)
            fields.append(item)
        return {
            "id": self.pk,
            "kind": self.kind,
            "title": self.title,
            "opens_at": self.opens_at.isoformat() if getattr(self, "opens_at", None) else None,
            "closes_at": self.closes_at.isoformat() if getattr(self, "closes_at", None) else None,
            "max_body": rules.MAX_BODY,
            "fields": fields,
        }

    def closed_message(self, now=None) -> str | None:
        return rules.closed_message(self.form_spec(), now or timezone.now())

    def is_public(self) -> bool:
        from cms import visibility

        return visibility.audience_of(self) == Audience.PUBLIC

    def form_action(self) -> str:
        """Where the page's form posts: a public form to the public service (or, when none is configured,
        the CMS's API); a members-only form to the page itself on the CMS."""
        if not self.is_public():
            return self.url or ""
        base = getattr(settings, "SHUYUAN_PUBLIC_SEARCH_URL", None)
        if base:
            return f"{base.rstrip('/')}/forms/{self.pk}/"
        return f"{(settings.SHUYUAN_PUBLIC_API_URL or '').rstrip('/')}/api/v2/surveys/{self.pk}/submissions/"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        spec = self.form_spec()
        public = self.is_public()
        # Served by the CMS (not the static publisher), every form posts to the page itself with CSRF:
        # the CMS's own policy (form-action 'self') would block a post to the public service.
        on_cms = request is not None and not request.META.get("SHUYUAN_STATIC_BUILD")
        context.update(
            spec=spec,
            honeypot=rules.HONEYPOT,
            closed_message=rules.closed_message(spec, timezone.now()),
            form_action=(self.url or "") if on_cms else self.form_action(),
            members_form=on_cms or not public,
            fields=bound_fields(spec, {}),
        )
        return context

    def serve(self, request, *args, **kwargs):
        """GET: the form. POST (the CMS's own form: members-only pages, with CSRF): the same rules as the
        API and the public service; refusals re-show the form with the message in Chinese."""
        if request.method in ("GET", "HEAD"):
            return TemplateResponse(request, self.get_template(request), self.get_context(request))
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"])
        from . import services

        try:
            submission = services.submit_from_request(self, request, request.POST)
        except rules.Refusal as refusal:
            context = self.get_context(request)
            context.update(refusal=refusal.message, fields=bound_fields(context["spec"], request.POST))
            return TemplateResponse(request, self.get_template(request), context, status=refusal.status)
        return self.render_landing_page(request, submission)

    def get_submissions_list_view_class(self):
        from .views import SurveySubmissionsListView

        return SurveySubmissionsListView


class SurveyPage(FormPageMixin, ShuyuanPage):
    """A survey (民意调查): the questions editors build, open between two moments, public or members-only."""

    base_form_class = SurveyPageForm
    intro = RichTextField(_("说明"), blank=True, features=["bold", "italic", "link"])
    thank_you_text = RichTextField(_("提交后的致谢"), blank=True, features=["bold", "italic", "link"])
    opens_at = models.DateTimeField(_("开始时间"), null=True, blank=True, help_text=_("留空：发布后即开放。"))
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True, help_text=_("留空：一直开放。"))

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        InlinePanel("form_fields", label=_("题目")),
        FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")], heading=_("开放时间")),
        FieldPanel("thank_you_text"),
    ]
    parent_page_types = PARENTS
    subpage_types: list[str] = []
    search_kind = None  # a form: nothing to find in it

    class Meta:
        verbose_name = _("问卷调查")
        verbose_name_plural = _("问卷调查")

    def clean(self):
        super().clean()
        from django.core.exceptions import ValidationError

        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("截止时间必须晚于开始时间。")})


class SurveyFormField(AbstractFormField):
    page = ParentalKey(SurveyPage, on_delete=models.CASCADE, related_name="form_fields")

    class Meta(AbstractFormField.Meta):
        verbose_name = _("题目")


@dataclass(frozen=True)
class FixedField:
    """A field of the mailbox's letter form, fixed in code (the consent box must mean what it says)."""

    clean_name: str
    label: str
    field_type: str
    required: bool = False
    help_text: str = ""
    choices: str = ""
    default_value: str = ""
    max_length: int | None = None

    def get_field_clean_name(self) -> str:
        return self.clean_name


CONSENT = "consent"
LETTER_FIELDS = (
    FixedField("subject", "主题", "singleline", required=True, max_length=100),
    FixedField("body", "来信内容", "multiline", required=True, max_length=rules.MAX_TEXT),
    FixedField("name", "姓名（可不填）", "singleline", max_length=50),
    FixedField("contact", "联系方式（可不填，不公开）", "singleline", max_length=100),
    FixedField(CONSENT, "同意公开回复", "checkbox", help_text="勾选后，编辑部可将来信（不含姓名与联系方式）连同回复公开。"),
)


class MailboxPage(FormPageMixin, ShuyuanPage):
    """The feedback mailbox (对话信箱): readers write letters; letters whose writers agreed are shown with
    their published reply (公开回复)."""

    kind = "mailbox"
    base_form_class = ShuyuanPageForm
    intro = RichTextField(_("说明"), blank=True, features=["bold", "italic", "link"])
    thank_you_text = RichTextField(_("提交后的致谢"), blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        MultiFieldPanel([FieldPanel("thank_you_text")], heading=_("提交后")),
    ]
    parent_page_types = PARENTS
    subpage_types: list[str] = []
    search_kind = None

    class Meta:
        verbose_name = _("对话信箱")
        verbose_name_plural = _("对话信箱")

    def get_form_fields(self):
        return list(LETTER_FIELDS)

    def public_letters(self):
        """(letter, reply) of the letters shown publicly: the writer agreed and the reply is published."""
        replies = (
            LetterReply.objects.filter(submission__page=self, published=True, consented=True)
            .select_related("submission")
            .order_by("-published_at", "-pk")
        )
        # the consent is checked again on the letter itself: nothing a reply says can publish a letter
        return [(r.submission.form_data, r) for r in replies if r.submission.form_data.get(CONSENT) is True]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["letters"] = self.public_letters()
        return context


class LetterReply(models.Model):
    """An editor's reply to a mailbox letter; shown publicly with the letter only when it is published and
    the writer agreed (``consented``, copied from the letter on save and checked again on display)."""

    submission = models.OneToOneField(
        FormSubmission, verbose_name=_("来信"), on_delete=models.CASCADE, related_name="letter_reply"
    )
    text = models.TextField(_("回复内容"), max_length=rules.MAX_TEXT)
    replier = models.CharField(_("回复人"), max_length=100)
    published = models.BooleanField(_("公开回复"), default=False, help_text=_("仅当来信人同意公开时才会在网站上显示。"))
    consented = models.BooleanField(_("来信人同意公开"), default=False, editable=False)
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("信箱回复")
        verbose_name_plural = _("信箱回复")

    def __str__(self) -> str:
        return str(self.submission.form_data.get("subject") or self.submission_id)

    def save(self, *args, **kwargs):
        self.consented = self.submission.form_data.get(CONSENT) is True
        before = LetterReply.objects.filter(pk=self.pk).values_list("published", "consented").first() if self.pk else None
        self._was_public = bool(before and all(before))  # un-publishing changes the page too
        if self.published and self.published_at is None:
            self.published_at = timezone.now()
        if not self.published:
            self.published_at = None
        super().save(*args, **kwargs)


class ImportedSubmission(models.Model):
    """A submission the public service wrote to the inbox, imported once (its ``key`` is the file's id):
    re-running the import never makes a second row."""

    key = models.CharField(max_length=64, unique=True)
    submission = models.ForeignKey(FormSubmission, null=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("导入的提交")
        verbose_name_plural = _("导入的提交")
