"""Wagtail's install creates a one-step workflow and task both named "Moderators approval", which the
editor sees as "提交给Moderators approval" and whose task lets authors approve their own pages. Give
them Chinese names and make the task a ReviewTask (same row, same groups, no self-approval)."""

from django.db import migrations

DEFAULT_NAME = "Moderators approval"
WORKFLOW_NAME = "默认审批流程"
TASK_NAME = "审核员审核"


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    Task = apps.get_model("wagtailcore", "Task")
    ReviewTask = apps.get_model("approval", "ReviewTask")

    Workflow.objects.filter(name=DEFAULT_NAME).update(name=WORKFLOW_NAME)
    plain = ContentType.objects.filter(app_label="wagtailcore", model="groupapprovaltask").first()
    if plain is None:
        return
    review_type, _ = ContentType.objects.get_or_create(app_label="approval", model="reviewtask")
    for task_id in Task.objects.filter(name=DEFAULT_NAME, content_type=plain).values_list("pk", flat=True):
        ReviewTask(groupapprovaltask_ptr_id=task_id).save_base(raw=True)  # the child row only
        Task.objects.filter(pk=task_id).update(name=TASK_NAME, content_type=review_type)


class Migration(migrations.Migration):
    dependencies = [
        ("approval", "0001_review_task"),
        ("wagtailcore", "0048_add_default_workflows"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
