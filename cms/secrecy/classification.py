"""The secrecy classification (密级) every page and file carries.

公开 may go online once the secrecy review clears it; 内部 never reaches the public site or the
members' site, whatever the audience says; 涉密 is refused outright (涉密不上网): such an item cannot
be saved with content. A plain module (no models), so page and file models can import it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Classification(models.TextChoices):
    PUBLIC = "public", _("公开")
    INTERNAL = "internal", _("内部")
    SECRET = "secret", _("涉密")


REFUSED_MESSAGE = _("涉密信息不得上网：涉密内容不能保存到本系统。")


class ClassificationField(models.CharField):
    """The 密级 choice, optional in forms: a form that leaves it out (Wagtail's multiple upload, a form
    built before the field existed) keeps the default, 公开, which still has to pass the review; a
    value sent empty is not 公开 and keeps the item offline."""

    def formfield(self, **kwargs):
        field = super().formfield(**kwargs)
        if field is not None:
            field.required = False
        return field


def classification_field():
    return ClassificationField(
        _("密级"),
        max_length=16,
        choices=Classification.choices,
        default=Classification.PUBLIC,
        db_index=True,
        help_text=_("公开：经保密审查后可以上网；内部：只在管理系统内使用，永不对外发布；涉密：不得上网，不能保存。"),
    )


def refuse_secret(instance) -> None:
    """Raise the form error for an item classified 涉密 (called from the models' ``clean``)."""
    if getattr(instance, "classification", Classification.PUBLIC) == Classification.SECRET:
        raise ValidationError({"classification": REFUSED_MESSAGE})
