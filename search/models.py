"""Search data kept in the database: the editors' dictionary, the query log, and caches.

* :class:`DictionaryEntry`: custom words and synonym groups, edited in the admin (a snippet).
* :class:`QueryLog` / :class:`SearchClick`: what people searched and which results they opened.
* :class:`ExtractedText`: text extracted from an uploaded file (cache), or why it was skipped.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel


class DictionaryEntry(models.Model):
    """A word the segmenter keeps whole, optionally with synonyms that find each other."""

    word = models.CharField(_("词语"), max_length=50, unique=True)
    synonyms = models.CharField(
        _("同义词"),
        max_length=500,
        blank=True,
        help_text=_("用空格或逗号分隔；搜索其中任一个词也会找到其他词。"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    panels = [
        FieldPanel("word", help_text=_("分词时保持完整的词语。保存约一分钟后重建搜索索引；连续添加多个词语只重建一次。")),
        FieldPanel("synonyms"),
        FieldPanel("note"),
        FieldPanel("enabled"),
    ]

    class Meta:
        verbose_name = _("搜索词典词条")
        verbose_name_plural = _("搜索词典")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word

    def synonym_list(self) -> list[str]:
        return [w for w in self.synonyms.replace("，", ",").replace("、", ",").replace(",", " ").split() if w]


class QueryLog(models.Model):
    class Source(models.TextChoices):
        SITE = "site", _("会员搜索页")
        API = "api", _("搜索接口")
        ADMIN = "admin", _("管理后台")

    query = models.CharField(_("搜索词"), max_length=200, db_index=True)
    results = models.PositiveIntegerField(_("结果数"), default=0)
    scope = models.CharField(_("可见范围"), max_length=32)
    locale = models.CharField(_("语言"), max_length=16, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices, default=Source.SITE)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("搜索记录")
        verbose_name_plural = _("搜索记录")
        indexes = [models.Index(fields=["created_at", "query"])]

    def __str__(self) -> str:
        return self.query


class SearchClick(models.Model):
    log = models.ForeignKey(QueryLog, on_delete=models.CASCADE, related_name="clicks")
    document_id = models.CharField(max_length=64)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("搜索点击")
        verbose_name_plural = _("搜索点击")


class ExtractedText(models.Model):
    """Text of an uploaded document, page by page, keyed by the file's hash; or why it was skipped."""

    document_id = models.PositiveBigIntegerField(db_index=True)
    file_hash = models.CharField(max_length=64, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    pages = models.JSONField(default=list, blank=True)
    skipped_reason = models.CharField(_("跳过原因"), max_length=32, blank=True)
    detail = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("附件文本")
        verbose_name_plural = _("附件文本")
        unique_together = [("document_id", "file_hash")]


class SearchVector(models.Model):
    """One passage's embedding for semantic retrieval (search.semantic): a document has one row per
    passage (``passage`` 0, 1, …), each with the digest of all of the document's passages, so a
    changed text is noticed and its rows replaced together."""

    document_id = models.CharField(max_length=64)
    passage = models.PositiveSmallIntegerField(default=0)
    model = models.CharField(max_length=64)
    digest = models.CharField(max_length=40)
    vector = models.BinaryField()
    # indexed: the in-process vector index reads max(updated_at) to notice new vectors cheaply
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("语义向量")
        verbose_name_plural = _("语义向量")
        constraints = [models.UniqueConstraint(fields=["document_id", "passage"], name="search_vector_passage")]
