"""Image and document models.

Images carry their source and credit (editors are asked where a photo came from). Images and documents
both carry an audience: by default a file follows the pages that use it (``media.audience``), so a PDF
attached to a members-only page is members-only; an editor may also fix it (公开, 仅会员, 内部).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.documents.models import AbstractDocument
from wagtail.images.models import AbstractImage, AbstractRendition

from cms.secrecy.classification import classification_field, refuse_secret

from .audience import FileAudience, FileAudienceField
from .storage import document_storage
from .validation import validate_document_file


def audience_field():
    return FileAudienceField(
        _("可见范围"),
        max_length=16,
        choices=FileAudience.choices,
        default=FileAudience.FOLLOW,
        db_index=True,
        help_text=_(
            "跟随所用页面：只有公开页面使用它时才公开，否则仅对能看到使用它的页面的人可见；"
            "公开：任何人都可下载；仅会员：登录会员可见；内部：只在管理系统内可见。"
        ),
    )


def secrecy_hold_field():
    """Set by the secrecy review (``cms.secrecy``) while the file's text has findings no reviewer has
    cleared, or it is classified 内部: such a file is never visible outside the CMS (media.audience)."""
    return models.BooleanField(_("保密审查未通过"), default=False, db_index=True, editable=False)


class SecrecyMixin(models.Model):
    """密级 and the secrecy hold of an uploaded file; a 涉密 file is refused, in forms and in code."""

    classification = classification_field()
    secrecy_hold = secrecy_hold_field()

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        refuse_secret(self)

    def save(self, *args, **kwargs):
        refuse_secret(self)
        super().save(*args, **kwargs)


class ShuyuanImage(SecrecyMixin, AbstractImage):
    """An image with its provenance (来源), credit (摄影/署名) and audience (see ``media.audience``)."""

    audience = audience_field()
    source = models.CharField(_("来源"), max_length=255, blank=True)
    credit = models.CharField(_("署名"), max_length=255, blank=True)

    admin_form_fields = (
        "title",
        "file",
        "collection",
        "audience",
        "classification",
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


class ShuyuanDocument(SecrecyMixin, AbstractDocument):
    """A downloadable file (PDF, Word, audio, video) with the audience allowed to fetch it."""

    audience = audience_field()
    source = models.CharField(_("来源"), max_length=255, blank=True)
    # Kept in a storage nobody serves directly: only the document view, which checks the audience,
    # hands the file out (media/storage.py).
    file = models.FileField(upload_to="documents", storage=document_storage, verbose_name=_("文件"))

    admin_form_fields = ("title", "file", "collection", "audience", "classification", "source", "tags")

    class Meta(AbstractDocument.Meta):
        verbose_name = _("文档")
        verbose_name_plural = _("文档")

    def clean(self):
        refuse_secret(self)
        if not self.file:
            # Wagtail's multiple upload validates the details form before it attaches the uploaded
            # file (already checked when it was uploaded); the form's own file field requires a file.
            return
        super().clean()
        if not self.file._committed:
            try:
                validate_document_file(self.file)
            except ValidationError as exc:
                # On the file field, so Wagtail's multiple upload refuses the file at once.
                raise ValidationError({"file": exc.error_list}) from exc
