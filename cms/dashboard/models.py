"""What the dashboard keeps of its own: the state of the 红色云图 links and the link checker's chain."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LinkStatus(models.Model):
    """The last check of one 红色场馆 page's external link (``RedExhibitionPage.external_url``).

    One row per page; ``url`` is the address that was checked, so an edited link counts as unchecked
    until the next check."""

    class State(models.TextChoices):
        OK = "ok", _("正常")
        BROKEN = "broken", _("失效")

    page = models.OneToOneField(
        "wagtailcore.Page", verbose_name=_("页面"), on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(_("链接"), max_length=500)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices)
    http_status = models.PositiveSmallIntegerField(_("HTTP 状态码"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    checked_at = models.DateTimeField(_("最近检查"), db_index=True)
    #: consecutive failed checks (0 when the last check succeeded)
    failures = models.PositiveIntegerField(_("连续失败次数"), default=0)

    class Meta:
        verbose_name = _("链接状态")
        verbose_name_plural = _("链接状态")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.url} {self.state}"


class LinkCheckSchedule(models.Model):
    """The live chain of link-check jobs (one row): a job whose token is not this one stops, so
    starting the chain twice never runs two chains (the pattern of ``deploy.tasks.schedule_tick``)."""

    name = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
