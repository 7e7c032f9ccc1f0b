"""The site's identity (主办单位, address, contact, 备案 numbers) and its mourning-day greyscale (哀悼日置灰).

One row per Wagtail site (``BaseSiteSetting``), edited under 设置 › 站点信息 in the admin. The published
static site shows it in every page's footer and (while mourning is active) greys every page, so saving it
asks the next publish to rebuild the whole site (``site_theme.signals``). The mourning switch can have a
start and an end: pages published while it is active carry the greyscale class, and the theme's script
(static/site_theme/theme.js) also turns it on and off at those times in the reader's browser, so nothing
depends on a publish happening exactly then; ``apply_mourning_schedule`` (the publish tick) republishes
once a start or end has passed.

The organisation's name and address have an English version (the zh-hant pages show the Chinese converted
by OpenCC, like the pages themselves); the 备案 numbers are the same in every language.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

#: where an ICP 备案号 links (the MIIT's public register), as every Chinese site's footer does
ICP_URL = "https://beian.miit.gov.cn/"
#: the 公安备案 register; a number's own page is this plus ``?code=<digits>`` unless an editor gives a link
POLICE_URL = "https://beian.mps.gov.cn/#/query/webSearch"


@register_setting(icon="site", order=200)
class SiteIdentity(BaseSiteSetting):
    organisation = models.CharField(_("主办单位"), max_length=120, blank=True)
    organisation_en = models.CharField(_("主办单位（英文）"), max_length=200, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    address_en = models.CharField(_("地址（英文）"), max_length=300, blank=True)
    postcode = models.CharField(_("邮政编码"), max_length=12, blank=True)
    phone = models.CharField(_("联系电话"), max_length=60, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    icp_number = models.CharField(
        _("ICP备案号"), max_length=60, blank=True, help_text=_("例如：京ICP备12345678号-1。页脚链接到工业和信息化部备案管理系统。")
    )
    police_number = models.CharField(
        _("公安备案号"), max_length=60, blank=True, help_text=_("例如：京公网安备11010502000001号")
    )
    police_url = models.URLField(
        _("公安备案链接"), blank=True,
        help_text=_("留空则根据备案号中的数字链接到全国互联网安全管理服务平台的查询页。"),
    )
    site_code = models.CharField(_("网站标识码"), max_length=20, blank=True, help_text=_("政府网站的10位标识码"))

    mourning = models.BooleanField(
        _("哀悼日置灰"), default=False,
        help_text=_("开启后，下一次发布时全站每个页面显示为灰色。"),
    )
    mourning_start = models.DateTimeField(
        _("置灰开始时间"), null=True, blank=True, help_text=_("留空表示立即开始。")
    )
    mourning_end = models.DateTimeField(
        _("置灰结束时间"), null=True, blank=True,
        help_text=_("留空表示直到手动关闭。到时读者浏览器中的页面自动恢复彩色，下一次发布时页面也随之更新。"),
    )
    #: whether the last full publish this setting asked for showed mourning (the tick compares it with
    #: ``mourning_active()`` to republish once a start or end has passed)
    mourning_published = models.BooleanField(default=False, editable=False)

    panels = [
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("organisation"), FieldPanel("organisation_en")]),
                FieldRowPanel([FieldPanel("address"), FieldPanel("address_en")]),
                FieldRowPanel([FieldPanel("postcode"), FieldPanel("phone"), FieldPanel("email")]),
            ],
            heading=_("主办单位与联系方式"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("icp_number"), FieldPanel("site_code")]),
                FieldRowPanel([FieldPanel("police_number"), FieldPanel("police_url")]),
            ],
            heading=_("备案信息"),
        ),
        MultiFieldPanel(
            [FieldPanel("mourning"), FieldRowPanel([FieldPanel("mourning_start"), FieldPanel("mourning_end")])],
            heading=_("哀悼日置灰"),
        ),
    ]

    class Meta:
        verbose_name = _("站点信息")
        verbose_name_plural = _("站点信息")

    def __str__(self) -> str:
        return str(_("站点信息"))

    # -- what the footer shows ------------------------------------------------------------------------
    def organisation_in(self, language: str | None) -> str:
        return self._in(language, self.organisation, self.organisation_en)

    def address_in(self, language: str | None) -> str:
        return self._in(language, self.address, self.address_en)

    @staticmethod
    def _in(language: str | None, chinese: str, english: str) -> str:
        language = (language or "").lower()
        if language.startswith("en"):
            return english or chinese
        if language in ("zh-hant", "zh-tw", "zh-hk") and chinese:
            from cms.translation import to_traditional

            return to_traditional(chinese)
        return chinese

    @property
    def police_link(self) -> str:
        if self.police_url:
            return self.police_url
        digits = "".join(c for c in self.police_number if c.isdigit())
        return f"{POLICE_URL}?code={digits}" if digits else POLICE_URL

    # -- mourning -------------------------------------------------------------------------------------
    def mourning_active(self, now=None) -> bool:
        """Switched on, started (or no start) and not ended (or no end)."""
        if not self.mourning:
            return False
        now = now or timezone.now()
        if self.mourning_start and now < self.mourning_start:
            return False
        return not (self.mourning_end and now >= self.mourning_end)

    def mourning_scheduled(self, now=None) -> bool:
        """Switched on and not ended: active now or due to start (the pages carry its times)."""
        now = now or timezone.now()
        return self.mourning and not (self.mourning_end and now >= self.mourning_end)


def identity_for_site(site) -> SiteIdentity:
    """The site's identity without creating a row (``for_site`` would: a publish must not write)."""
    found = SiteIdentity.objects.filter(site=site).first() if site is not None else None
    return found or SiteIdentity(site=site)


def apply_mourning_schedule(now=None) -> int:
    """For the scheduled publish tick: ask for a full publish of every site whose mourning greyscale
    started or ended since its last full publish was asked for. Returns how many were asked for."""
    from .signals import request_full_publish

    now = now or timezone.now()
    asked = 0
    for identity in SiteIdentity.objects.filter(models.Q(mourning=True) | models.Q(mourning_published=True)):
        active = identity.mourning_active(now)
        if active != identity.mourning_published:
            # a queryset update sends no post_save: one full publish, asked for here
            SiteIdentity.objects.filter(pk=identity.pk).update(mourning_published=active)
            request_full_publish(
                _("哀悼日置灰开始") if active else _("哀悼日置灰结束")
            )
            asked += 1
    return asked


#: what the demo's footer says (``load_demo_identity``)
DEMO_IDENTITY = {
    "organisation": "书苑编辑部",
    "organisation_en": "Shuyuan Editorial Office",
    "address": "北京市东城区书苑胡同1号",
    "address_en": "No. 1 Shuyuan Hutong, Dongcheng District, Beijing",
    "postcode": "100010",
    "phone": "010-12345678",
    "email": "contact@example.org",
    "icp_number": "京ICP备00000000号-1",
    "police_number": "京公网安备11010102000000号",
    "site_code": "0000000000",
}


def load_demo_identity(site=None) -> SiteIdentity:
    """Give the demo site (the default site unless ``site``) a sensible identity; keeps any value an
    editor has already set. Saving it asks for a full publish like an editor's save."""
    from wagtail.models import Site

    site = site or Site.objects.filter(is_default_site=True).first() or Site.objects.first()
    identity = SiteIdentity.for_site(site)
    changed = False
    for name, value in DEMO_IDENTITY.items():
        if not getattr(identity, name):
            setattr(identity, name, value)
            changed = True
    if changed:
        identity.save()
    return identity
