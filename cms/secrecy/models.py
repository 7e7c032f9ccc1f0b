"""The secrecy review's records and the editors' word lists.

``SecrecyReview``: one per page revision that was published (采集人: the revision's author; 审查人
and 审核人: who reviewed and who confirmed the decision; 上网时间: when it went online), with the
scanner's findings. ``SecrecyHold``: one row per page whose live revision is held (findings not
cleared, or classified 内部); ``cms.visibility`` hides these pages and everything below them, by a
sub-query inside the one query it already makes, so listings cost no more. Both are kept by the
``page_published`` receiver (``cms.secrecy.review``) in the publishing transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.search import index


class SensitiveWord(index.Indexed, models.Model):
    """敏感词: a word that must be checked before anything containing it goes online."""

    word = models.CharField(_("敏感词"), max_length=100, unique=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    panels = [FieldPanel("word"), FieldPanel("note")]
    search_fields = [index.SearchField("word"), index.AutocompleteField("word")]

    class Meta:
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词")
        ordering = ["word"]

    def __str__(self) -> str:
        return self.word


class PreferredTerm(index.Indexed, models.Model):
    """规范用语: a wrong form (outdated titles of leaders and institutions, common 错别字) and its right form."""

    wrong = models.CharField(_("错误写法"), max_length=100, unique=True)
    correct = models.CharField(_("正确写法"), max_length=100, blank=True)
    note = models.CharField(_("说明"), max_length=255, blank=True)

    panels = [FieldPanel("wrong"), FieldPanel("correct"), FieldPanel("note")]
    search_fields = [index.SearchField("wrong"), index.SearchField("correct"), index.AutocompleteField("wrong")]

    class Meta:
        verbose_name = _("规范用语")
        verbose_name_plural = _("规范用语")
        ordering = ["wrong"]

    def __str__(self) -> str:
        return f"{self.wrong} → {self.correct}"


class SecrecyReview(models.Model):
    """The secrecy review record of one published page revision, or of one version of a document
    (its file hash) whose text has findings."""

    class Decision(models.TextChoices):
        NONE = "", _("无需审查")
        PENDING = "pending", _("待审查")
        CLEARED = "cleared", _("准予上网")
        REFUSED = "refused", _("不予上网")

    page = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("页面"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    document = models.ForeignKey(
        settings.WAGTAILDOCS_DOCUMENT_MODEL, verbose_name=_("文件"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )
    # the document's version reviewed: a new upload is a new version, reviewed again
    file_hash = models.CharField(_("文件指纹"), max_length=64, blank=True)
    # null: a live page saved without a revision (created live from code, or its row edited in place)
    # several records of one revision when its live row was edited in place: the newest counts
    revision = models.ForeignKey(
        "wagtailcore.Revision", verbose_name=_("版本"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="secrecy_reviews",
    )
    title = models.CharField(_("标题"), max_length=255)
    classification = models.CharField(_("密级"), max_length=16)
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("采集人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审查人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decision = models.CharField(_("审查结论"), max_length=16, choices=Decision.choices, blank=True, db_index=True)
    comment = models.TextField(_("审查意见"), blank=True)
    findings = models.JSONField(_("发现的问题"), default=list, blank=True)
    created_at = models.DateTimeField(_("送审时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("审查时间"), null=True, blank=True)
    online_at = models.DateTimeField(_("上网时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("保密审查记录")
        verbose_name_plural = _("保密审查记录")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["page", "revision"]), models.Index(fields=["document", "file_hash"])]
        permissions = [("review_secrecy", _("可以进行保密审查"))]

    def __str__(self) -> str:
        return f"{self.title}（{self.get_decision_display()}）"

    def subject(self) -> str:
        return "文件" if self.document_id else "页面"

    subject.short_description = _("类型")

    def classification_label(self) -> str:
        from .classification import Classification

        return str(Classification(self.classification).label) if self.classification in Classification else ""

    classification_label.short_description = _("密级")

    def decision_label(self) -> str:
        return str(self.get_decision_display())

    decision_label.short_description = _("审查结论")

    def findings_summary(self) -> str:
        """The findings, one per line, for the CSV export and the listing."""
        from .scanner import KIND_LABELS

        return "\n".join(
            f"{KIND_LABELS.get(f.get('kind'), f.get('kind'))}「{f.get('text')}」（{f.get('place')}）：{f.get('suggestion')}"
            for f in self.findings
        )

    findings_summary.short_description = _("发现的问题")

    @property
    def held(self) -> bool:
        """Whether this revision may not be online: classified other than 公开, or findings not cleared."""
        return held(self.classification, self.findings, self.decision)


def held(classification: str, findings, decision: str) -> bool:
    """The one statement of the hold, for the receiver, the review records and the publisher's check."""
    return classification != "public" or bool(findings) and decision != SecrecyReview.Decision.CLEARED


class SecrecyHold(models.Model):
    """A page whose live revision may not be online (see ``SecrecyReview.held``)."""

    page = models.OneToOneField(
        "wagtailcore.Page", primary_key=True, on_delete=models.CASCADE, related_name="secrecy_hold",
        verbose_name=_("页面"),
    )
    review = models.ForeignKey(SecrecyReview, verbose_name=_("审查记录"), null=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("保密审查暂缓上网")
        verbose_name_plural = _("保密审查暂缓上网")
