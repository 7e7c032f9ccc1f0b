"""Per-unit approval workflows, built from Wagtail's own Workflow, WorkflowTask and WorkflowPage.

Every unit of the organisation tree gets "{单位}审批流程" on its subtree: its own reviewers first
("{单位}审核"), then the top unit's ("{党委}审核", one task shared by every unit's workflow, which is
also the top unit's own single step). Once made, a workflow is the administrators' to change in
设置 → 审批流程 / 审批任务: building again never overwrites a subtree that already has a workflow.
"""

from __future__ import annotations

from django.db import transaction
from wagtail.models import Workflow, WorkflowPage, WorkflowTask

from .models import ReviewTask


def workflow_name(unit) -> str:
    return f"{unit.name}审批流程"


def task_name(unit) -> str:
    return f"{unit.name}审核"


def review_task_for(unit) -> ReviewTask:
    """The review task of a unit's reviewers group, made once."""
    group = unit.reviewers_group
    task = ReviewTask.objects.filter(name=task_name(unit), groups=group).first()
    if task is None:
        task = ReviewTask.objects.create(name=task_name(unit))
        task.groups.set([group])
    return task


@transaction.atomic
def ensure_unit_workflow(unit) -> Workflow | None:
    """The workflow on ``unit.root_page``: the existing one, or a new one of the unit's reviewers then
    the top unit's. None while the unit has no subtree or no reviewers group (nothing to attach)."""
    if unit.root_page_id is None or unit.reviewers_group_id is None:
        return None
    existing = WorkflowPage.objects.filter(page_id=unit.root_page_id).select_related("workflow").first()
    if existing is not None:
        return existing.workflow
    tasks = [review_task_for(unit)]
    if not unit.is_top():
        top = unit.top()
        if top.reviewers_group_id is not None:
            tasks.append(review_task_for(top))
    workflow = Workflow.objects.create(name=workflow_name(unit))
    for order, task in enumerate(tasks):
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=order)
    WorkflowPage.objects.create(workflow=workflow, page_id=unit.root_page_id)
    return workflow


def on_unit_created(sender, unit, **kwargs) -> None:
    ensure_unit_workflow(unit)

