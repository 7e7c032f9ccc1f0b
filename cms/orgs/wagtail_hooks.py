"""Admin wiring: 设置 → 组织机构."""

from wagtail import hooks

from .views import organisation_viewset


@hooks.register("register_admin_viewset")
def register_organisation_viewset():
    return organisation_viewset
