"""The organisation tree (统一编码): one row per unit, each owning a page subtree, a collection and
three groups (editor, reviewer, administrator).

Codes are hierarchical, two digits per level (01, 0103, 010302), so a unit's descendants are the
units whose code starts with its own: ``descendants()`` and ``ancestors()`` are one query each,
without a tree library. Permissions themselves stay Wagtail's (GroupPagePermission,
GroupCollectionPermission on the unit's groups); this model only records which page, collection
and groups belong to which unit.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models

CODE_RE = re.compile(r"^(?:\d{2})+$")


def validate_code(value: str) -> None:
    if not CODE_RE.match(value or ""):
        raise ValidationError("编码须为两位一级的数字，例如 01、0103、010302。", code="invalid_code")


class Organisation(models.Model):
    code = models.CharField(
        "编码",
        max_length=20,
        unique=True,
        validators=[validate_code],
        help_text="两位一级：党委 01，其下支部 0101、0102……",
    )
    name = models.CharField("名称", max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    root_page = models.ForeignKey(
        "wagtailcore.Page",
        verbose_name="所辖页面",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    collection = models.ForeignKey(
        "wagtailcore.Collection",
        verbose_name="文件集",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    editors_group = models.ForeignKey(
        "auth.Group",
        verbose_name="编辑组",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewers_group = models.ForeignKey(
        "auth.Group",
        verbose_name="审核组",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    admins_group = models.ForeignKey(
        "auth.Group",
        verbose_name="管理员组",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "组织机构"
        verbose_name_plural = "组织机构"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        super().clean()
        code = self.code or ""
        if self.parent_id is None:
            return
        parent = self.parent
        if not code.startswith(parent.code) or len(code) != len(parent.code) + 2:
            raise ValidationError(
                {"code": f"下级单位的编码须以上级编码 {parent.code} 开头并多两位，例如 {parent.code}01。"}
            )
        if self.pk and parent.code.startswith(code):
            raise ValidationError({"parent": "上级单位不能是本单位或其下级。"})

    # The tree, by code prefix.
    def is_top(self) -> bool:
        return self.parent_id is None

    def top(self) -> Organisation:
        unit = self
        while unit.parent_id is not None:
            unit = unit.parent
        return unit

    def ancestors(self) -> models.QuerySet[Organisation]:
        """The units above this one, the top first."""
        prefixes = [self.code[:i] for i in range(2, len(self.code), 2)]
        return Organisation.objects.filter(code__in=prefixes).order_by("code")

    def descendants(self, include_self: bool = True) -> models.QuerySet[Organisation]:
        qs = Organisation.objects.filter(code__startswith=self.code)
        if not include_self:
            qs = qs.exclude(pk=self.pk)
        return qs.order_by("code")

    def groups(self) -> list:
        return [g for g in (self.editors_group, self.reviewers_group, self.admins_group) if g]
