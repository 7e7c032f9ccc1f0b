"""Units own their subtree in every language: give each unit's groups the page powers they hold on
the unit's root page on that page's translations too (new translations get them when created)."""

from django.db import migrations


def grant_translations(apps, schema_editor):
    Organisation = apps.get_model("orgs", "Organisation")
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    for unit in Organisation.objects.exclude(root_page=None).select_related("root_page"):
        root = unit.root_page
        translations = Page.objects.filter(translation_key=root.translation_key).exclude(pk=root.pk)
        groups = [g for g in (unit.editors_group_id, unit.reviewers_group_id, unit.admins_group_id) if g]
        for grant in GroupPagePermission.objects.filter(page=root, group_id__in=groups):
            for page in translations:
                GroupPagePermission.objects.get_or_create(
                    group_id=grant.group_id, page=page, permission_id=grant.permission_id
                )


class Migration(migrations.Migration):
    dependencies = [("orgs", "0002_chinese_default_names")]

    operations = [migrations.RunPython(grant_translations, migrations.RunPython.noop)]
