# Document files move out of MEDIA_ROOT (served to anyone) into their own storage (media/storage.py).

from django.db import migrations, models

import media.storage


def move_files(apps, schema_editor):
    """Copy each existing document file from the default storage into the documents storage, then
    remove the old copy. Safe to re-run: files already moved are skipped."""
    from django.core.files.storage import default_storage

    target = media.storage.document_storage()
    Document = apps.get_model("media", "ShuyuanDocument")
    for name in Document.objects.values_list("file", flat=True).iterator():
        if not name or target.exists(name) or not default_storage.exists(name):
            continue
        with default_storage.open(name, "rb") as fh:
            saved = target.save(name, fh)
        if saved != name:  # never expected (the name was free); keep the row pointing at the file
            Document.objects.filter(file=name).update(file=saved)
        default_storage.delete(name)


class Migration(migrations.Migration):

    dependencies = [
        ('media', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='shuyuandocument',
            name='file',
            field=models.FileField(storage=media.storage.document_storage, upload_to='documents', verbose_name='文件'),
        ),
        migrations.RunPython(move_files, migrations.RunPython.noop, elidable=True),
    ]
