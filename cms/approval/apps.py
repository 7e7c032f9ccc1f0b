from django.apps import AppConfig


class ApprovalConfig(AppConfig):
    name = "cms.approval"
    label = "approval"
    verbose_name = "审批流程"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import pre_save
        from wagtail.models import TaskState

        from cms.orgs.models import Organisation
        from cms.orgs.signals import unit_created

        from .guards import refuse_self_approval
        from .services import on_unit_created

        unit_created.connect(on_unit_created, sender=Organisation, dispatch_uid="approval_unit_workflow")
        pre_save.connect(refuse_self_approval, sender=TaskState, dispatch_uid="approval_refuse_self_approval")
