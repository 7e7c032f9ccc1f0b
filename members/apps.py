"""Members taking part (issue #16): who a member is in the organisation tree, reminders sent to them,
and, in time, surveys, the feedback mailbox, the question bank and study records."""
from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "会员参与"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cms.orgs.models import Organisation
        from cms.orgs.signals import unit_created

        from . import checks  # noqa: F401 - registers the start-up check
        from .services import on_unit_created

        unit_created.connect(on_unit_created, sender=Organisation, dispatch_uid="members_unit_powers")
