"""Who may fetch an uploaded file (a document or an image) outside the CMS.

A file has no audience of its own unless an editor gives it one: by default it *follows the pages
that use it* (``FileAudience.FOLLOW``). Its effective audience is then the widest audience among the
live pages that use it, as ``cms.visibility`` decides for pages: public if a public page uses it,
members-only if only pages a member may read use it, internal (never outside the CMS) otherwise. An
explicit choice (公开, 仅会员, 内部) stands whatever the pages are. Whatever the audience, a file
classified other than 公开, or held by the secrecy review, is internal.

"Uses" is Wagtail's ReferenceIndex: rows pointing at the file whose base object is a page (foreign
keys such as the cover image, StreamField and rich-text references, and inline children such as study
material attachments, which Wagtail indexes under their page). The index is built from the page row,
which holds the *live* content of a published page (drafts live in revisions, never indexed), so a
draft that adds a file widens nothing until it is published. The index is updated by a background
task: until it runs, a newly used file stays as restricted as before (the safe direction).

This module has no rule of its own about pages: it asks ``cms.visibility`` which pages are public and
which a member may read, and every output (API, downloads, renditions, static site, search) asks it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import BigIntegerField, Case, CharField, Exists, OuterRef, Q, QuerySet, When
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, ReferenceIndex

from cms import visibility
from cms.visibility import Audience


class FileAudience(models.TextChoices):
    """What an editor chooses for a file; ``FOLLOW`` leaves it to the pages that use it."""

    FOLLOW = "follow", _("跟随所用页面")
    PUBLIC = "public", _("公开")
    MEMBERS = "members", _("仅会员")
    INTERNAL = "internal", _("内部（仅限系统内）")


EXPLICIT = frozenset({FileAudience.PUBLIC.value, FileAudience.MEMBERS.value, FileAudience.INTERNAL.value})


class FileAudienceField(models.CharField):
    """The file's audience choice, optional in upload forms.

    Wagtail's multiple upload builds its first form from the file, title and collection only; a
    required audience there sent every upload down the "needs more details" path, whose 更新 failed.
    Left out of a form, the field keeps its default (``FOLLOW``); the edit forms still offer it.
    """

    def formfield(self, **kwargs):
        field = super().formfield(**kwargs)
        if field is not None:
            field.required = False
        return field


def _page_content_type() -> ContentType:
    return ContentType.objects.get_for_model(Page)


def used_by(model, pages) -> Exists:
    """Whether a ``model`` file (the outer query's row) is used by one of ``pages``, per the ReferenceIndex.

    A correlated sub-query that starts from the file: its references (by the index on the target),
    then each referring page by its primary key, tested against the condition of ``pages``. The cost
    follows the uses of the files asked about, not the size of the tree.
    """
    # The referring page's id, null for a row whose base is not a page (its object id may be any
    # text). This is also what limits the uses to pages: a separate condition on the base type would
    # lead SQLite away from the index on the target.
    page_id = Case(
        When(base_content_type=_page_content_type(), then=Cast("object_id", BigIntegerField())),
        output_field=BigIntegerField(),
    )
    uses = (
        ReferenceIndex.objects.filter(
            to_content_type=ContentType.objects.get_for_model(model),
            to_object_id=Cast(OuterRef("pk"), CharField()),
        )
        .annotate(_page_id=page_id)
        .filter(Exists(pages.filter(pk=OuterRef("_page_id"))))
    )
    return Exists(uses)


def _pages_for(audiences: Iterable[str], rule: visibility.Rule | None = None):
    """The pages whose use makes a following file visible to these audiences (None: no page does)."""
    audiences = set(audiences)
    if not audiences & {Audience.PUBLIC.value, Audience.MEMBERS.value}:
        return None
    rule = rule if rule is not None else visibility.Rule()
    return Page.objects.filter(rule.for_audiences(audiences))


def visible_files(queryset, audiences: Iterable[str], pages=None, rule: visibility.Rule | None = None) -> QuerySet:
    """The files of ``queryset`` (or a model) whose effective audience is one of ``audiences``.

    One query whatever the number of files (the uses are a sub-query). ``pages``: the pages readable
    by these audiences when the caller has them already (``member_pages()`` or ``public_pages()``);
    else ``rule``: the ``visibility.Rule`` the caller has built for this request, if any.
    """
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    audiences = {str(a) for a in audiences}
    if Audience.INTERNAL.value in audiences:
        return queryset
    explicit = sorted(audiences & {Audience.PUBLIC.value, Audience.MEMBERS.value})
    pages = pages if pages is not None else _pages_for(audiences, rule)
    if pages is None:
        return queryset.none()
    following = Q(audience=FileAudience.FOLLOW) & Q(used_by(queryset.model, pages))
    return queryset.filter(Q(audience__in=explicit) | following).filter(_cleared())


def _cleared() -> Q:
    """Files the secrecy review lets out of the CMS: classified 公开 and not held (``cms.secrecy``: the
    title or extracted text has findings). Two indexed columns of the file's own row."""
    return Q(secrecy_hold=False, classification="public")


def secrecy_held(file) -> bool:
    return bool(getattr(file, "secrecy_hold", False)) or getattr(file, "classification", "public") != "public"


def public_files(queryset) -> QuerySet:
    """The files anyone may fetch: what the static site may publish and anonymous callers see."""
    return visible_files(queryset, {Audience.PUBLIC.value})


def effective_audiences(files: Iterable, rule: visibility.Rule | None = None) -> dict[tuple[type, int], Audience]:
    """The effective audience of each file, keyed by ``(model, pk)``: at most two queries per model
    (plus reading the rule's restrictions once; ``rule``: one the caller has built already)."""
    result: dict[tuple[type, int], Audience] = {}
    following: dict[type, set[int]] = {}
    for file in files:
        if secrecy_held(file):
            result[(type(file), file.pk)] = Audience.INTERNAL
        elif file.audience in EXPLICIT:
            result[(type(file), file.pk)] = Audience(file.audience)
        else:
            following.setdefault(type(file), set()).add(file.pk)
    rule = rule if rule is not None else visibility.Rule() if following else None
    for model, ids in following.items():
        remaining = set(ids)
        for audience, condition in ((Audience.PUBLIC, rule.public), (Audience.MEMBERS, rule.members)):
            if not remaining:
                break
            used = used_by(model, Page.objects.filter(condition()))
            found = set(model._default_manager.filter(used, pk__in=remaining).values_list("pk", flat=True))
            for pk in found:
                result[(model, pk)] = audience
            remaining -= found
        for pk in remaining:
            result[(model, pk)] = Audience.INTERNAL
    return result


def effective_audience(file) -> Audience:
    """The audience a file is actually visible to outside the CMS (实际可见范围)."""
    return effective_audiences([file])[(type(file), file.pk)]


def can_access_admin(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("wagtailadmin.access_admin"))


def may_fetch(user, audience: Audience) -> bool:
    """Whether ``user`` may fetch a file of this effective audience from the CMS.

    Anyone: public files. Members (and internal staff): members files. People who may use the admin
    (editors, staff with admin access) see every file, as they do in the admin itself.
    """
    if audience == Audience.PUBLIC:
        return True
    if can_access_admin(user):
        return True
    return audience == Audience.MEMBERS and visibility.is_member(user)


def may_show_with_page(file, page_audience: str) -> bool:
    """Whether a file a page uses may be shown (its text indexed) wherever that page is shown.

    A following file is, by the rule above, at least as visible as every live page that uses it; an
    explicit choice shows with the page only if it is no stricter than the page's audience.
    """
    if secrecy_held(file):
        return page_audience == Audience.INTERNAL
    if file.audience not in EXPLICIT:
        return True
    return visibility.strictest(page_audience, file.audience) == page_audience


def stricter_than_file(file_audience: str, page_audience: str) -> bool:
    """Whether a page of ``page_audience`` is more restricted than a file explicitly set to
    ``file_audience`` (a 公开 file on a 仅会员 page: anyone can download what the page keeps to members)."""
    if file_audience not in EXPLICIT:
        return False
    return visibility.strictest(page_audience, file_audience) != file_audience
