"""Signals of the organisation tree.

``unit_created(sender=Organisation, unit=unit)`` is sent once a unit, its subtree, collection and
groups exist (inside the creating transaction), so other apps (the approval workflows) can add
their own per-unit parts without this app importing them.
"""

from django.dispatch import Signal

unit_created = Signal()


def on_page_created(sender, instance, created=False, raw=False, **kwargs):
    """A new translation of a unit's root page belongs to the unit too (``services.grant_translation``)."""
    from wagtail.models import Page

    if created and not raw and isinstance(instance, Page) and instance.depth > 1:
        from .services import grant_translation

        grant_translation(instance)


def connect() -> None:
    from django.db.models.signals import post_save

    post_save.connect(on_page_created, dispatch_uid="shuyuan-orgs-translation")
