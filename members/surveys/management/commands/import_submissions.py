"""Import the survey and mailbox submissions the public service wrote to its inbox (re-runnable)."""

from django.core.management.base import BaseCommand, CommandError

from members.surveys.inbox import import_inbox, inbox_path


class Command(BaseCommand):
    help = "导入公开服务收件箱中的问卷与来信（可重复运行，不会重复导入）。"

    def add_arguments(self, parser):
        parser.add_argument("--inbox", default=None, help="收件箱目录（默认 SHUYUAN_FORMS_INBOX）")
        parser.add_argument("--schedule", action="store_true",
                            help="只启动后台定时导入（每 SHUYUAN_FORMS_IMPORT_INTERVAL 秒，由 db_worker 执行）")

    def handle(self, *args, inbox=None, schedule=False, **options):
        if schedule:
            from members.surveys.tasks import ensure_import_schedule

            ensure_import_schedule()
            self.stdout.write("已启动后台定时导入。")
            return
        if not inbox and inbox_path() is None:
            raise CommandError("未配置 SHUYUAN_FORMS_INBOX，也未给出 --inbox。")
        result = import_inbox(inbox)
        for name, reason in result.rejected:
            self.stderr.write(f"未导入 {name}：{reason}")
        self.stdout.write(f"导入 {result.imported} 份，已导入过 {result.already} 份，未导入 {len(result.rejected)} 份。")
