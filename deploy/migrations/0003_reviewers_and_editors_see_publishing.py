"""Reviewers (Wagtail's "Moderators" group, the 党委审核 role) and branch editors ("Editors") may view the
publish history and its failures. Publishing the whole site stays with ``deploy.add_publishrun``
(administrators)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ("Moderators", "Editors")
PERMISSION = "view_publishrun"


def grant(apps, schema_editor):
    # permissions are normally created after all migrations ran: make deploy's now
    config = apps.get_app_config("deploy")
    saved = getattr(config, "models_module", None)
    config.models_module = saved or True  # create_permissions skips apps without models
    try:
        create_permissions(config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    finally:
        config.models_module = saved
    for group, perm in _groups_and_permission(apps):
        group.permissions.add(perm)


def revoke(apps, schema_editor):
    for group, perm in _groups_and_permission(apps):
        group.permissions.remove(perm)


def _groups_and_permission(apps):
    """(group, permission) pairs to change; none when the permission doesn't exist (yet)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(content_type__app_label="deploy", codename=PERMISSION).first()
    if perm is None:
        return []
    return [(group, perm) for group in Group.objects.filter(name__in=GROUPS)]


class Migration(migrations.Migration):
    dependencies = [
        ("deploy", "0002_publishrun_lease_interrupted"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0002_initial_data"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
