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

A copy is published only once it is a translation (``untranslated_q``): a page in another language
that wagtail-localize is translating (an enabled ``Translation`` of its zh-hans source into its locale)
while some string segment of that source has no ``StringTranslation`` in its locale, or a Wagtail alias
of a page in another language, is an untranslated copy. Outside the CMS it counts as unpublished, with
everything below it: the static site, the API, search and the CMS front end leave it out, and editors
still see it in the admin. zh-hant copies converted by OpenCC are translations; an en copy becomes one
when a translator has translated every string (and publishes it, which the change feed passes on).
Pages written by hand in another language (no enabled ``Translation``, as after "stop syncing") are
translations. ``settings.SHUYUAN_HIDE_UNTRANSLATED`` (a bool, off unless set) turns this part on.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Substr
from django.db.models.lookups import In
from django.utils import timezone
from django.utils.functional import cached_property
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


def _held() -> Q:
    """Pages the secrecy review holds (``cms.secrecy``: findings no reviewer has cleared, or classified
    内部): offline like an unpublished page, with everything below them. A sub-query on the small
    table of holds, asked inside the queries this module makes anyway."""
    from cms.secrecy.models import SecrecyHold

    return Q(pk__in=SecrecyHold.objects.values("page_id"))


def _source_locale_id() -> Subquery:
    return Subquery(Locale.objects.filter(language_code=settings.LANGUAGE_CODE).values("pk")[:1])


def untranslated_q(model=Page) -> Q:
    """Untranslated copies, as a condition on any page (or translatable snippet) queryset: rows in a
    language other than zh-hans that are a Wagtail alias of a row in another language, or that
    wagtail-localize is translating (an enabled ``Translation`` into their locale of a source with their
    ``translation_key``) while some string segment of that source has no error-free
    ``StringTranslation`` in their locale (wagtail-localize's own ``Translation.get_progress`` test, in
    SQL: one anti-join per translation, by the segments' and string translations' indexes).

    Rows in the source language are always translated; so are rows no ``Translation`` targets (written
    by hand, or synced no longer)."""
    from wagtail_localize.models import StringSegment, StringTranslation, Translation

    done = StringTranslation.objects.filter(
        translation_of_id=OuterRef("string_id"),
        context_id=OuterRef("context_id"),
        locale_id=OuterRef(OuterRef("target_locale_id")),
        has_error=False,
    )
    missing = StringSegment.objects.filter(source_id=OuterRef("source_id")).exclude(Exists(done))
    incomplete = Translation.objects.filter(
        enabled=True, source__object_id=OuterRef("translation_key"), target_locale_id=OuterRef("locale_id")
    ).filter(Exists(missing))
    copy = Q(Exists(incomplete))
    if any(f.name == "alias_of" for f in model._meta.get_fields()):  # pages
        copy |= Q(alias_of__isnull=False) & ~Q(alias_of__locale_id=F("locale_id"))
    return ~Q(locale_id=_source_locale_id()) & copy


def hides_untranslated() -> bool:
    """Whether untranslated copies are left out of public outputs (``SHUYUAN_HIDE_UNTRANSLATED``)."""
    value = getattr(settings, "SHUYUAN_HIDE_UNTRANSLATED", False)
    if not isinstance(value, bool):
        raise ImproperlyConfigured("SHUYUAN_HIDE_UNTRANSLATED must be True or False")
    return value


def _untranslated() -> Q:
    """``untranslated_q`` while the rule hides untranslated copies, else a condition no page meets."""
    return untranslated_q() if hides_untranslated() else Q(pk__in=[])


def is_translated(page) -> bool:
    """Whether one page (or snippet) is a translation by ``untranslated_q``: one query (none for a row
    in the source language). Many pages: ``untranslated_q`` over their queryset."""
    if page.locale.language_code == settings.LANGUAGE_CODE:
        return True
    model = type(page)
    return not model._default_manager.filter(pk=page.pk).filter(untranslated_q(model)).exists()


def audience_of(page: Page) -> Audience:
    """The effective audience of a page: its own restriction and its ancestors', strictest wins; for a
    translation, also its source's (and the sources of its translated ancestors).

    Drafts, unpublished and expired pages, and untranslated copies (and what is below them), are never
    public; they count as internal.
    """
    if not page.live or (page.expire_at and page.expire_at <= timezone.now()):
        return Audience.INTERNAL
    paths = _ancestor_paths(page.path)
    for source_path in source_pages(page).values_list("path", flat=True):
        paths |= _ancestor_paths(source_path)
    nodes = Page.objects.filter(path__in=paths)
    if nodes.filter(_unreachable() | _held() | _untranslated()).exists():
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
    an ancestor of one) is unpublished or expired, or the copy (or a copy above it) is untranslated, so
    nobody may read the copy outside the CMS; otherwise the view restrictions on the sources and their
    ancestors (none for a page without a source). Four queries for a translation."""
    paths: set[str] = set()
    for source_path in source_pages(page).values_list("path", flat=True):
        paths |= _ancestor_paths(source_path)
    if not paths:
        return []
    if hides_untranslated() and Page.objects.filter(path__in=_ancestor_paths(page.path)).filter(untranslated_q()).exists():
        return None
    nodes = Page.objects.filter(path__in=paths)
    if nodes.filter(_unreachable() | _held()).exists():
        return None
    return list(PageViewRestriction.objects.filter(page__in=nodes).order_by("page__depth"))


def _not_expired() -> Q:
    return Q(expire_at__isnull=True) | Q(expire_at__gt=timezone.now())


def _under(paths) -> Q:
    """Pages at or below any of ``paths``: one set-membership test of the path's prefix per path
    length. (One ``path LIKE 'prefix%'`` per path, as Wagtail's ``private_q`` writes it, costs a
    pattern match per restriction for every row a listing scans, and translations multiply them.)"""
    by_length: dict[int, set[str]] = {}
    for path in set(paths):
        by_length.setdefault(len(path), set()).add(path)
    q = Q(pk__in=[])
    step = Page.steplen
    for length, group in sorted(by_length.items()):
        # a path below another listed path is covered already
        kept = sorted(p for p in group if not any(p[:i] in by_length.get(i, ()) for i in range(step, length, step)))
        if kept:
            q |= Q(In(Substr("path", 1, length), kept))
    return q


# Up to this many untranslated copies, the rule names them (their paths); beyond, it asks
# ``untranslated_q`` in SQL row by row (and still names the copies with children).
MAX_NAMED_UNTRANSLATED = 1000

# Up to this many translations whose source is hidden, the rule names them (their translation keys);
# beyond, it asks in SQL, row by row, whether a translation's source is hidden.
MAX_NAMED_TRANSLATIONS = 1000


def _within_sources(visible: Q) -> Q:
    """Pages no more visible than their source: not a translation of a zh-hans page outside ``visible``,
    nor below one.

    One query finds the translations whose source is hidden (by the locale index, so translations
    only; each source by its ``translation_key`` index). The condition then names their translation
    keys, and the paths of those with children (homes, columns): a set lookup per row, where a
    correlated sub-query per translated row would repeat the whole of ``visible`` inside every query
    that uses the rule. Naming a key excludes only translations: the zh-hans page with that key is the
    hidden source itself.
    """
    source_locale = Q(locale_id=Subquery(Locale.objects.filter(language_code=settings.LANGUAGE_CODE).values("pk")[:1]))
    hidden_source = Page.objects.filter(source_locale, translation_key=OuterRef("translation_key")).exclude(visible)
    other_locales = Locale.objects.exclude(language_code=settings.LANGUAGE_CODE).values("pk")
    translations = Page.objects.filter(locale_id__in=other_locales).filter(Exists(hidden_source))
    hidden = list(translations.values_list("translation_key", "path", "numchild")[: MAX_NAMED_TRANSLATIONS + 1])
    if len(hidden) <= MAX_NAMED_TRANSLATIONS:
        keys = {key for key, _path, _numchild in hidden}
        return ~Q(translation_key__in=keys) & ~_under(path for _key, path, numchild in hidden if numchild)
    branches = translations.filter(numchild__gt=0).values_list("path", flat=True)
    return (source_locale | ~Exists(hidden_source)) & ~_under(branches)


class Rule:
    """The rule's conditions as the tree stands now, for any page queryset.

    Building them reads the view restrictions and the hidden branches (unpublished or expired pages
    with children) once, however many of the conditions are asked for: a caller that filters several
    querysets, or asks both what is public and what a member may read, builds one ``Rule``.
    """

    def __init__(self):
        self._public: Q | None = None
        self._members: Q | None = None

    @cached_property
    def _audiences_by_path(self) -> list[tuple[str, Audience]]:
        restrictions = PageViewRestriction.objects.select_related("page").prefetch_related("groups")
        return [(r.page.path, restriction_audience(r)) for r in restrictions]

    def _restricted_paths(self) -> set[str]:
        if "_audiences_by_path" in self.__dict__:
            return {path for path, _audience in self._audiences_by_path}
        return set(PageViewRestriction.objects.values_list("page__path", flat=True))

    @cached_property
    def _hidden_branches(self) -> list[str]:
        """Pages with children that are unpublished or expired (nothing below them is reachable), and
        pages the secrecy review holds (they and everything below them stay offline): one query."""
        hidden = (Q(numchild__gt=0) & _unreachable()) | _held()
        return list(Page.objects.filter(hidden).values_list("path", flat=True))

    @cached_property
    def _untranslated(self) -> tuple[set[str], Q]:
        """Live untranslated copies (``untranslated_q``): their paths, to leave out with everything
        below them, and a condition for those too many to name. One query (two beyond
        ``MAX_NAMED_UNTRANSLATED``), computed once per ``Rule``, so once per request or publish."""
        if not hides_untranslated():
            return set(), Q()
        copies = Page.objects.filter(live=True).filter(untranslated_q())
        named = list(copies.values_list("path", flat=True)[: MAX_NAMED_UNTRANSLATED + 1])
        if len(named) <= MAX_NAMED_UNTRANSLATED:
            return set(named), Q()
        return set(copies.filter(numchild__gt=0).values_list("path", flat=True)), ~untranslated_q()

    def _offline(self, paths: set[str]) -> Q:
        """Live, unexpired pages not at or below ``paths``, the hidden branches or an untranslated copy."""
        untranslated, unnamed = self._untranslated
        return Q(live=True) & _not_expired() & ~_under(paths | set(self._hidden_branches) | untranslated) & unnamed

    def public(self) -> Q:
        """Live, unexpired pages with no view restriction on them or any ancestor, and no unpublished,
        expired or untranslated ancestor; translations only while their source is public too."""
        if self._public is None:
            visible = self._offline(self._restricted_paths())
            self._public = visible & _within_sources(visible)
        return self._public

    def members(self) -> Q:
        """What a member may read: public and members-only pages, never internal ones (nor anything
        below an unpublished or expired page); translations only while a member may read their source."""
        if self._members is None:
            internal = {path for path, audience in self._audiences_by_path if audience == Audience.INTERNAL}
            visible = self._offline(internal)
            self._members = visible & _within_sources(visible)
        return self._members

    def for_audiences(self, audiences) -> Q:
        """The condition for a caller who may read these audiences (``audiences_for``)."""
        return self.members() if Audience.MEMBERS.value in audiences else self.public()


_SCOPED_RULE: ContextVar[Rule | None] = ContextVar("shuyuan_scoped_rule", default=None)


@contextmanager
def one_rule(rule: Rule):
    """Inside this block, every call here that builds its own ``Rule`` (``public_q``, ``member_q``,
    ``public_pages``, ``member_pages``, ``pages_visible_to``) uses ``rule`` instead: the same conditions,
    read once (a static publish renders many pages, each asking the rule). Never kept after the block."""
    token = _SCOPED_RULE.set(rule)
    try:
        yield rule
    finally:
        _SCOPED_RULE.reset(token)


def _rule() -> Rule:
    scoped = _SCOPED_RULE.get()
    return scoped if scoped is not None else Rule()


def public_q() -> Q:
    """The condition ``public_pages`` applies, for any page queryset (a specific type's too). A caller
    that filters several querysets in one request builds a ``Rule`` once instead."""
    return _rule().public()


def member_q() -> Q:
    """The condition ``member_pages`` applies (see ``public_q``)."""
    return _rule().members()


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


def pages_visible_to(user, queryset=None, rule: Rule | None = None):
    """The pages an output may show this user (internal pages never leave the CMS). ``rule``: one the
    caller has built already for this request."""
    rule = rule if rule is not None else _rule()
    queryset = Page.objects.all() if queryset is None else queryset
    return queryset.filter(rule.members() if is_member(user) else rule.public())


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
