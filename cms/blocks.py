"""StreamField blocks shared by articles, study materials and exhibitions.

One block per editorial need; each renders accessible HTML from ``site_theme/templates/blocks/``.
Video and audio point at uploaded documents (intranet sites cannot rely on third-party players), with
an optional external link for material hosted elsewhere.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("标题文字"), max_length=120)
    level = blocks.ChoiceBlock(choices=[("h2", "二级标题"), ("h3", "三级标题")], default="h2", label=_("级别"))

    class Meta:
        icon = "title"
        label = _("小标题")
        template = "blocks/heading.html"


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("图片"))
    caption = blocks.CharBlock(label=_("图注"), required=False, max_length=255)

    class Meta:
        icon = "image"
        label = _("图片")
        template = "blocks/image.html"


class QuoteBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("引文"))
    attribution = blocks.CharBlock(label=_("出处"), required=False, max_length=255)

    class Meta:
        icon = "openquote"
        label = _("引用")
        template = "blocks/quote.html"


class VideoBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("标题"), required=False, max_length=255)
    file = DocumentChooserBlock(label=_("视频文件 (MP4)"), required=False)
    url = blocks.URLBlock(label=_("外部视频地址"), required=False)
    poster = ImageChooserBlock(label=_("封面"), required=False)
    caption = blocks.CharBlock(label=_("说明"), required=False, max_length=255)

    class Meta:
        icon = "media"
        label = _("视频")
        template = "blocks/video.html"


class AudioBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("标题"), required=False, max_length=255)
    file = DocumentChooserBlock(label=_("音频文件 (MP3)"))
    caption = blocks.CharBlock(label=_("说明"), required=False, max_length=255)

    class Meta:
        icon = "media"
        label = _("音频")
        template = "blocks/audio.html"


class AttachmentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("附件"))
    title = blocks.CharBlock(label=_("显示名称"), required=False, max_length=255)

    class Meta:
        icon = "doc-full"
        label = _("附件")
        template = "blocks/attachment.html"


class BodyBlock(blocks.StreamBlock):
    """The body of articles and study materials."""

    paragraph = blocks.RichTextBlock(
        label=_("正文"),
        features=["bold", "italic", "ol", "ul", "link", "document-link", "hr", "superscript", "subscript"],
        template="blocks/paragraph.html",
    )
    heading = HeadingBlock()
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    video = VideoBlock()
    audio = AudioBlock()
    attachment = AttachmentBlock()
    table = TableBlock(label=_("表格"), template="blocks/table.html")


class TimelineEntryBlock(blocks.StructBlock):
    date = blocks.CharBlock(label=_("时间"), max_length=60, help_text=_("如：1921年7月"))
    title = blocks.CharBlock(label=_("事件"), max_length=255)
    text = blocks.TextBlock(label=_("说明"), required=False)
    image = ImageChooserBlock(label=_("图片"), required=False)


class ExhibitImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("展品图片"))
    caption = blocks.CharBlock(label=_("图注"), required=False, max_length=255)
    text = blocks.TextBlock(label=_("解说"), required=False)

    class Meta:
        icon = "image"
        label = _("展品")
        template = "blocks/exhibit_image.html"


class ExhibitTextBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("标题"), required=False, max_length=255)
    text = blocks.RichTextBlock(label=_("文字"), features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "doc-full"
        label = _("文字单元")
        template = "blocks/exhibit_text.html"


class ExhibitSectionBlock(blocks.StreamBlock):
    """The ordered sections of an online exhibition."""

    section = ExhibitTextBlock()
    image = ExhibitImageBlock()
    video = VideoBlock()
    timeline = blocks.ListBlock(TimelineEntryBlock(), label=_("时间线"), template="blocks/timeline.html")
