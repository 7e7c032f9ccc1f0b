"""``{% study_beacon page %}``: the reading beacon on a study material, for signed-in members on the
members' pages the CMS serves. It renders nothing while the static publisher renders (its requests are
marked SHUYUAN_STATIC_BUILD), for visitors and non-members, and on pages that are not study materials,
so no published page carries the beacon or anything per user."""

from django import template
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from cms.visibility import is_member

from .. import services

register = template.Library()

HEARTBEAT_SECONDS = 30


@register.simple_tag(takes_context=True)
def study_beacon(context, page=None):
    request = context.get("request")
    page = page if page is not None else context.get("page")
    if request is None or page is None or request.META.get("SHUYUAN_STATIC_BUILD"):
        return ""
    user = getattr(request, "user", None)
    if not is_member(user) or not isinstance(page, services.study_material_types()):
        return ""
    return format_html(
        '<script src="{}" defer data-study-beacon="{}" data-page="{}" data-csrf="{}" data-interval="{}"></script>',
        static("study_records/beacon.js"),
        reverse("api_study_beacon"),
        page.pk,
        get_token(request),
        HEARTBEAT_SECONDS,
    )
