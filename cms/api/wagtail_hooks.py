"""Admin hooks of the API: the "preview in the app" button and its URL; audience checks on downloads."""

from django.http import HttpResponseForbidden
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.widgets import Button

from cms import visibility

from . import preview


@hooks.register("register_admin_urls")
def register_preview_url():
    return [path("app-preview/<int:page_id>/", preview.start_preview, name="shuyuan_api_app_preview")]


@hooks.register("register_page_header_buttons")
def app_preview_button(page, user, view_name, next_url=None):
    if page.depth > 1 and page.permissions_for_user(user).can_edit():
        yield Button(
            _("在应用中预览"),
            reverse("shuyuan_api_app_preview", args=(page.pk,)),
            icon_name="mobile-alt",
            priority=80,
            attrs={"target": "_blank", "rel": "noopener"},
        )


@hooks.register("before_serve_document")
def check_document_audience(document, request):
    """``/documents/<id>/…`` serves a members-only file only to a signed-in member, and an internal
    file only to people who may use the admin."""
    audience = getattr(document, "audience", visibility.Audience.PUBLIC)
    if audience == visibility.Audience.PUBLIC or request.user.has_perm("wagtailadmin.access_admin"):
        return None
    if audience == visibility.Audience.MEMBERS and visibility.is_member(request.user):
        return None
    return HttpResponseForbidden()
