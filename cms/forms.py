"""The admin form every Shuyuan page type edits with."""

from wagtail.admin.forms import WagtailAdminPageForm


class ShuyuanPageForm(WagtailAdminPageForm):
    """Wagtail's page form, telling only real edits from an untouched form.

    Django marks a field whose model default is callable (``date = DateField(default=localdate)``) as
    changed unless the form posts a hidden copy of its initial value, which Wagtail's panels do not
    render. Every submit of an untouched form then counted as an edit: a reviewer's 审核通过 in the editor
    saved a revision of their own, and with it became an author of what they were approving (refused).
    The field's value is compared with the page's own value instead.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.show_hidden_initial = False
