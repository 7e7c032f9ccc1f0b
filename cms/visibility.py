"""The one visibility rule.

Every page has one audience: public, members or internal. Editors choose it with the ``audience``
field; it is stored as Wagtail's own ``PageViewRestriction`` (members: a group restriction naming the
members group; internal: one naming only the internal-staff group), so Wagtail's ``live().public()``
already means "public" and Wagtail's own front-end enforces the rest. Restrictions inherit: a page is
as restricted as its most restricted ancestor. Every output (static site, sitemaps, feeds, API,
search) asks this module, never the field directly.

Translations are never more visible than their source. zh-hans (``settings.LANGUAGE_CODE``) is the
source language: a page in another language whose ``translation_key`` has a zh-hans page gets the
stricter audience of the two, and so does everything below it. A translation is a copy whose own
restriction and liveness only follow the source when wagtail-localize syncs it (the zh-hant copy on
every publish, the en copy when a translator works on it); until then the rule keeps it in step, so
an unpublished, expired, restricted or moved source never leaves a readable copy behind. Pages
without a zh-hans counterpart (written directly in another language) are their own source.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import BaseViewRestriction, Locale, Page, PageViewRestriction


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


def _ancestor_paths(path: str) -> set[str]:
    """The paths of a page and its ancestors (root included)."""
    step = Page.steplen
    return {path[:i] for i in range(step, len(path) + 1, step)}


def _source_language() -> Q:
    return Q(locale__language_code=settings.LANGUAGE_CODE)


def _unreachable() -> Q:
    return Q(depth__gt=1, live=False) | Q(expire_at__lte=timezone.now())


def audience_of(page: Page) -> Audience:
    """The effective audience of a page: its own restriction and its ancestors', strictest wins; for a
    translation, also its source's (and the sources of its translated ancestors).

    Drafts, unpublished and expired pages are never public; they count as internal.
    """
    if not page.live or (page.expire_at and page.expire_at <= timezone.now()):
        return Audience.INTERNAL
    paths = _ancestor_paths(page.path)
    for source_path in source_pages(page).values_list("path", flat=True):
        paths |= _ancestor_paths(source_path)
    nodes = Page.objects.filter(path__in=paths)
    if nodes.filter(_unreachable()).exists():
        return Audience.INTERNAL
    restrictions = PageViewRestriction.objects.filter(page__in=nodes).prefetch_related("groups")
    return strictest(*(restriction_audience(r) for r in restrictions))


def source_pages(page: Page):
    """The zh-hans pages that ``page`` and its ancestors are translations of (none for a zh-hans page
    or a page written in its own language), shallowest first."""
    translated = (
        Page.objects.filter(path__in=_ancestor_paths(page.path)).exclude(_source_language()).values("translation_key")
    )
    return Page.objects.filter(_source_language(), translation_key__in=translated).order_by("depth")


def source_restrictions(page: Page) -> list[PageViewRestriction] | None:
    """What the sources of a translation demand before the CMS may serve it: ``None`` when a source (or
    an ancestor of one) is unpublished or expired, so nobody may read the copy outside the CMS;
    otherwise the view restrictions on the sources and their ancestors (none for a page without a
    source). Three queries for a translation."""
    paths: set[str] = set()
    for source_path in source_pages(page).values_list("path", flat=True):
        paths |= _ancestor_paths(source_path)
    if not paths:
        return []
    nodes = Page.objects.filter(path__in=paths)
    if nodes.filter(_unreachable()).exists():
        return None
    return list(PageViewRestriction.objects.filter(page__in=nodes).order_by("page__depth"))


def _not_expired() -> Q:
    return Q(expire_at__isnull=True) | Q(expire_at__gt=timezone.now())


def _under(paths) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(path__startswith=path)
    return q


def _hidden_branches() -> Q:
    """Pages below an unpublished or expired page: not reachable, so never shown outside the CMS."""
    paths = Page.objects.filter(numchild__gt=0).filter(_unreachable()).values_list("path", flat=True)
    return _under(paths)


def _within_sources(visible: Q) -> Q:
    """Pages no more visible than their source: not a translation of a zh-hans page outside ``visible``,
    nor below one. A correlated subquery, asked for translations only (the source is found by its
    ``translation_key`` index), so a listing that stops after 20 pages checks at most 20 sources; plus
    one query for the few translated pages with children (homes, columns) whose source is hidden."""
    source_locale = Q(locale_id=Subquery(Locale.objects.filter(language_code=settings.LANGUAGE_CODE).values("pk")[:1]))
    hidden_source = Page.objects.filter(source_locale, translation_key=OuterRef("translation_key")).exclude(visible)
    branches = (
        Page.objects.filter(numchild__gt=0)
        .exclude(source_locale)
        .filter(Exists(hidden_source))
        .values_list("path", flat=True)
    )
    return (source_locale | ~Exists(hidden_source)) & ~_under(branches)


def _public_q() -> Q:
    """Live, unexpired, reachable pages with no view restriction on them or any ancestor, ignoring
    translations (sources are in the source language, where the rule is this)."""
    private = Page.objects.all().private_q()
    return Q(live=True) & _not_expired() & ~private & ~_hidden_branches()


def _member_q() -> Q:
    internal_paths = [
        r.page.path
        for r in PageViewRestriction.objects.select_related("page").prefetch_related("groups")
        if restriction_audience(r) == Audience.INTERNAL
    ]
    return Q(live=True) & _not_expired() & ~_under(internal_paths) & ~_hidden_branches()


def public_q() -> Q:
    """The condition ``public_pages`` applies, for any page queryset (a specific type's too). Building
    it reads the restrictions and hidden branches: a caller that filters several querysets in one
    request builds it once."""
    visible = _public_q()
    return visible & _within_sources(visible)


def member_q() -> Q:
    """The condition ``member_pages`` applies (see ``public_q``)."""
    visible = _member_q()
    return visible & _within_sources(visible)


def public_pages(queryset=None):
    """Live, unexpired pages with no view restriction on them or any ancestor, and no unpublished or
    expired ancestor; translations only while their source is public too."""
    queryset = Page.objects.all() if queryset is None else queryset
    return queryset.filter(public_q())


def member_pages(queryset=None):
    """What a logged-in member may read: public pages plus members-only ones, never internal ones
    (nor anything below an unpublished or expired page); translations only while a member may read
    their source too."""
    queryset = Page.objects.all() if queryset is None else queryset
    return queryset.filter(member_q())


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
