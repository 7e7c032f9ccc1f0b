"""Enforce a document's audience when it is downloaded from the CMS.

Wagtail serves documents through its own view; this hook makes a members-only file require a
member's login and keeps internal files to people who can use the admin.
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from wagtail import hooks

from cms import visibility
from cms.visibility import Audience


@hooks.register("before_serve_document")
def check_document_audience(document, request):
    audience = getattr(document, "audience", Audience.PUBLIC)
    if audience == Audience.PUBLIC:
        return None
    user = request.user
    if audience == Audience.INTERNAL:
        if user.is_authenticated and user.has_perm("wagtailadmin.access_admin"):
            return None
    elif visibility.is_member(user) or (user.is_authenticated and user.has_perm("wagtailadmin.access_admin")):
        return None
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied
