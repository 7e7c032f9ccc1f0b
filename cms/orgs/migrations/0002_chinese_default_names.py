"""Wagtail's default groups and root page carry English names ("Editors", "Moderators", "Root", also the
root collection's name) that editors see in the admin. Give them Chinese names. Idempotent: nothing happens when they are gone,
already renamed, or when the Chinese name is taken; reversing restores the English names."""

from django.db import migrations

GROUPS = {"Editors": "编辑人员", "Moderators": "审核人员"}
ROOT_TITLES = {"Root": "根目录"}


def _rename(apps, groups, titles):
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    for old, new in groups.items():
        if not Group.objects.filter(name=new).exists():
            Group.objects.filter(name=old).update(name=new)
    for old, new in titles.items():
        Page.objects.filter(depth=1, title=old).update(title=new, draft_title=new)
        Collection.objects.filter(depth=1, name=old).update(name=new)


def forwards(apps, schema_editor):
    _rename(apps, GROUPS, ROOT_TITLES)


def backwards(apps, schema_editor):
    _rename(apps, {v: k for k, v in GROUPS.items()}, {v: k for k, v in ROOT_TITLES.items()})


class Migration(migrations.Migration):
    # After every migration that looks the English names up.
    dependencies = [
        ("orgs", "0001_organisation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
        ("wagtailadmin", "0006_formstate"),
        ("deploy", "0003_reviewers_and_editors_see_publishing"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
