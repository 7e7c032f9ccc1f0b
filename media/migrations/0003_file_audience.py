# Files follow the pages that use them (media/audience.py). Existing images get "follow" (the field's
# default). Existing documents marked "public" were never a decision (public was the default, and the
# form preselected it), so they become "follow"; members and internal were chosen and stay.

from django.db import migrations

import media.audience


def public_documents_follow(apps, schema_editor):
    Document = apps.get_model("media", "ShuyuanDocument")
    Document.objects.filter(audience="public").update(audience="follow")


def follow_documents_public(apps, schema_editor):
    Document = apps.get_model("media", "ShuyuanDocument")
    Document.objects.filter(audience="follow").update(audience="public")


class Migration(migrations.Migration):

    dependencies = [
        ('media', '0002_documents_private_storage'),
    ]

    operations = [
        migrations.AddField(
            model_name='shuyuanimage',
            name='audience',
            field=media.audience.FileAudienceField(choices=[('follow', '跟随所用页面'), ('public', '公开'), ('members', '仅会员'), ('internal', '内部（仅限系统内）')], db_index=True, default='follow', help_text='跟随所用页面：只有公开页面使用它时才公开，否则仅对能看到使用它的页面的人可见；公开：任何人都可下载；仅会员：登录会员可见；内部：只在管理系统内可见。', max_length=16, verbose_name='可见范围'),
        ),
        migrations.AlterField(
            model_name='shuyuandocument',
            name='audience',
            field=media.audience.FileAudienceField(choices=[('follow', '跟随所用页面'), ('public', '公开'), ('members', '仅会员'), ('internal', '内部（仅限系统内）')], db_index=True, default='follow', help_text='跟随所用页面：只有公开页面使用它时才公开，否则仅对能看到使用它的页面的人可见；公开：任何人都可下载；仅会员：登录会员可见；内部：只在管理系统内可见。', max_length=16, verbose_name='可见范围'),
        ),
        migrations.RunPython(public_documents_follow, follow_documents_public),
    ]
