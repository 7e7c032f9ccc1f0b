"""Editable taxonomies. They are translatable snippets so zh-hant and en pages show translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.api import APIField
from wagtail.models import TranslatableMixin
from wagtail.search import index


class _Term(TranslatableMixin, index.Indexed, models.Model):
    name = models.CharField(_("名称"), max_length=100)
    slug = models.SlugField(_("代码"), max_length=100, allow_unicode=True)
    sort_order = models.IntegerField(_("排序"), default=0)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("sort_order")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]
    api_fields = [APIField("name"), APIField("slug")]

    class Meta(TranslatableMixin.Meta):
        abstract = True
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class MaterialType(_Term):
    """A kind of study material (文章, 文件, 视频, 音频, 图书, 微党课, 微党史, 微感悟, 微提示 ...)."""

    class Meta(_Term.Meta):
        verbose_name = _("资料类型")
        verbose_name_plural = _("资料类型")
        unique_together = [("translation_key", "locale"), ("slug", "locale")]


class Topic(_Term):
    """A subject of study (党史学习, 党章党规, 理论学习 ...) used to group and filter materials."""

    class Meta(_Term.Meta):
        verbose_name = _("学习专题")
        verbose_name_plural = _("学习专题")
        unique_together = [("translation_key", "locale"), ("slug", "locale")]


class RedExhibitionCategory(_Term):
    """A kind of red-exhibition site (纪念馆, 博物馆, 革命旧址, 线上展览 ...)."""

    class Meta(_Term.Meta):
        verbose_name = _("红色场馆类别")
        verbose_name_plural = _("红色场馆类别")
        unique_together = [("translation_key", "locale"), ("slug", "locale")]
