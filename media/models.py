"""Image and document models.

Images carry their source and credit (editors are asked where a photo came from); documents carry an
audience so a members-only PDF is never copied to the public site even if a public page links it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.documents.models import AbstractDocument
from wagtail.images.models import AbstractImage, AbstractRendition

from cms.visibility import Audience

from .storage import document_storage
from .validation import validate_document_file


class ShuyuanImage(AbstractImage):
    """An image with its provenance (来源) and credit (摄影/署名)."""

    source = models.CharField(_("来源"), max_length=255, blank=True)
    credit = models.CharField(_("署名"), max_length=255, blank=True)

    admin_form_fields = (
        "title",
        "file",
        "collection",
        "source",
        "credit",
        "description",
        "tags",
        "focal_point_x",
        "focal_point_y",
        "focal_point_width",
        "focal_point_height",
    )

    class Meta(AbstractImage.Meta):
        verbose_name = _("图片")
        verbose_name_plural = _("图片")


class ShuyuanRendition(AbstractRendition):
    image = models.ForeignKey(ShuyuanImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)


class ShuyuanDocument(AbstractDocument):
    """A downloadable file (PDF, Word, audio, video) with the audience allowed to fetch it."""

    audience = models.CharField(
        _("可见范围"), max_length=16, choices=Audience.choices, default=Audience.PUBLIC, db_index=True
    )
    source = models.CharField(_("来源"), max_length=255, blank=True)
    # Kept in a storage nobody serves directly: only the document view, which checks the audience,
    # hands the file out (media/storage.py).
    file = models.FileField(upload_to="documents", storage=document_storage, verbose_name=_("文件"))

    admin_form_fields = ("title", "file", "collection", "audience", "source", "tags")

    class Meta(AbstractDocument.Meta):
        verbose_name = _("文档")
        verbose_name_plural = _("文档")

    def clean(self):
        super().clean()
        if self.file and not self.file._committed:
            validate_document_file(self.file)
