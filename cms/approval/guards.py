"""The model-level guard: no task state of any task type is approved by an author of the content.

``ReviewTask`` refuses self-approval in its actions; this receiver refuses it for every task type an
administrator may still pick in the admin (Wagtail's plain group approval among them) and for code
that approves a task state directly. ``TaskState.approve`` is atomic, so the refusal undoes it.
"""

from django.core.exceptions import PermissionDenied
from wagtail.models import TaskState

from .models import SELF_APPROVAL_REFUSED, authors_under_review


def refuse_self_approval(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None or not isinstance(instance, TaskState):
        return
    if instance.status != TaskState.STATUS_APPROVED or instance.finished_by_id is None:
        return
    before = TaskState.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
    if before != TaskState.STATUS_IN_PROGRESS:
        return
    if instance.finished_by_id in authors_under_review(instance.workflow_state):
        raise PermissionDenied(SELF_APPROVAL_REFUSED)
