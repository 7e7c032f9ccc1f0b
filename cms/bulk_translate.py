"""翻译并同步整个栏目: translate a column and every page below it into one language, as a background job.

An editor who may translate the column (wagtail-localize's ``submit_translation`` permission and the
right to edit the column) picks a language on the column's page in the admin (a header button); a
django-tasks job then creates or syncs the translation of each page, ancestors first (the home, when
that language has none yet), then the column and its descendants in tree order, each page in its own
transaction as the admin's Translate would. zh-hant strings are converted by OpenCC and published
(``cms.translation.translate_page``); other languages get synced copies, which stay off the public site
until a translator has translated every string (``cms.visibility.untranslated_q``).

Progress (pages done of all, failures) is kept in the cache under the job's id for the editor who
started it; the form shows it, and ``progress/<job>/`` answers it as JSON.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from django_tasks import task
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button
from wagtail.models import Locale, Page

logger = logging.getLogger("shuyuan.translation")

#: how long a job's progress stays readable after its last step
PROGRESS_SECONDS = 24 * 3600


def progress_key(job_id: str) -> str:
    return f"shuyuan:bulk-translate:{job_id}"


def may_translate(user, page: Page) -> bool:
    """Whether ``user`` may translate ``page`` and the pages below it: wagtail-localize's permission to
    submit translations, and the right to edit the page (Wagtail's permissions hold for its subtree)."""
    if user is None or not user.is_authenticated or not user.is_active or page.depth < 2:
        return False
    return user.has_perm("wagtail_localize.submit_translation") and page.permissions_for_user(user).can_edit()


def pages_to_translate(column: Page, locale: Locale) -> list[int]:
    """The ids to translate, in order: the column's ancestors below the root that have no translation in
    ``locale`` yet (parents must exist first), then the column and its descendants in its own language."""
    missing = [
        pk
        for pk, key in column.get_ancestors().filter(depth__gt=1).values_list("pk", "translation_key")
        if not Page.objects.filter(translation_key=key, locale=locale).exists()
    ]
    subtree = (
        Page.objects.descendant_of(column, inclusive=True)
        .filter(locale_id=column.locale_id)
        .order_by("path")
        .values_list("pk", flat=True)
    )
    return missing + list(subtree)


def _report(job_id: str, state: dict) -> None:
    cache.set(progress_key(job_id), state, PROGRESS_SECONDS)


def progress(job_id: str) -> dict | None:
    return cache.get(progress_key(job_id))


@task(takes_context=True)
def translate_column(context, column_id: int, locale_id: int, user_id: int) -> dict:
    """Translate and sync the column ``column_id`` with everything below it into ``locale_id`` for the
    user ``user_id`` (checked again here: permissions may change while the job waits)."""
    from django.contrib.auth import get_user_model

    from cms import visibility
    from cms.translation import translate_page

    job_id = str(context.task_result.id)
    column = Page.objects.filter(pk=column_id).first()
    locale = Locale.objects.filter(pk=locale_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    state = {"user": user_id, "column": column_id, "locale": getattr(locale, "language_code", None)}
    if column is None or locale is None or locale.pk == column.locale_id or not may_translate(user, column):
        _report(job_id, {**state, "state": "refused", "done": 0, "total": 0, "failed": []})
        return {"state": "refused"}
    ids = pages_to_translate(column, locale)
    state.update(state="running", done=0, total=len(ids), failed=[])
    _report(job_id, state)
    for pk in ids:
        page = Page.objects.filter(pk=pk).first()
        if page is not None:
            try:
                with transaction.atomic():
                    translate_page(page, locale, user=user)
            except Exception:  # one page's failure (a validation error in its copy) must not stop the rest
                logger.exception("bulk translation of page %s into %s failed", pk, locale.language_code)
                state["failed"].append(pk)
        state["done"] += 1
        _report(job_id, state)
    copies = Page.objects.filter(translation_key__in=Page.objects.filter(pk__in=ids).values("translation_key"), locale=locale)
    untranslated = copies.filter(visibility.untranslated_q()).count()
    state.update(state="done", translated=copies.count() - untranslated, untranslated=untranslated)
    _report(job_id, state)
    return {key: state[key] for key in ("state", "done", "total", "failed", "translated", "untranslated")}


# -- the admin ------------------------------------------------------------------------------------------
class BulkTranslateForm(forms.Form):
    locale = forms.ModelChoiceField(queryset=Locale.objects.none(), label=gettext_lazy("目标语言"))

    def __init__(self, *args, page: Page, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locale"].queryset = Locale.objects.exclude(pk=page.locale_id).order_by("language_code")


def _progress_message(state: dict) -> str:
    if state.get("state") == "refused":
        return _("翻译任务被拒绝：没有翻译该栏目的权限，或目标语言无效。")
    text = _("翻译进度：已处理 %(done)s / %(total)s 个页面") % state
    if state.get("failed"):
        text += _("，失败 %(n)s 个") % {"n": len(state["failed"])}
    if state.get("state") == "done":
        text += _("。已完成：%(translated)s 个译本已翻译，%(untranslated)s 个尚待翻译（不会发布）。") % state
    return text


class BulkTranslateView(WagtailAdminTemplateMixin, FormView):
    """The column's form: pick a language; shows the progress of the job it started (``?job=``)."""

    template_name = "wagtailadmin/generic/form.html"
    form_class = BulkTranslateForm
    page_title = gettext_lazy("翻译并同步整个栏目")
    header_icon = "globe"

    def dispatch(self, request, *args, **kwargs):
        self.page = get_object_or_404(Page, pk=kwargs["page_id"]).specific
        if not may_translate(request.user, self.page):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.page.get_admin_display_title()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "page": self.page}

    def get(self, request, *args, **kwargs):
        job = request.GET.get("job")
        state = progress(job) if job else None
        if state is not None and state.get("user") == request.user.pk:
            messages.info(request, _progress_message(state))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            action_url=reverse("shuyuan_bulk_translate:form", args=[self.page.pk]),
            submit_button_label=_("开始翻译"),
        )
        return context

    def form_valid(self, form):
        locale = form.cleaned_data["locale"]
        result = translate_column.enqueue(self.page.pk, locale.pk, self.request.user.pk)
        if progress(str(result.id)) is None:  # not started yet (a worker will): say so
            _report(str(result.id), {"user": self.request.user.pk, "state": "queued", "done": 0, "total": 0, "failed": []})
        messages.success(self.request, _("已开始翻译“%(title)s”及其下所有页面。") % {"title": self.page.title})
        return redirect(reverse("shuyuan_bulk_translate:form", args=[self.page.pk]) + f"?job={result.id}")


def progress_view(request, job_id: str):
    """The job's progress as JSON, for the editor who started it."""
    state = progress(job_id)
    if state is None or state.get("user") != request.user.pk:
        raise Http404
    return JsonResponse({key: value for key, value in state.items() if key != "user"})


urlpatterns = [
    path("<int:page_id>/", BulkTranslateView.as_view(), name="form"),
    path("progress/<str:job_id>/", progress_view, name="progress"),
]


def admin_urls() -> list:
    """For ``register_admin_urls``: the form and the progress, under ``bulk-translate/``."""
    from django.urls import include

    return [path("bulk-translate/", include((urlpatterns, "shuyuan_bulk_translate")))]


def header_buttons(page, user, view_name=None, next_url=None):
    """For ``register_page_header_buttons``: 翻译并同步整个栏目 on a source page with children the user may
    translate (a column, the library, a home)."""
    from cms.translation import is_source

    if page.numchild and page.depth > 1 and is_source(page) and may_translate(user, page):
        yield Button(
            _("翻译并同步整个栏目"),
            reverse("shuyuan_bulk_translate:form", args=[page.pk]),
            icon_name="globe",
            priority=80,
        )
