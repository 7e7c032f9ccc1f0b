"""Delete audit log entries older than SHUYUAN_AUDIT_RETENTION_DAYS (for cron, or to start the chain)."""

from django.core.management.base import BaseCommand

from cms.audit.retention import prune
from cms.audit.tasks import ensure_prune_schedule


class Command(BaseCommand):
    help = "删除超过保留期限的审计日志（本应用的审计事件和 Wagtail 的操作日志）。"

    def add_arguments(self, parser):
        parser.add_argument("--schedule", action="store_true", help="同时启动每日自动清理的后台任务链")

    def handle(self, *args, **options):
        deleted = prune()
        for label, n in deleted.items():
            self.stdout.write(f"{label}: 删除 {n} 条")
        if options["schedule"]:
            ensure_prune_schedule()
            self.stdout.write("已启动每日自动清理（需要 db_worker 运行）。")
