"""Receivers of the secrecy review (connected in ``SecrecyConfig.ready``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models.signals import post_save, pre_save
from wagtail.models import Page
from wagtail.signals import page_published

from .classification import REFUSED_MESSAGE, Classification
from .review import NON_CONTENT_FIELDS, is_reviewable, review_file, review_live_page

_UID = "shuyuan-secrecy-"


def refuse_secret(sender, instance, raw=False, **kwargs):
    """涉密 is refused however the row is saved (forms say so first, in the field's error)."""
    if not raw and getattr(instance, "classification", None) == Classification.SECRET:
        raise ValidationError({"classification": REFUSED_MESSAGE})


def on_published(sender, instance, revision=None, **kwargs):
    review_live_page(instance, revision)


def on_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or sender.__module__ == "__fake__":
        return
    if isinstance(instance, Page):
        if not (is_reviewable(instance) and instance.live):
            return
        if update_fields is not None and set(update_fields) <= NON_CONTENT_FIELDS:
            return
        review_live_page(instance)
    elif sender._meta.label_lower == "search.extractedtext":
        # text extracted later (by search): the document's hold follows what it says
        from wagtail.documents import get_document_model

        document = get_document_model().objects.filter(pk=instance.document_id).first()
        if document is not None:
            review_file(document)
    elif hasattr(instance, "secrecy_hold") and hasattr(instance, "classification"):
        if update_fields is not None and set(update_fields) == {"secrecy_hold"}:
            return
        review_file(instance)


def connect() -> None:
    pre_save.connect(refuse_secret, dispatch_uid=_UID + "refuse")
    post_save.connect(on_saved, dispatch_uid=_UID + "saved")
    page_published.connect(on_published, dispatch_uid=_UID + "published")
