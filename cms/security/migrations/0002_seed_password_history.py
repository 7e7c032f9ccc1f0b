"""Record every existing user's current password hash, so that the reuse check covers it and
password expiry counts from the day this policy arrived rather than from when the user joined."""

from django.conf import settings
from django.db import migrations


def seed(apps, schema_editor):
    User = apps.get_model(settings.AUTH_USER_MODEL)
    PasswordHistory = apps.get_model("security", "PasswordHistory")
    rows = [
        PasswordHistory(user_id=pk, password=password)
        for pk, password in User.objects.exclude(password="").exclude(password__startswith="!").values_list("pk", "password")
    ]
    PasswordHistory.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
