"""组织机构 in the admin: units listed by code; adding one creates its subtree, collection and groups
(``create_unit``); editing changes the name only, so codes and permissions stay consistent."""

from django.core.exceptions import ValidationError
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log

from .models import Organisation
from .services import create_unit


class UnitCreateView(generic.CreateView):
    def save_instance(self):
        data = self.form.cleaned_data
        unit = create_unit(
            data["code"],
            data["name"],
            parent=data.get("parent"),
            root_page=data.get("root_page"),
            user=self.request.user,
        )
        log(instance=unit, action="wagtail.create", user=self.request.user)
        return unit

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
            return self.form_invalid(form)


class OrganisationViewSet(ModelViewSet):
    model = Organisation
    icon = "group"
    menu_label = "组织机构"
    add_to_settings_menu = True
    list_display = ["code", "name", "parent", "root_page", "collection"]
    search_fields = ["code", "name"]
    ordering = ["code"]
    add_view_class = UnitCreateView
    copy_view_enabled = False
    inspect_view_enabled = True

    def get_form_fields(self):
        return ["code", "name", "parent", "root_page"]

    def get_form_class(self, for_update=False):
        from django import forms
        from wagtail.admin.forms import WagtailAdminModelForm

        fields = ["name"] if for_update else ["code", "name", "parent", "root_page"]
        return forms.modelform_factory(self.model, form=WagtailAdminModelForm, fields=fields)


organisation_viewset = OrganisationViewSet("organisations")
