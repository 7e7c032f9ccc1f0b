"""Images the CMS serves itself: renditions made on request (``/images/<signature>/<id>/<filter>/``) and
the files under ``MEDIA_URL`` when the media storage is a local folder."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.cache import patch_cache_control
from wagtail.images.utils import verify_signature
from wagtail.images.views.serve import ServeView

from cms.visibility import Audience

from .audience import effective_audience, may_fetch


class ImageServeView(ServeView):
    """Wagtail's rendition view, answering only to those allowed to see the image.

    A signed URL proves the CMS made it, not who may follow it: the image's effective audience
    (``media.audience``) decides. Anonymous visitors are sent to log in for a members image; anyone
    else not allowed gets a 404 (an internal image is never admitted to exist). Restricted renditions
    are ``Cache-Control: private`` so no shared cache keeps them.
    """

    def get(self, request, signature, image_id, filter_spec, filename=None):
        if not verify_signature(signature.encode(), image_id, filter_spec, key=self.key):
            raise PermissionDenied
        image = self.model.objects.filter(pk=image_id).only("pk", "audience").first()
        return _serve_image(request, image, lambda: super(ImageServeView, self).get(
            request, signature, image_id, filter_spec, filename
        ))


def _serve_image(request, image, respond):
    """The one gate for image files the CMS hands out: 404 for an image that doesn't exist or that the
    caller may not see (a login page instead for an anonymous visitor asking for a members image);
    otherwise ``respond()``, kept out of shared caches when the image is not public."""
    if image is None:
        raise Http404
    audience = effective_audience(image)
    if not may_fetch(request.user, audience):
        if audience == Audience.MEMBERS and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    response = respond()
    if audience != Audience.PUBLIC:
        patch_cache_control(response, private=True, no_store=True)
        response.headers.pop("Expires", None)
    return response


def _image_behind(name: str):
    """The image whose original or rendition is stored under ``name`` (a path below MEDIA_ROOT), or None."""
    from wagtail.images import get_image_model

    model = get_image_model()
    image = model.objects.filter(file=name).only("pk", "audience").first()
    if image is None:
        rendition = model.get_rendition_model().objects.filter(file=name).select_related("image").first()
        image = rendition.image if rendition is not None else None
    return image


def serve_media_file(request, path: str):
    """Files under ``MEDIA_URL`` (image originals and renditions, which the CMS's own pages link to),
    with the same audience check as ``ImageServeView``.

    Without it, whatever serves ``MEDIA_ROOT`` would hand an internal image to anyone who guesses its
    file name (renditions are named after the original and the filter). Files that belong to no image
    are not served at all: document files live in a storage of their own (media/storage.py).
    """
    from django.views.static import serve

    return _serve_image(request, _image_behind(path), lambda: serve(request, path, document_root=settings.MEDIA_ROOT))
