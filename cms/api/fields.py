"""Serializer fields that render page content for the caller through the request's ``Resolver``."""

from __future__ import annotations

from rest_framework.fields import Field

from cms.visibility import Audience


def _resolver(field):
    return field.context["resolver"]


class _WholeObjectField(Field):
    def get_attribute(self, instance):
        return instance


class StreamBodyField(Field):
    """A StreamField as a list of ``{"type", "id", "value"}`` blocks; images with renditions, documents
    with download URLs (or null when the caller may not have them), rich text rendered to HTML."""

    def to_representation(self, value):
        return _resolver(self).stream(value.stream_block, list(value.raw_data))


class RichTextHTMLField(Field):
    """Rich text rendered to HTML, with links to things the caller can't see reduced to their text."""

    def to_representation(self, value):
        return _resolver(self).rich_text(value)


class ImageRefField(_WholeObjectField):
    """An image foreign key as the full image object (title, alt, credit, renditions)."""

    def to_representation(self, instance):
        return _resolver(self).image(getattr(instance, f"{self.field_name}_id", None))


class TermField(Field):
    """A taxonomy snippet (material type, topic, category) as ``{"id", "name", "slug"}``."""

    def to_representation(self, term):
        return {"id": term.pk, "name": term.name, "slug": term.slug}


class TermListField(Field):
    def to_representation(self, manager):
        return [{"id": t.pk, "name": t.name, "slug": t.slug} for t in manager.all()]


class TagListField(_WholeObjectField):
    """Tags as sorted names, read from the prefetched through-model rows (no query per page)."""

    def to_representation(self, instance):
        return sorted({item.tag.name for item in instance.tagged_items.all()})


class AttachmentsField(_WholeObjectField):
    """Study-material attachments the caller may read; a download URL only if downloads are allowed."""

    def to_representation(self, instance):
        resolver = _resolver(self)
        out = []
        for attachment in instance.attachments.all():
            document = resolver.documents.get(attachment.document_id)
            if document is None:
                continue
            out.append(
                {
                    "id": attachment.pk,
                    "title": attachment.title or document.title,
                    "document": resolver.document_repr(document, downloadable=instance.allow_download),
                }
            )
        return out


class AudienceField(_WholeObjectField):
    """The page's effective audience (its own or an ancestor's restriction): public or members."""

    def to_representation(self, instance):
        if self.context.get("preview"):
            return getattr(instance, "audience", Audience.PUBLIC.value)
        return _resolver(self).audience_of(instance)


class ReaderUrlField(_WholeObjectField):
    """A page's ``html_url``: where a reader reads it, from the configured base URLs (the static site
    for public pages, the CMS's members' pages for the rest), whatever host the request came to."""

    def to_representation(self, page):
        return _resolver(self).reader_url(page)


class TranslationsField(_WholeObjectField):
    """The page in the other languages the caller may read: ``[{"id", "locale", "title", "html_url",
    "detail_url"}]``, by language code; restricted, draft or expired translations are left out."""

    def to_representation(self, page):
        return _resolver(self).translations_of(page)


class FileAudienceField(_WholeObjectField):
    """A document's effective audience (its editor's choice, or the pages that use it) as the caller
    sees it: public or members."""

    def to_representation(self, instance):
        return _resolver(self).file_audience(instance)


class ImageRenditionsField(_WholeObjectField):
    def to_representation(self, image):
        return _resolver(self).image_repr(image)["renditions"]


class ImageAltField(_WholeObjectField):
    def to_representation(self, image):
        return image.default_alt_text


class DocumentDownloadUrlField(_WholeObjectField):
    def to_representation(self, document):
        return _resolver(self).document_repr(document)["download_url"]


class ImageOriginalUrlField(_WholeObjectField):
    def to_representation(self, image):
        return _resolver(self).full_url(image.file.url)


class PrefetchedTagsField(Field):
    """Tag names of an image or document, sorted, from ``prefetch_related("tags")``."""

    def to_representation(self, manager):
        return sorted(tag.name for tag in manager.all())
