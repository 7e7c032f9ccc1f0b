"""Create or repair the three administrator groups (三员分立); safe to re-run."""

from django.core.management.base import BaseCommand, CommandError

from cms.audit.roles import AUDIT_ADMINS, SECURITY_ADMINS, SYSTEM_ADMINS, ensure_roles


class Command(BaseCommand):
    help = "创建（或修复）系统管理员、安全管理员、审计管理员三个用户组；可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--system", nargs="*", default=[], metavar="USERNAME", help="加入系统管理员的账号"
        )
        parser.add_argument(
            "--security", nargs="*", default=[], metavar="USERNAME", help="加入安全管理员的账号"
        )
        parser.add_argument("--audit", nargs="*", default=[], metavar="USERNAME", help="加入审计管理员的账号")

    def handle(self, *args, **options):
        members = {
            SYSTEM_ADMINS: options["system"],
            SECURITY_ADMINS: options["security"],
            AUDIT_ADMINS: options["audit"],
        }
        try:
            report = ensure_roles(members={k: v for k, v in members.items() if v})
        except LookupError as e:
            raise CommandError(str(e)) from e
        for name in report.created:
            self.stdout.write(f"已创建用户组：{name}")
        for name in report.updated:
            self.stdout.write(f"已更新用户组权限：{name}")
        if report.skipped_permissions:
            self.stdout.write(f"以下权限尚不存在，已跳过：{', '.join(report.skipped_permissions)}")
        self.stdout.write(self.style.SUCCESS("三员分立用户组已就绪。"))
