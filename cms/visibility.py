"""The one visibility rule.

Every page has one audience: public, members or internal. Editors choose it with the ``audience``
field; it is stored as Wagtail's own ``PageViewRestriction`` (members: a group restriction naming the
members group; internal: one naming only the internal-staff group), so Wagtail's ``live().public()``
already means "public" and Wagtail's own front-end enforces the rest. Restrictions inherit: a page is
as restricted as its most restricted ancestor. Every output (static site, sitemaps, feeds, API,
search) asks this module, never the field directly.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import BaseViewRestriction, Page, PageViewRestriction


class Audience(models.TextChoices):
    PUBLIC = "public", _("公开")
    MEMBERS = "members", _("仅会员")
    INTERNAL = "internal", _("内部（仅限系统内）")


_RANK = {Audience.PUBLIC: 0, Audience.MEMBERS: 1, Audience.INTERNAL: 2}


def members_group() -> Group:
    group, _created = Group.objects.get_or_create(name=settings.SHUYUAN_MEMBERS_GROUP)
    return group


def internal_group() -> Group:
    group, _created = Group.objects.get_or_create(name=settings.SHUYUAN_INTERNAL_GROUP)
    return group


def restriction_audience(restriction: BaseViewRestriction) -> Audience:
    """What audience a view restriction amounts to.

    A login restriction or a group restriction that admits the members group means "members";
    anything else (password, staff-only groups) can't be served outside the CMS and means "internal".
    """
    if restriction.restriction_type == BaseViewRestriction.LOGIN:
        return Audience.MEMBERS
    if restriction.restriction_type == BaseViewRestriction.GROUPS:
        names = {g.name for g in restriction.groups.all()}
        if settings.SHUYUAN_MEMBERS_GROUP in names:
            return Audience.MEMBERS
    return Audience.INTERNAL


def strictest(*audiences: str) -> Audience:
    return max((Audience(a) for a in audiences), key=_RANK.__getitem__, default=Audience.PUBLIC)


def audience_of(page: Page) -> Audience:
    """The effective audience of a page: its own restriction and its ancestors', strictest wins.

    Drafts, unpublished and expired pages are never public; they count as internal.
    """
    if not page.live or (page.expire_at and page.expire_at <= timezone.now()):
        return Audience.INTERNAL
    ancestors = page.get_ancestors(inclusive=True)
    if ancestors.filter(Q(depth__gt=1, live=False) | Q(expire_at__lte=timezone.now())).exists():
        return Audience.INTERNAL
    restrictions = PageViewRestriction.objects.filter(page__in=ancestors).prefetch_related("groups")
    return strictest(*(restriction_audience(r) for r in restrictions))


def _not_expired() -> Q:
    return Q(expire_at__isnull=True) | Q(expire_at__gt=timezone.now())


def _under(paths) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    return q


def _hidden_branches() -> Q:
    """Pages below an unpublished or expired page: not reachable, so never shown outside the CMS."""
    paths = Page.objects.filter(depth__gt=1, numchild__gt=0).filter(
        Q(live=False) | Q(expire_at__lte=timezone.now())
    ).values_list("path", flat=True)
    return _under(paths)


def public_pages(queryset=None):
    """Live, unexpired pages with no view restriction on them or any ancestor, and no unpublished or
    expired ancestor."""
    queryset = Page.objects.all() if queryset is None else queryset
    return queryset.live().public().filter(_not_expired()).exclude(_hidden_branches())


def member_pages(queryset=None):
    """What a logged-in member may read: public pages plus members-only ones, never internal ones
    (nor anything below an unpublished or expired page)."""
    queryset = Page.objects.all() if queryset is None else queryset
    internal_paths = [
        r.page.path
        for r in PageViewRestriction.objects.select_related("page").prefetch_related("groups")
        if restriction_audience(r) == Audience.INTERNAL
    ]
    return queryset.live().filter(_not_expired()).exclude(_under(internal_paths)).exclude(_hidden_branches())


def is_member(user) -> bool:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(
        name__in=[settings.SHUYUAN_MEMBERS_GROUP, settings.SHUYUAN_INTERNAL_GROUP]
    ).exists()


def audiences_for(user) -> frozenset[str]:
    """The audiences whose content this user may read outside the CMS."""
    if is_member(user):
        return frozenset({Audience.PUBLIC.value, Audience.MEMBERS.value})
    return frozenset({Audience.PUBLIC.value})


def pages_visible_to(user, queryset=None):
    """The pages an output may show this user (internal pages never leave the CMS)."""
    return member_pages(queryset) if is_member(user) else public_pages(queryset)


def sync_restriction(page: Page, audience: str) -> None:
    """Make the page's own view restriction match its audience field (called after saves)."""
    existing = list(PageViewRestriction.objects.filter(page=page).prefetch_related("groups"))
    if audience == Audience.PUBLIC:
        for r in existing:
            r.delete()
        return
    wanted_groups = {members_group(), internal_group()} if audience == Audience.MEMBERS else {internal_group()}
    for r in existing:
        if r.restriction_type == BaseViewRestriction.GROUPS and set(r.groups.all()) == wanted_groups:
            return
    for r in existing:
        r.delete()
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=BaseViewRestriction.GROUPS)
    restriction.groups.set(wanted_groups)
