# Accounts made before new accounts defaulted to the Simplified Chinese admin get the same default
# (only those that never chose a language).

from django.conf import settings
from django.db import migrations


def default_language(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    UserProfile = apps.get_model("wagtailusers", "UserProfile")
    without = User.objects.filter(wagtail_userprofile__isnull=True).values_list("pk", flat=True)
    UserProfile.objects.bulk_create(
        UserProfile(user_id=user_id, preferred_language=settings.LANGUAGE_CODE) for user_id in without
    )
    UserProfile.objects.filter(preferred_language="").update(preferred_language=settings.LANGUAGE_CODE)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0002_initial"),
        ("wagtailusers", "0015_userprofile_keyboard_shortcuts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(default_language, migrations.RunPython.noop, elidable=True)]
