"""Review the live pages that have no secrecy review record yet (after an upgrade)."""

from django.core.management.base import BaseCommand

from cms.secrecy.review import review_all_live


class Command(BaseCommand):
    help = "对尚无保密审查记录的已发布页面进行保密审查（升级后运行一次）"

    def handle(self, *args, **options):
        count = review_all_live(progress=lambda page: self.stdout.write(f"已审查：{page.title}"))
        self.stdout.write(self.style.SUCCESS(f"共审查 {count} 个页面。"))
