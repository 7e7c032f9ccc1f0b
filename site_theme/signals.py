"""Saving the site's identity or its mourning switch changes every published page (footer, greyscale): the
next publish rebuilds the whole site. The change feed records content apps only (``cms.changes``), so the
setting's save asks for it (``changes.request``), for the static site's publisher alone: the search index
and the API do not show the footer."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.utils.translation import gettext as _

_UID = "site-theme-identity-saved"


def request_full_publish(reason: str):
    from cms import changes
    from cms.models import ContentChange
    from deploy.conf import PUBLISH_CONSUMER

    return changes.request(ContentChange.Event.FULL, consumer=PUBLISH_CONSUMER, reason=str(reason))


def on_identity_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs):
    if raw:
        return  # loaddata: a fixture, not an edit
    if update_fields and set(update_fields) <= {"mourning_published"}:
        return
    if created and not _has_content(instance):
        return  # the admin's settings page made an empty row (``for_site``): nothing shows yet
    active = instance.mourning_active()
    if instance.mourning_published != active:
        type(instance).objects.filter(pk=instance.pk).update(mourning_published=active)
        instance.mourning_published = active
    request_full_publish(_("修改站点信息"))


def _has_content(instance) -> bool:
    from .models import SiteIdentity

    blank = SiteIdentity()
    return any(
        getattr(instance, f.attname) != getattr(blank, f.attname)
        for f in SiteIdentity._meta.concrete_fields
        if f.name not in ("id", "site") and f.editable
    )


def connect() -> None:
    """From ``SiteThemeConfig.ready``."""
    from .models import SiteIdentity

    post_save.connect(on_identity_saved, sender=SiteIdentity, dispatch_uid=_UID)
