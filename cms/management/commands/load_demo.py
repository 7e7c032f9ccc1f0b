from django.core.management.base import BaseCommand

from cms.demo import load_demo


class Command(BaseCommand):
    help = "Build the demo site (safe to re-run). --pages N adds N generated pages for scale tests."

    def add_arguments(self, parser):
        parser.add_argument("--pages", type=int, default=0, help="generated articles and materials to add")
        parser.add_argument("--no-translations", action="store_true", help="skip zh-hant and en copies")

    def handle(self, *args, pages, no_translations, **options):
        if pages < 0:
            self.stderr.write("--pages must be zero or more")
            raise SystemExit(2)
        summary = load_demo(pages=pages, log=self.stdout.write, translate=not no_translations)
        if summary.created:
            for kind, n in summary.created.items():
                self.stdout.write(f"  新建 {kind}: {n}")
        else:
            self.stdout.write("示例内容已是最新，无需新建。")
