"""Keep files to their effective audience in the CMS, and tell editors when a file is wider than a page.

Wagtail serves documents through its own view (``/documents/<id>/<name>``); ``check_document_audience``
makes a file that is not public require a member's login, and keeps internal files to people who can
use the admin. The effective audience is ``media.audience``'s (the editor's choice, or the pages that
use the file).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from wagtail import hooks

from cms.visibility import Audience

from .audience import effective_audience, may_fetch
from .usage import files_more_public_than


@hooks.register("before_serve_document")
def check_document_audience(document, request):
    audience = effective_audience(document)
    if may_fetch(request.user, audience):
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied


def warn_about_wider_files(request, page) -> None:
    """After an editor saves or publishes a page: name the files anyone may fetch although the page is
    more restricted (an explicitly 公开 file on a 仅会员 page, a 仅会员 file on a 内部 page)."""
    found = files_more_public_than(page)
    if not found:
        return
    page_audience, files = found
    names = format_html_join("、", "“{}”（{}）", ((f.title, f.get_audience_display()) for f in files))
    page_label = Audience(page_audience).label
    messages.warning(
        request,
        format_html(
            _(
                "注意：本页面的可见范围是“{page}”，但它使用的文件 {files} 可见范围更宽，页面之外的人仍可下载或查看。"
                "若文件应随页面保密，请在文件设置中把可见范围改为“跟随所用页面”。"
            ),
            page=page_label,
            files=names,
        ),
    )


@hooks.register("after_create_page")
def warn_after_create(request, page):
    warn_about_wider_files(request, page)


@hooks.register("after_edit_page")
def warn_after_edit(request, page):
    warn_about_wider_files(request, page)
