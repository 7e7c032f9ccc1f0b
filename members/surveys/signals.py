"""A reply that is or was public changes what the mailbox page shows: queue the page for publishing
(the change feed, ``cms.changes``), in the editor's transaction."""

from __future__ import annotations


def reply_saved(sender, instance, created=False, raw=False, **kwargs):
    if raw:
        return
    was_public = getattr(instance, "_was_public", False)
    if was_public or (instance.published and instance.consented):
        from .services import reply_changed

        reply_changed(instance)


def reply_deleted(sender, instance, **kwargs):
    if instance.published and instance.consented:
        from .services import reply_changed

        reply_changed(instance)
