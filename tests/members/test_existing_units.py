"""Units made before the members app existed get their powers over reminders and profiles by migration."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from cms.orgs.models import Organisation


def test_the_migration_grants_existing_units_their_powers(db):
    editors, admins = Group.objects.create(name="老单位编辑"), Group.objects.create(name="老单位管理员")
    unit = Organisation.objects.create(code="77", name="老单位", editors_group=editors, admins_group=admins)
    assert not editors.permissions.exists() and not admins.permissions.exists()  # no unit_created signal: made directly
    migration = importlib.import_module("members.migrations.0002_existing_unit_powers")
    migration.grant(apps, None)
    migration.grant(apps, None)  # re-run safe
    assert set(editors.permissions.values_list("codename", flat=True)) == {"view_reminder", "add_reminder", "change_reminder"}
    assert {"delete_reminder", "change_memberprofile"} <= set(admins.permissions.values_list("codename", flat=True))
    assert unit.reviewers_group is None
