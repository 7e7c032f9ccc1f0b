"""Delete study records older than SHUYUAN_STUDY_RECORDS_DAYS (for cron), or start the worker's chain."""

from django.core.management.base import BaseCommand, CommandError

from members.records.services import purge, retention_days
from members.records.tasks import ensure_purge_schedule


class Command(BaseCommand):
    help = "删除超过保存期限（SHUYUAN_STUDY_RECORDS_DAYS）的学习记录。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="保存天数（默认取 SHUYUAN_STUDY_RECORDS_DAYS）")
        parser.add_argument("--dry-run", action="store_true", help="只统计将删除的记录数，不删除")
        parser.add_argument(
            "--schedule", action="store_true", help="同时启动每日清理的后台任务链（需要 db_worker 运行）"
        )

    def handle(self, *args, **options):
        days = options["days"] if options["days"] is not None else retention_days()
        if days < 1:
            raise CommandError("--days 须为不小于 1 的整数。")
        counts = purge(days=days, dry_run=options["dry_run"])
        verb = "将删除" if options["dry_run"] else "已删除"
        self.stdout.write(
            f"{verb}{days} 天以前的阅读记录 {counts['readings']} 条、测评记录 {counts['quizzes']} 条。"
        )
        if options["schedule"]:
            ensure_purge_schedule()
            self.stdout.write("已启动每日清理（需要 db_worker 运行）。")
