"""Who may fetch an uploaded file (a document or an image) outside the CMS.

A file has no audience of its own unless an editor gives it one: by default it *follows the pages
that use it* (``FileAudience.FOLLOW``). Its effective audience is then the widest audience among the
live pages that use it, as ``cms.visibility`` decides for pages: public if a public page uses it,
members-only if only pages a member may read use it, internal (never outside the CMS) otherwise. An
explicit choice (公开, 仅会员, 内部) stands whatever the pages are.

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
from django.db.models import BigIntegerField, CharField, Q, QuerySet
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


def used_by(model, pages) -> QuerySet:
    """Ids of the ``model`` files (as a sub-query) that one of ``pages`` uses, per the ReferenceIndex."""
    page_ids = pages.order_by().annotate(_reference_id=Cast("pk", CharField())).values("_reference_id")
    return (
        ReferenceIndex.objects.filter(
            base_content_type=_page_content_type(),
            to_content_type=ContentType.objects.get_for_model(model),
            object_id__in=page_ids,
        )
        .order_by()
        .annotate(_file_id=Cast("to_object_id", BigIntegerField()))
        .values("_file_id")
    )


def _pages_for(audiences: Iterable[str]):
    """The pages whose use makes a following file visible to these audiences (None: no page does)."""
    audiences = set(audiences)
    if Audience.MEMBERS.value in audiences:
        return visibility.member_pages()
    if Audience.PUBLIC.value in audiences:
        return visibility.public_pages()
    return None


def visible_files(queryset, audiences: Iterable[str], pages=None) -> QuerySet:
    """The files of ``queryset`` (or a model) whose effective audience is one of ``audiences``.

    One query whatever the number of files (the uses are a sub-query). ``pages``: the pages readable
    by these audiences when the caller has them already (``member_pages()`` or ``public_pages()``).
    """
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    audiences = {str(a) for a in audiences}
    if Audience.INTERNAL.value in audiences:
        return queryset
    explicit = sorted(audiences & {Audience.PUBLIC.value, Audience.MEMBERS.value})
    pages = pages if pages is not None else _pages_for(audiences)
    if pages is None:
        return queryset.none()
    following = Q(audience=FileAudience.FOLLOW, pk__in=used_by(queryset.model, pages))
    return queryset.filter(Q(audience__in=explicit) | following)


def public_files(queryset) -> QuerySet:
    """The files anyone may fetch: what the static site may publish and anonymous callers see."""
    return visible_files(queryset, {Audience.PUBLIC.value})


def effective_audiences(files: Iterable) -> dict[tuple[type, int], Audience]:
    """The effective audience of each file, keyed by ``(model, pk)``: at most two queries per model."""
    result: dict[tuple[type, int], Audience] = {}
    following: dict[type, set[int]] = {}
    for file in files:
        if file.audience in EXPLICIT:
            result[(type(file), file.pk)] = Audience(file.audience)
        else:
            following.setdefault(type(file), set()).add(file.pk)
    for model, ids in following.items():
        remaining = set(ids)
        for audience, pages in ((Audience.PUBLIC, visibility.public_pages), (Audience.MEMBERS, visibility.member_pages)):
            if not remaining:
                break
            found = set(used_by(model, pages()).filter(to_object_id__in=[str(pk) for pk in remaining]).values_list(
                "_file_id", flat=True
            ))
            for pk in found & remaining:
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
    if file.audience not in EXPLICIT:
        return True
    return visibility.strictest(page_audience, file.audience) == page_audience


def stricter_than_file(file_audience: str, page_audience: str) -> bool:
    """Whether a page of ``page_audience`` is more restricted than a file explicitly set to
    ``file_audience`` (a 公开 file on a 仅会员 page: anyone can download what the page keeps to members)."""
    if file_audience not in EXPLICIT:
        return False
    return visibility.strictest(page_audience, file_audience) != file_audience
