"""Admin wiring: the audit log (审计日志) report and the guarded user bulk actions."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views
from .access import can_read_audit_log
from .users_admin import GuardedAssignRoleBulkAction, GuardedDeleteBulkAction, GuardedSetActiveStateBulkAction


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [
        path("audit-log/", views.audit_log, name="audit_log"),
        path("audit-log/export/", views.audit_log_export, name="audit_log_export"),
    ]


class AuditLogMenuItem(MenuItem):
    def is_shown(self, request):
        return can_read_audit_log(request.user)


@hooks.register("register_admin_menu_item")
def register_audit_menu_item():
    return AuditLogMenuItem(_("审计日志"), reverse("audit_log"), icon_name="list-ul", order=10000)


# Registered after wagtail.users' own (INSTALLED_APPS order), so these replace them.
hooks.register("register_bulk_action", GuardedAssignRoleBulkAction)
hooks.register("register_bulk_action", GuardedSetActiveStateBulkAction)
hooks.register("register_bulk_action", GuardedDeleteBulkAction)
