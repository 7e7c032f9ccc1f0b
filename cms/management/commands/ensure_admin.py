import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cms.security.passwords import from_environment


class Command(BaseCommand):
    help = (
        "Create the first administrator if no superuser exists yet (SHUYUAN_ADMIN_USER / SHUYUAN_ADMIN_PASSWORD; "
        "the password must pass the password policy, a random one is printed otherwise)."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("SHUYUAN_ADMIN_USER", "admin")
        # The first administrator only: once any superuser exists (whatever its name, and whether or not
        # the variables are set on this run) there is nothing to do, so a re-run never adds a second one.
        existing = list(User.objects.filter(is_superuser=True).order_by("pk").values_list("username", flat=True)[:5])
        if existing or User.objects.filter(username=username).exists():
            self.stdout.write(f"管理员账号已存在：{'、'.join(existing) or username}")
            return
        try:
            with translation.override(settings.LANGUAGE_CODE):  # the policy's messages in Chinese
                password, _generated = from_environment("SHUYUAN_ADMIN_PASSWORD", User(username=username))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"已创建管理员账号：{username}  密码：{password}"))
