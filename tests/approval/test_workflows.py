"""Approval per branch (issue 12, point 3): the branch's reviewers, then the committee; never the
author; a rejection goes back to the author with its comment; the next reviewers are told; every
action is in the audit log; every name is Chinese."""

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import TestCase
from django.urls import reverse
from wagtail.models import (
    GroupApprovalTask,
    Locale,
    Page,
    PageLogEntry,
    Site,
    Task,
    TaskState,
    Workflow,
    WorkflowPage,
    WorkflowState,
    WorkflowTask,
)

from cms.approval.models import ReviewTask
from cms.approval.services import ensure_unit_workflow
from cms.audit.reading import Filters, iter_rows
from cms.orgs.services import create_unit
from tests.factories import ArticlePageFactory, HomePageFactory

User = get_user_model()


def make_user(username, *groups):
    user = User.objects.create_user(username, f"{username}@example.org", "pw")
    user.groups.add(*groups)
    return user


class ApprovalTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        Locale.objects.get_or_create(language_code="zh-hans")
        root = Page.get_first_root_node()
        for stale in root.get_children().filter(slug="home"):
            stale.delete()
        home = HomePageFactory(parent=root)
        Site.objects.update_or_create(
            is_default_site=True, defaults={"root_page": home, "hostname": "localhost", "port": 80}
        )
        cls.top = create_unit("01", "党委")
        cls.branch = create_unit("0101", "第一支部", parent=cls.top)
        cls.sibling = create_unit("0102", "第二支部", parent=cls.top)

        cls.author = make_user("author", cls.branch.editors_group)
        # an author who is also a reviewer of the branch: still never approves their own work
        cls.author_reviewer = make_user(
            "author_reviewer", cls.branch.editors_group, cls.branch.reviewers_group
        )
        cls.reviewer = make_user("reviewer", cls.branch.reviewers_group)
        cls.sibling_reviewer = make_user("sibling_reviewer", cls.sibling.reviewers_group)
        cls.committee = make_user("committee", cls.top.reviewers_group)
        cls.superuser = User.objects.create_superuser("boss", "boss@example.org", "pw")

    def submit(self, user, title="支部学习简报"):
        page = ArticlePageFactory(parent=self.branch.root_page, title=title, live=False)
        page.save_revision(user=user)
        page.get_workflow().start(page, user)
        return Page.objects.get(pk=page.pk).specific

    def task_state(self, page):
        return page.current_workflow_task_state

    def post_action(self, user, page, action, **data):
        self.client.force_login(user)
        url = reverse("wagtailadmin_pages:workflow_action", args=(page.pk, action, self.task_state(page).pk))
        # as the admin's modal does: a refusal is a 403 rather than a redirect with a message
        return self.client.post(url, data, headers={"x-requested-with": "XMLHttpRequest"})


class SelfApprovalRefusedTests(ApprovalTestCase):
    def test_author_in_reviewers_group_cannot_approve_own_revision(self):
        page = self.submit(self.author_reviewer)
        state = self.task_state(page)
        task = state.task.specific
        self.assertIsInstance(task, ReviewTask)

        self.assertEqual(task.get_actions(page, self.author_reviewer), [])
        self.assertTrue(task.locked_for_user(page, self.author_reviewer))
        self.assertFalse(task.get_task_states_user_can_moderate(self.author_reviewer).exists())
        with self.assertRaisesMessage(PermissionDenied, "不能审核通过自己"):
            task.on_action(state, self.author_reviewer, "approve")
        self.assertEqual(self.post_action(self.author_reviewer, page, "approve").status_code, 403)
        # approving the task state directly, bypassing the task, is refused by the model guard
        with self.assertRaises(PermissionDenied):
            TaskState.objects.get(pk=state.pk).approve(user=self.author_reviewer)

        state.refresh_from_db()
        self.assertEqual(state.status, TaskState.STATUS_IN_PROGRESS)
        self.assertFalse(PageLogEntry.objects.filter(page=page, action="wagtail.workflow.approve").exists())

    def test_superuser_author_cannot_approve_either(self):
        page = self.submit(self.superuser)
        state = self.task_state(page)
        self.assertEqual(state.task.specific.get_actions(page, self.superuser), [])
        with self.assertRaises(PermissionDenied):
            state.task.specific.on_action(state, self.superuser, "approve")

    def test_reviewer_who_edits_under_review_cannot_approve_the_result(self):
        page = self.submit(self.author)
        page.title = "支部学习简报（审核人改）"
        page.save_revision(user=self.reviewer)
        state = self.task_state(page)
        with self.assertRaises(PermissionDenied):
            state.task.specific.on_action(state, self.reviewer, "approve")

    def test_plain_group_approval_task_is_guarded_too(self):
        """An administrator may still pick Wagtail's plain group approval: the model guard holds."""
        plain = GroupApprovalTask.objects.create(name="临时审核")
        plain.groups.set([self.branch.reviewers_group])
        workflow = Workflow.objects.create(name="临时审批流程")
        WorkflowTask.objects.create(workflow=workflow, task=plain, sort_order=0)
        page = ArticlePageFactory(parent=self.branch.root_page, title="临时稿件", live=False)
        page.save_revision(user=self.author_reviewer)
        state = workflow.start(page, self.author_reviewer).current_task_state
        self.assertIsNotNone(state)
        with self.assertRaises(PermissionDenied):
            plain.on_action(state, self.author_reviewer, "approve")
        state.refresh_from_db()
        self.assertEqual(state.status, TaskState.STATUS_IN_PROGRESS)


class ScopeTests(ApprovalTestCase):
    def test_sibling_branch_reviewer_cannot_approve(self):
        page = self.submit(self.author)
        state = self.task_state(page)
        task = state.task.specific
        self.assertEqual(task.get_actions(page, self.sibling_reviewer), [])
        self.assertFalse(task.get_task_states_user_can_moderate(self.sibling_reviewer).exists())
        with self.assertRaises(PermissionDenied):
            task.on_action(state, self.sibling_reviewer, "approve")
        self.assertEqual(self.post_action(self.sibling_reviewer, page, "approve").status_code, 403)

    def test_committee_cannot_skip_the_branch_step(self):
        page = self.submit(self.author)
        state = self.task_state(page)
        with self.assertRaises(PermissionDenied):
            state.task.specific.on_action(state, self.committee, "approve")
        state.refresh_from_db()
        self.assertEqual(state.status, TaskState.STATUS_IN_PROGRESS)


class RejectTests(ApprovalTestCase):
    def test_reject_needs_a_comment(self):
        page = self.submit(self.author)
        state = self.task_state(page)
        with self.assertRaisesMessage(PermissionDenied, "须填写意见"):
            state.task.specific.on_action(state, self.reviewer, "reject", comment="  ")
        form = state.task.specific.get_form_for_action("reject")({"comment": ""})
        self.assertFalse(form.is_valid())

    def test_reject_with_comment_returns_the_page_to_the_author(self):
        page = self.submit(self.author)
        mail.outbox.clear()
        response = self.post_action(self.reviewer, page, "reject", comment="请补充会议时间和参会人员。")
        self.assertEqual(response.json()["step"], "success")

        workflow_state = WorkflowState.objects.get(object_id=str(page.pk))
        self.assertEqual(workflow_state.status, WorkflowState.STATUS_NEEDS_CHANGES)
        self.assertEqual(workflow_state.current_task_state.comment, "请补充会议时间和参会人员。")
        entry = PageLogEntry.objects.get(page=page, action="wagtail.workflow.reject")
        self.assertEqual((entry.user, entry.data["comment"]), (self.reviewer, "请补充会议时间和参会人员。"))
        # the author is told by email, with the comment
        [message] = [m for m in mail.outbox if self.author.email in m.to]
        self.assertIn("请补充会议时间和参会人员。", message.body)
        # and sees it in the page's workflow history in the admin
        self.client.force_login(self.author)
        history = self.client.get(
            reverse("wagtailadmin_pages:workflow_history_detail", args=(page.pk, workflow_state.pk))
        )
        self.assertContains(history, "请补充会议时间和参会人员。")
        self.assertFalse(Page.objects.get(pk=page.pk).live)


class ApproveTests(ApprovalTestCase):
    def test_branch_approval_moves_to_committee_who_publish(self):
        page = self.submit(self.author)
        self.assertEqual(self.task_state(page).task.name, "第一支部审核")
        mail.outbox.clear()

        self.assertEqual(self.post_action(self.reviewer, page, "approve").json()["step"], "success")
        page = Page.objects.get(pk=page.pk).specific
        self.assertFalse(page.live)
        state = self.task_state(page)
        self.assertEqual(state.task.name, "党委审核")
        # the next approvers are told by email, and see it in "等待您审核" on the admin home
        self.assertIn(self.committee.email, [addr for m in mail.outbox for addr in m.to])
        self.assertNotIn(self.reviewer.email, [addr for m in mail.outbox for addr in m.to])
        self.client.force_login(self.committee)
        self.assertContains(self.client.get(reverse("wagtailadmin_home")), "支部学习简报")

        self.assertEqual(self.post_action(self.committee, page, "approve").json()["step"], "success")
        page = Page.objects.get(pk=page.pk)
        self.assertTrue(page.live)
        self.assertEqual(page.current_workflow_state, None)

        # Wagtail's log holds both approvals, and so does the project's 审计日志
        approvals = PageLogEntry.objects.filter(page=page, action="wagtail.workflow.approve").order_by("pk")
        self.assertEqual([e.user for e in approvals], [self.reviewer, self.committee])
        self.assertEqual(
            [e.data["workflow"]["task"]["title"] for e in approvals], ["第一支部审核", "党委审核"]
        )
        rows = list(iter_rows(Filters(action="wagtail.workflow.approve")))
        self.assertEqual({r.username for r in rows}, {"reviewer", "committee"})
        self.assertTrue(PageLogEntry.objects.filter(page=page, action="wagtail.publish").exists())


class WorkflowSetupTests(ApprovalTestCase):
    def test_each_unit_has_its_chinese_workflow_on_its_subtree(self):
        for unit in (self.branch, self.sibling):
            wp = WorkflowPage.objects.get(page=unit.root_page)
            self.assertEqual(wp.workflow.name, f"{unit.name}审批流程")
            self.assertEqual([t.name for t in wp.workflow.tasks], [f"{unit.name}审核", "党委审核"])
        top = WorkflowPage.objects.get(page=self.top.root_page).workflow
        self.assertEqual((top.name, [t.name for t in top.tasks]), ("党委审批流程", ["党委审核"]))
        # one committee task shared by every workflow
        self.assertEqual(ReviewTask.objects.filter(name="党委审核").count(), 1)

    def test_ensure_is_idempotent_and_keeps_the_administrators_choice(self):
        before = (Workflow.objects.count(), Task.objects.count(), WorkflowPage.objects.count())
        self.assertEqual(ensure_unit_workflow(self.branch).name, "第一支部审批流程")
        self.assertEqual(
            before, (Workflow.objects.count(), Task.objects.count(), WorkflowPage.objects.count())
        )
        custom = Workflow.objects.create(name="第一支部特别流程")
        WorkflowPage.objects.filter(page=self.branch.root_page).update(workflow=custom)
        self.assertEqual(ensure_unit_workflow(self.branch), custom)

    def test_default_workflow_is_chinese_and_guarded(self):
        self.assertFalse(Workflow.objects.filter(name__icontains="Moderators").exists())
        self.assertFalse(Task.objects.filter(name__icontains="Moderators").exists())
        # Wagtail's install made it (for its Moderators group); our migration renamed and guarded it
        default = Workflow.objects.get(name="默认审批流程")
        self.assertEqual([type(t.specific) for t in default.tasks], [ReviewTask])
        self.assertEqual([t.name for t in default.tasks], ["审核员审核"])

    def test_no_latin_letters_in_workflow_or_task_names(self):
        names = list(Workflow.objects.values_list("name", flat=True)) + list(
            Task.objects.values_list("name", flat=True)
        )
        self.assertTrue(names)
        self.assertEqual([n for n in names if re.search("[A-Za-z]", n)], [])
        self.assertEqual(str(ReviewTask._meta.verbose_name), "审核任务")


class AdminScreensTests(ApprovalTestCase):
    def test_editor_offers_chinese_actions_to_reviewers_only(self):
        page = self.submit(self.author_reviewer)
        edit = reverse("wagtailadmin_pages:edit", args=(page.pk,))
        self.client.force_login(self.reviewer)
        response = self.client.get(edit)
        self.assertContains(response, "审核通过")
        self.assertContains(response, "退回修改")
        self.client.force_login(self.author_reviewer)
        self.assertNotContains(self.client.get(edit), "审核通过")

    def test_workflows_stay_configurable_in_the_admin(self):
        self.client.force_login(self.superuser)
        response = self.client.get(reverse("wagtailadmin_workflows:select_task_type"))
        self.assertContains(response, "审核任务")
        add = reverse("wagtailadmin_workflows:add_task", args=("approval", "reviewtask"))
        response = self.client.post(add, {"name": "总支审核", "groups": [self.top.reviewers_group.pk]})
        self.assertEqual(response.status_code, 302)
        task = ReviewTask.objects.get(name="总支审核")
        self.assertEqual(list(task.groups.all()), [self.top.reviewers_group])
        workflow = WorkflowPage.objects.get(page=self.branch.root_page).workflow
        response = self.client.get(reverse("wagtailadmin_workflows:edit", args=(workflow.pk,)))
        self.assertContains(response, "第一支部审批流程")


class UntouchedEditorFormTests(ApprovalTestCase):
    def test_an_untouched_form_is_no_edit_so_the_reviewer_may_approve_from_the_editor(self):
        """The reviewer's 审核通过 in the editor posts the form back unchanged: that must not count as a
        revision of theirs (which would make them an author of what they approve)."""
        page = self.submit(self.author)
        page = page.get_latest_revision_as_object()
        form_class = type(page).get_edit_handler().get_form_class()
        form = form_class(
            {"title": page.title, "slug": page.slug, "date": page.date.isoformat()},
            instance=page, parent_page=page.get_parent(), for_user=self.reviewer,
        )
        # (changed_data would also read the StreamField's own inputs; the date is the field that broke)
        self.assertFalse(form["date"]._has_changed())
        self.assertFalse(form["title"]._has_changed())
        form = form_class({"date": "2001-07-01"}, instance=page, parent_page=page.get_parent(), for_user=self.reviewer)
        self.assertTrue(form["date"]._has_changed())  # a real edit still counts
