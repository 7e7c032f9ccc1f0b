from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cms.orgs.models import Organisation
from cms.orgs.services import create_unit


class Command(BaseCommand):
    help = "新建组织单位：所辖页面、文件集和编辑、审核、管理员三个用户组一步建成。"

    def add_arguments(self, parser):
        parser.add_argument("code", help="编码，两位一级，例如 01、0101")
        parser.add_argument("name", help="单位名称")
        parser.add_argument("--parent", help="上级单位的编码（党委不填）")
        parser.add_argument("--publish", action="store_true", help="发布新建的栏目页")

    def handle(self, *args, code, name, parent, publish, **options):
        parent_unit = None
        if parent:
            parent_unit = Organisation.objects.filter(code=parent).first()
            if parent_unit is None:
                raise CommandError(f"上级单位 {parent} 不存在。")
        try:
            unit = create_unit(code, name, parent=parent_unit, publish=publish)
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from error
        self.stdout.write(f"已新建 {unit}：页面“{unit.root_page.title}”，文件集“{unit.collection.name}”。")
