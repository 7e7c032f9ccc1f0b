"""Check the 红色云图 links now (for cron), or start the worker's scheduled checks."""

from django.core.management.base import BaseCommand

from cms.dashboard.links import check_links
from cms.dashboard.tasks import check_links_task, ensure_link_check_schedule


class Command(BaseCommand):
    help = "检查红色云图各场馆的外部链接，记录状态码和检查时间。"

    def add_arguments(self, parser):
        parser.add_argument("--broken", action="store_true", help="只重新检查上次失效的链接")
        parser.add_argument("--enqueue", action="store_true", help="交给后台任务执行，而不是现在执行")
        parser.add_argument("--schedule", action="store_true", help="同时启动定期检查的后台任务链（需要 db_worker 运行）")

    def handle(self, *args, **options):
        if options["enqueue"]:
            check_links_task.enqueue(only_broken=options["broken"])
            self.stdout.write("已交给后台任务。")
        else:
            counts = check_links(only_broken=options["broken"])
            self.stdout.write(f"检查 {counts['checked']} 个链接：正常 {counts['ok']}，失效 {counts['broken']}")
        if options["schedule"]:
            ensure_link_check_schedule()
            self.stdout.write("已启动定期检查（需要 db_worker 运行）。")
