"""Units that existed before the members app get the same powers over reminders and member profiles
as a unit created now (``members.services.grant_unit_powers``, on ``unit_created``)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

#: a snapshot of members.services.UNIT_PERMISSIONS when this migration was written
UNIT_PERMISSIONS = {
    "editors": ("view_reminder", "add_reminder", "change_reminder"),
    "reviewers": ("view_reminder", "add_reminder", "change_reminder"),
    "admins": (
        "view_reminder", "add_reminder", "change_reminder", "delete_reminder",
        "view_memberprofile", "add_memberprofile", "change_memberprofile", "delete_memberprofile",
    ),
}


def grant(apps, schema_editor):
    config = apps.get_app_config("members")
    config.models_module = True  # create_permissions skips an app without models in a migration's state
    create_permissions(config, apps=apps, verbosity=0)
    Organisation = apps.get_model("orgs", "Organisation")
    Permission = apps.get_model("auth", "Permission")
    for unit in Organisation.objects.all():
        for role, codenames in UNIT_PERMISSIONS.items():
            group = getattr(unit, f"{role}_group", None)
            if group is not None:
                group.permissions.add(*Permission.objects.filter(content_type__app_label="members", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial"), ("contenttypes", "0002_remove_content_type_name")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
