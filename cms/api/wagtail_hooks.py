"""Admin hooks of the API: the "preview in the app" button and its URL.

Audience checks on ``/documents/<id>/…`` downloads are ``media.wagtail_hooks.check_document_audience``;
the API's own ``documents/<id>/download/`` checks the audience through its queryset."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.widgets import Button

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
