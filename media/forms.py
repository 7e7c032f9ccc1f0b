"""The base of every document form in the admin (``WAGTAILDOCS_DOCUMENT_FORM_BASE``).

Wagtail builds several forms from it: the full form (add, edit, chooser upload) and the details form of
the multiple upload (``添加一个文档`` → 上传成功 → 更新), which has no ``file`` field because the file is
already uploaded. The model's checks still speak about the file (``AbstractDocument.clean`` checks the
extension, ``ShuyuanDocument.clean`` the content), and Django refuses an error for a field a form does
not have with ``ValueError: 'ShuyuanDocumentForm' has no field named 'file'`` — an HTTP 500 that saved
nothing. Here such an error is shown above the form, named after its field, instead.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.text import capfirst
from wagtail.documents.forms import BaseDocumentForm


class DocumentForm(BaseDocumentForm):
    def add_error(self, field, error):
        if field is not None and field not in self.fields:
            error = ValidationError({field: error if isinstance(error, ValidationError) else ValidationError(error)})
            field = None
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            errors = {}
            for name, found in error.error_dict.items():
                if name == NON_FIELD_ERRORS or name in self.fields:
                    errors.setdefault(name, []).extend(found)
                else:
                    errors.setdefault(NON_FIELD_ERRORS, []).extend(self._named(name, found))
            error = ValidationError(errors)
        super().add_error(field, error)

    def _named(self, name: str, errors) -> list[ValidationError]:
        try:
            label = capfirst(self._meta.model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: BLE001 - a model-level error under a name that is no field
            label = name
        return [ValidationError("%(field)s：%(message)s", params={"field": label, "message": message})
                for message in ValidationError(errors).messages]
