import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cms.security.passwords import from_environment


class Command(BaseCommand):
    help = (
        "Create the first administrator if none exists (SHUYUAN_ADMIN_USER / SHUYUAN_ADMIN_PASSWORD; "
        "the password must pass the password policy, a random one is printed otherwise)."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("SHUYUAN_ADMIN_USER", "admin")
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"管理员账号已存在：{username}")
            return
        try:
            with translation.override(settings.LANGUAGE_CODE):  # the policy's messages in Chinese
                password, _generated = from_environment("SHUYUAN_ADMIN_PASSWORD", User(username=username))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"已创建管理员账号：{username}  密码：{password}"))
