"""Send the reminders that are due now (for cron), list what would go, or start the worker's chain."""

from django.core.management.base import BaseCommand

from members.services import due_reminders, recipient_counts, send_due
from members.tasks import ensure_reminder_schedule


class Command(BaseCommand):
    help = "发送已到发送时间的提醒，并记录每位会员的发送结果。"

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只列出到期的提醒及其收件人数，不发送")
        parser.add_argument("--schedule", action="store_true", help="同时启动定期发送的后台任务链（需要 db_worker 运行）")

    def handle(self, *args, **options):
        if options["dry_run"]:
            due = list(due_reminders())
            for reminder in due:
                counts = recipient_counts(reminder)
                self.stdout.write(
                    f"#{reminder.pk} {reminder.title}：收件人 {counts['recipients']}，其中不发送 {counts['skipped']}"
                )
            self.stdout.write(f"到期提醒 {len(due)} 条（演练，未发送）。")
        else:
            outcomes = send_due()
            for o in outcomes:
                c = o.counts
                self.stdout.write(
                    f"#{o.reminder_id} {o.status}：已发送 {c['sent']}，失败 {c['failed']}，不发送 {c['skipped']}"
                )
            self.stdout.write(f"发送提醒 {len(outcomes)} 条。")
        if options["schedule"]:
            ensure_reminder_schedule()
            self.stdout.write("已启动定期发送（需要 db_worker 运行）。")
