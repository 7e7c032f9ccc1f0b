from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AuditConfig(AppConfig):
    """The audit log (审计日志) and the separation of the three administrators (三员分立)."""

    default = True  # this module also holds UsersAppConfig, named explicitly in INSTALLED_APPS
    name = "cms.audit"
    label = "audit"
    verbose_name = "审计"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks, guards, signals  # noqa: F401 - checks register themselves

        guards.connect()
        signals.connect()


class UsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's users app with 三员分立 enforced in its user and group views.

    Replaces ``"wagtail.users"`` in ``INSTALLED_APPS`` (Wagtail's documented way to customise the
    user forms and views).
    """

    user_viewset = "cms.audit.users_admin.UserViewSet"
    group_viewset = "cms.audit.users_admin.GroupViewSet"

    def ready(self):
        super().ready()
        from django.contrib.auth import get_user_model
        from wagtail.permissions import register_permission_policy

        from .users_admin import RoleAwareUserPolicy

        User = get_user_model()
        register_permission_policy(User, RoleAwareUserPolicy(User))
