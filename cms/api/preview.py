"""Draft preview for decoupled front ends.

An editor clicks "在应用中预览" in the admin; ``start_preview`` checks they may edit the page, signs a
token naming the page's latest revision, and redirects to the front end's preview URL
(``WAGTAIL_HEADLESS_PREVIEW["CLIENT_URLS"]``, the same setting and query parameters
wagtail-headless-preview uses: ``?content_type=cms.articlepage&token=…``). The front end fetches
``/api/v2/preview/?token=…`` and renders the draft with its own components.

Tokens are signed with the site's secret and expire after ``SHUYUAN_API["PREVIEW_TOKEN_TTL"]``
seconds; they reveal one revision and nothing else. Internal pages are never previewed outside the
CMS, and references inside the draft resolve as for a member (internal documents stay hidden).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import urlencode
from rest_framework.exceptions import PermissionDenied as TokenRefused
from rest_framework.response import Response
from rest_framework.views import APIView
from wagtail.api.v2.utils import BadRequestError
from wagtail.models import Page, PageViewRestriction, Revision

from cms import visibility

from .conf import api_setting
from .content import Resolver
from .views import ApiViewMixin, PagesViewSet

SALT = "shuyuan.api.preview"


def make_token(page: Page, revision: Revision) -> str:
    return signing.dumps({"page": page.pk, "revision": revision.pk}, salt=SALT, compress=True)


def read_token(token: str) -> dict:
    """The token's content; a 403 when it is forged, altered or expired (a 400 is for a request the
    caller could have known was wrong: a token that is well-formed may still be refused)."""
    try:
        return signing.loads(token, salt=SALT, max_age=api_setting("PREVIEW_TOKEN_TTL"))
    except signing.SignatureExpired as exc:
        raise TokenRefused("the preview token has expired; preview again from the admin") from exc
    except signing.BadSignature as exc:
        raise TokenRefused("the preview token is not valid") from exc


def draft_audience(page: Page, draft: Page) -> visibility.Audience:
    """The audience the draft would have once published: its own field and its ancestors' rules."""
    restrictions = PageViewRestriction.objects.filter(page__in=page.get_ancestors()).prefetch_related("groups")
    return visibility.strictest(
        getattr(draft, "audience", visibility.Audience.PUBLIC),
        *(visibility.restriction_audience(r) for r in restrictions),
    )


def client_url(request, page: Page) -> str:
    urls = getattr(settings, "WAGTAIL_HEADLESS_PREVIEW", {}).get("CLIENT_URLS", {})
    site = page.get_site()
    base = urls.get(getattr(site, "hostname", None)) or urls.get("default") or "/api/v2/preview/"
    return base.format(SITE_ROOT_URL=site.root_url if site else "")


@login_required
def start_preview(request, page_id: int):
    """Admin view: mint a preview token for the page's latest revision and send the editor to the app."""
    page = get_object_or_404(Page, pk=page_id).specific
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    revision = page.latest_revision or page.save_revision(user=request.user)
    content_type = f"{page._meta.app_label}.{type(page).__name__.lower()}"
    query = urlencode({"content_type": content_type, "token": make_token(page, revision)})
    base = client_url(request, page)
    return HttpResponseRedirect(f"{base}{'&' if '?' in base else '?'}{query}")


class PreviewView(ApiViewMixin, APIView):
    """``GET /api/v2/preview/?token=…``: the draft as the pages endpoint would serialise it."""

    authentication_classes: list = []

    def get(self, request):
        from .urls import api_router

        request.wagtailapi_router = api_router
        token = request.GET.get("token")
        if not token:
            raise BadRequestError("token is required")
        data = read_token(token)
        revision = Revision.page_revisions.filter(pk=data.get("revision"), object_id=str(data.get("page"))).first()
        page = Page.objects.filter(pk=data.get("page")).first()
        if revision is None or page is None:
            raise Http404("the previewed page no longer exists")
        draft = revision.as_object()
        if draft_audience(page, draft) == visibility.Audience.INTERNAL:
            raise Http404("internal pages are previewed only inside the CMS")
        viewset = PagesViewSet(request=request, format_kwarg=None, action="detail_view")
        viewset.args, viewset.kwargs = (), {}
        viewset._cached_object = draft
        resolver = Resolver(
            request,
            request.user,
            audiences=frozenset({visibility.Audience.PUBLIC.value, visibility.Audience.MEMBERS.value}),
            draft=True,  # files that follow their pages show in the preview of the draft that uses them
        )
        resolver.prepare([draft])
        viewset._resolver = resolver
        serializer_class = PagesViewSet._get_serializer_class(
            request.wagtailapi_router, type(draft), [], show_details=True
        )
        context = viewset.get_serializer_context()
        context["preview"] = True
        context["base_queryset"] = visibility.member_pages().filter(depth__gt=1)
        body = serializer_class(draft, context=context).data
        body.setdefault("meta", {})["preview"] = {"revision": revision.pk, "created_at": revision.created_at}
        response = Response(body)
        response["Cache-Control"] = "private, no-store"
        return response
