"""Who a member is in the organisation tree, and the reminders sent to them.

A member is a user in the 会员 group (``cms.visibility.members_group``); ``MemberProfile`` adds what
reminders need: the member's branch (a ``cms.orgs.Organisation``), a mainland mobile number, the
channel they prefer and whether they opted out. ``Reminder`` is what an editor schedules;
``Delivery`` is one recipient's result, written before anything is sent so that a crash mid-batch
never sends twice (``members.services``).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
validate_mobile = RegexValidator(MOBILE_RE, "请输入 11 位中国大陆手机号，例如 13812345678。", code="invalid_mobile")


class Channel(models.TextChoices):
    EMAIL = "email", "电子邮件"
    SMS = "sms", "短信"


def mask_address(address: str) -> str:
    """An address as the admin lists it: 138****1234, z***@example.org."""
    if not address:
        return ""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) >= 7:
        return f"{address[:3]}****{address[-4:]}"
    return "*" * len(address)


class MemberProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="会员账号", on_delete=models.CASCADE, related_name="member_profile"
    )
    unit = models.ForeignKey(
        "orgs.Organisation", verbose_name="所在支部", on_delete=models.PROTECT, related_name="member_profiles"
    )
    mobile = models.CharField("手机号", max_length=11, blank=True, validators=[validate_mobile])
    notify_by = models.CharField("提醒方式", max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    opted_out = models.BooleanField("不接收提醒", default=False, help_text="勾选后不再向该会员发送任何提醒。")

    class Meta:
        verbose_name = "会员信息"
        verbose_name_plural = "会员信息"
        ordering = ["unit__code", "user__username"]

    def __str__(self) -> str:
        return f"{self.user.get_username()}（{self.unit.name}）"

    def clean(self) -> None:
        super().clean()
        if self.notify_by == Channel.SMS and not self.mobile:
            raise ValidationError({"mobile": "选择短信提醒时须填写手机号。"})

    @property
    def masked_mobile(self) -> str:
        return mask_address(self.mobile)


class Reminder(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        PARTIAL = "partial", "部分失败"
        FAILED = "failed", "发送失败"

    class ChannelChoice(models.TextChoices):
        EMAIL = "email", "电子邮件"
        SMS = "sms", "短信"
        PREFERRED = "preferred", "按会员选择的方式"

    title = models.CharField("标题", max_length=100)
    message = models.TextField("提醒内容", max_length=500)
    send_at = models.DateTimeField("发送时间", default=timezone.now, db_index=True)
    unit = models.ForeignKey(
        "orgs.Organisation", verbose_name="发送给支部", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    include_descendants = models.BooleanField("含下级单位", default=True)
    group = models.ForeignKey(
        "auth.Group", verbose_name="发送给用户组", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField("提醒方式", max_length=10, choices=ChannelChoice.choices, default=ChannelChoice.EMAIL)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    #: the worker holding the reminder while it sends (a stale claim is taken over: ``services.claim``)
    claim = models.CharField(max_length=64, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True, editable=False)
    error = models.CharField("原因", max_length=500, blank=True, editable=False)

    class Meta:
        verbose_name = "提醒"
        verbose_name_plural = "提醒"
        ordering = ["-send_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if bool(self.unit_id) == bool(self.group_id):
            raise ValidationError("请选择一个支部或一个用户组作为发送对象（二选一）。")

    @property
    def audience_label(self) -> str:
        if self.unit_id:
            return f"{self.unit.name}{'及下级单位' if self.include_descendants else ''}"
        return f"用户组：{self.group.name}" if self.group_id else ""


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "失败"
        SKIPPED = "skipped", "未发送"

    reminder = models.ForeignKey(Reminder, verbose_name="提醒", on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="会员", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField("方式", max_length=8, choices=Channel.choices, blank=True)
    address = models.CharField("地址", max_length=254, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    code = models.CharField("返回码", max_length=100, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    vendor_ref = models.CharField("回执编号", max_length=100, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["reminder", "pk"]
        constraints = [models.UniqueConstraint(fields=["reminder", "user"], name="members_delivery_once_per_user")]

    def __str__(self) -> str:
        return f"{self.reminder} → {self.masked_address}"

    @property
    def masked_address(self) -> str:
        return mask_address(self.address)


class ReminderSchedule(models.Model):
    """The live chains of the members' periodic jobs (``cms.jobs.Chain``, one row each): the reminder
    ticks, the import of the public service's survey inbox."""

    name = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
