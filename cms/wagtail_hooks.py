"""Admin registrations of the content model: the editable taxonomies under one "分类管理" menu."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from cms.models import MaterialType, RedExhibitionCategory, Topic


class _TermViewSet(SnippetViewSet):
    list_display = ["name", "slug", "sort_order", "locale"]
    list_filter = ["locale"]
    search_fields = ["name"]
    ordering = ["sort_order", "name"]


class MaterialTypeViewSet(_TermViewSet):
    model = MaterialType
    icon = "doc-full"
    menu_label = _("资料类型")


class TopicViewSet(_TermViewSet):
    model = Topic
    icon = "tag"
    menu_label = _("学习专题")


class RedExhibitionCategoryViewSet(_TermViewSet):
    model = RedExhibitionCategory
    icon = "site"
    menu_label = _("红色场馆类别")


class TaxonomyGroup(SnippetViewSetGroup):
    items = (MaterialTypeViewSet, TopicViewSet, RedExhibitionCategoryViewSet)
    menu_icon = "folder-inverse"
    menu_label = _("分类管理")
    menu_name = "taxonomies"
    menu_order = 250


register_snippet(TaxonomyGroup)
