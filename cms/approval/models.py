"""The review task of every approval workflow: Wagtail's group approval, minus self-approval.

Wagtail's ``GroupApprovalTask`` lets anyone in the task's groups (and any superuser) approve,
including whoever wrote the content under review. ``ReviewTask`` keeps everything else of it (the
groups, the admin screens, the notifications, the audit log entries) and adds one rule: nobody may
approve content they wrote or submitted. The author is shown no approve action, is not asked to
review it on the dashboard, and is refused in ``on_action`` (the guard every admin view and any code
path goes through). Requesting changes needs a comment, which goes back to the author.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from wagtail.models import GroupApprovalTask, Revision, TaskState
from wagtail.models.workflows import TaskStateCommentForm

SELF_APPROVAL_REFUSED = "不能审核通过自己撰写或提交的内容，请由其他审核人审核。"
COMMENT_REQUIRED = "退回修改须填写意见，意见将发送给作者。"


class RequestChangesForm(TaskStateCommentForm):
    """The modal of "退回修改": the comment is the reason the author reads, so it is required."""

    comment = forms.CharField(label="修改意见", widget=forms.Textarea(attrs={"rows": 4}), required=True)

    def clean_comment(self):
        comment = self.cleaned_data["comment"].strip()
        if not comment:
            raise forms.ValidationError(COMMENT_REQUIRED)
        return comment


def authors_under_review(workflow_state) -> set[int]:
    """Ids of the users whose work the workflow would publish: the submitter and everyone who saved a
    revision from the first one under review on (an edit during review is under review too)."""
    if workflow_state is None:
        return set()
    ids = {workflow_state.requested_by_id} if workflow_state.requested_by_id else set()
    first = workflow_state.task_states.order_by("revision_id").values_list("revision_id", flat=True).first()
    if first is not None:
        ids |= set(
            Revision.objects.filter(
                base_content_type_id=workflow_state.base_content_type_id,
                object_id=workflow_state.object_id,
                pk__gte=first,
            )
            .exclude(user=None)
            .values_list("user_id", flat=True)
        )
    return ids


def is_author(obj, user) -> bool:
    return bool(user and user.pk) and user.pk in authors_under_review(obj.current_workflow_state)


class ReviewTask(GroupApprovalTask):
    """审核任务: members of the chosen groups approve or send back, but never their own work."""

    def user_can_access_editor(self, obj, user):
        return super().user_can_access_editor(obj, user) and not is_author(obj, user)

    def locked_for_user(self, obj, user):
        return super().locked_for_user(obj, user) or is_author(obj, user)

    def user_can_lock(self, obj, user):
        return super().user_can_lock(obj, user) and not is_author(obj, user)

    def get_actions(self, obj, user):
        if not (user.is_superuser or self._user_in_groups(user)) or is_author(obj, user):
            return []
        return [
            ("reject", "退回修改", True),
            ("approve", "审核通过", False),
            ("approve", "审核通过并附意见", True),
        ]

    def get_form_for_action(self, action):
        return RequestChangesForm if action == "reject" else TaskStateCommentForm

    def get_task_states_user_can_moderate(self, user, **kwargs):
        # The queryset form of ``authors_under_review``: the dashboard's "等待您审核" list.
        first_revision = (
            TaskState.objects.filter(workflow_state_id=OuterRef(OuterRef("workflow_state_id")))
            .order_by("revision_id")
            .values("revision_id")[:1]
        )
        wrote_some = Revision.objects.filter(
            base_content_type_id=OuterRef("workflow_state__base_content_type_id"),
            object_id=OuterRef("workflow_state__object_id"),
            user_id=user.pk,
            pk__gte=Subquery(first_revision),
        )
        return (
            super()
            .get_task_states_user_can_moderate(user, **kwargs)
            .exclude(workflow_state__requested_by_id=user.pk)
            .exclude(Exists(wrote_some))
        )

    @transaction.atomic
    def on_action(self, task_state, user, action_name, **kwargs):
        if action_name not in ("approve", "reject"):
            raise PermissionDenied("未知的审核操作。")
        if not (user.is_superuser or self._user_in_groups(user)):
            raise PermissionDenied("您不是本审核环节的审核人。")
        if action_name == "approve" and user.pk in authors_under_review(task_state.workflow_state):
            raise PermissionDenied(SELF_APPROVAL_REFUSED)
        if action_name == "reject" and not str(kwargs.get("comment") or "").strip():
            raise PermissionDenied(COMMENT_REQUIRED)
        return super().on_action(task_state, user, action_name, **kwargs)

    @classmethod
    def get_description(cls):
        return "所选用户组的成员审核通过或退回修改；作者不能审核自己的内容。"

    class Meta:
        verbose_name = "审核任务"
        verbose_name_plural = "审核任务"
