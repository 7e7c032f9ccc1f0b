import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the first administrator if none exists (SHUYUAN_ADMIN_USER / SHUYUAN_ADMIN_PASSWORD)."

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("SHUYUAN_ADMIN_USER", "admin")
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"管理员账号已存在：{username}")
            return
        password = os.environ.get("SHUYUAN_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(self.style.SUCCESS(f"已创建管理员账号：{username}  密码：{password}"))
