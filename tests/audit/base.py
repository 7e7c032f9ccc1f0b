"""Shared setup for the audit tests: the three administrator roles and an editor, created once."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from wagtail.models import GroupPagePermission, Page

from cms.audit.roles import AUDIT_ADMINS, SECURITY_ADMINS, SYSTEM_ADMINS, ensure_roles

AUDIT_MIDDLEWARE = "cms.audit.context.AuditRequestMiddleware"


def middleware_with_audit():
    """The project's MIDDLEWARE with the audit middleware, whether or not it is already there."""
    middleware = list(settings.MIDDLEWARE)
    if AUDIT_MIDDLEWARE not in middleware:
        middleware.insert(1, AUDIT_MIDDLEWARE)
    return middleware


class RolesMixin:
    """``root`` (superuser), ``sysadmin``, ``secadmin``, ``auditor``, ``editor`` (page editing) and
    ``alice`` (no role); groups ``编辑`` (page permissions) and ``后台访问`` (admin access only)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        ensure_roles()
        User = get_user_model()
        cls.system_group = Group.objects.get(name=SYSTEM_ADMINS)
        cls.security_group = Group.objects.get(name=SECURITY_ADMINS)
        cls.audit_group = Group.objects.get(name=AUDIT_ADMINS)
        access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
        cls.editors = Group.objects.create(name="编辑")
        cls.editors.permissions.add(access)
        root = Page.get_first_root_node()
        for codename in ("add_page", "change_page", "publish_page"):
            GroupPagePermission.objects.create(
                group=cls.editors, page=root, permission=Permission.objects.get(codename=codename)
            )
        cls.plain_access = Group.objects.create(name="后台访问")
        cls.plain_access.permissions.add(access)

        def make(username, *groups, **extra):
            user = User.objects.create_user(
                username, f"{username}@example.org", "pw", first_name="名", last_name="姓", **extra
            )
            user.groups.add(*groups)
            return user

        cls.root = make("root", is_superuser=True, is_staff=True)
        cls.sysadmin = make("sysadmin", cls.system_group)
        cls.secadmin = make("secadmin", cls.security_group)
        cls.auditor = make("auditor", cls.audit_group)
        cls.editor = make("editor", cls.editors)
        cls.alice = make("alice")

    def reload(self, user):
        return get_user_model().objects.get(pk=user.pk)
