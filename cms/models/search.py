"""What members' search knows about a page type, declared on the page model itself.

Every concrete page type says in its own class body whether search indexes it::

    search_kind = "article"   # indexed: the code of the search API's ``kind`` filter and facet
    search_kind = None        # not searchable (a landing page, a listing of other pages)

and ``tests/search/test_models_declare_search.py`` fails for a page type that says neither, so a new
page type is never silently unsearchable. The kind's label is the model's ``verbose_name`` unless
``search_label`` says otherwise; an indexed type fills its search document by overriding
:meth:`SearchDocumentMixin.search_document_fields` (and :meth:`~SearchDocumentMixin.search_date`,
:meth:`~SearchDocumentMixin.search_attachments` where they differ). ``search.documents`` adds what
is the same for every page (id, kind, audience, locale, URL) and turns attached files into text.

Kind codes are part of the API (filters, facets, links people keep): never rename one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any, ClassVar

from django.utils.functional import Promise

logger = logging.getLogger("shuyuan.search")


class SearchDocumentMixin:
    """The search side of a page model: its kind and label, and the fields of its search document."""

    #: The kind code of this page type in the index and the API, or None when it is not searchable.
    #: Deliberately without a default: each concrete page type declares it (see the module docstring).
    search_kind: ClassVar[str | None]
    #: The kind's name for readers when the model's ``verbose_name`` does not fit a search facet.
    search_label: ClassVar[str | Promise | None] = None

    @classmethod
    def search_kind_label(cls) -> str | Promise:
        return cls.search_label or cls._meta.verbose_name

    def search_document_fields(self) -> dict[str, Any]:
        """The fields of this page's search document, by :class:`search.backends.base.SearchDocument` name.

        This default holds what every page has; page types add theirs (``{**super()..., "body": ...}``).
        """
        return {"title": self.title, "summary": self.summary or "", "date": self.search_date()}

    def search_date(self) -> dt.date | None:
        """The date a reader means (sorting, the year facet): first publication unless the type has its own."""
        stamp = self.first_published_at or self.latest_revision_created_at
        return stamp.date() if stamp else None

    def search_attachments(self) -> Iterable[tuple[str, Any]]:
        """(title, document) of the files whose text belongs to this page's document (none by default).

        Search turns them into text, leaving out a file more restricted than the page.
        """
        return ()

    def search_text(self, field_name: str) -> str:
        """The text a reader sees in a field (a StreamField's blocks, one per line; see :func:`reader_text`)."""
        field = self._meta.get_field(field_name)
        value = getattr(self, field_name)
        try:
            stream_block = getattr(field, "stream_block", None)
            parts = reader_text(stream_block, value) if stream_block is not None else field.get_searchable_content(value)
            return join_text(*(str(t) for t in parts))
        except (AttributeError, TypeError, ValueError) as exc:
            logger.warning("search: cannot read %s of page %s: %s", field_name, self.pk, exc)
            return ""


def reader_text(block: Any, value: Any) -> list[str]:
    """The pieces of text a reader sees in a block's ``value``, in order.

    Wagtail's ``get_searchable_content`` also gives what the editor picked, not what the reader reads:
    a choice's label (the heading level "二级标题") and an image's caption (the demo's "示例配图", the
    label under a picture rather than text of the page). Those are left out here; everything else is
    what the blocks themselves say is searchable (rich text as plain text, a table's cells).
    """
    from wagtail.blocks.field_block import BaseChoiceBlock
    from wagtail.blocks.list_block import ListBlock
    from wagtail.blocks.stream_block import BaseStreamBlock
    from wagtail.blocks.struct_block import BaseStructBlock
    from wagtail.images.blocks import ImageChooserBlock

    if value is None or not getattr(block, "search_index", True):
        return []
    if isinstance(block, BaseChoiceBlock):
        return []
    if isinstance(block, BaseStreamBlock):
        return [text for child in value for text in reader_text(child.block, child.value)]
    if isinstance(block, BaseStructBlock):
        children = block.child_blocks
        # an image with its caption: the caption labels the picture
        pictured = any(isinstance(b, ImageChooserBlock) and b.required for b in children.values())
        return [
            text
            for name, child in children.items()
            if not (pictured and name == "caption")
            for text in reader_text(child, value.get(name))
        ]
    if isinstance(block, ListBlock):
        return [text for item in value for text in reader_text(block.child_block, item)]
    return [str(t) for t in block.get_searchable_content(value)]


def join_text(*parts: str) -> str:
    """Non-empty parts, one per line, each said once: the body of a document made of several fields."""
    return "\n".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))
