"""What the end of a workflow does (``WAGTAIL_FINISH_WORKFLOW_ACTION``).

Wagtail imports this while it loads its models: nothing here may import models at module level.
"""


def publish_approved(workflow_state, user=None):
    """``WAGTAIL_FINISH_WORKFLOW_ACTION``: the last approval publishes the revision it approved.

    Wagtail's own action checks that the last approver may publish; here nobody in a unit holds the
    publish permission (a publisher could skip the workflow), so approval itself is the authority. The
    approval was already checked: the approver is in the task's groups and is not an author
    (``ReviewTask.on_action`` and ``guards.refuse_self_approval``).
    """
    workflow_state.content_object.get_latest_revision().publish(user=user, skip_permission_checks=True)
