"""Admin registrations of the content model: the editable taxonomies under one "分类管理" menu; and
how translations follow their zh-hans source (moves in the admin, serving on the CMS front end, the
log entry of a copy withdrawn with its source)."""

from django.http import Http404
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.models import PageViewRestriction
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


@hooks.register("construct_translated_pages_to_cascade_actions")
def translations_move_with_their_source(pages, action):
    """Moving a zh-hans page in the admin moves its translations to the matching translated parent
    (Wagtail's move view does the moving, as ``wagtail.contrib.simple_translation`` does with a synced
    tree), so a copy lands in the same restricted section as its source.

    Unpublish and delete are not answered here: Wagtail's cascade only reaches its single-page admin
    views, so the receivers in ``cms.signals`` withdraw copies on every path (bulk actions, scheduled
    expiry, code), and answering here too would make the views act on pages already withdrawn.
    """
    if action != "move":
        return None
    from cms.translation import followers

    return {page: followers(page).filter(alias_of__isnull=True) for page in pages}


@hooks.register("register_log_actions")
def translation_log_actions(actions):
    from cms.translation import WITHDRAWN_WITH_SOURCE

    actions.register_action(WITHDRAWN_WITH_SOURCE, _("随原文取消发布"), _("随原文一并取消发布"))


@hooks.register("on_serve_page")
def translations_follow_their_source(callback):
    """The CMS front end serves a translation only to whoever may read its source: a copy of an
    unpublished or expired source is a 404, a copy of a restricted source asks for a login as the
    source would (``cms.visibility``'s rule, applied the way Wagtail applies view restrictions)."""

    def inner(page, request, serve_args, serve_kwargs):
        from wagtail.wagtail_hooks import require_wagtail_login

        from cms import visibility
        from cms.translation import is_source

        restrictions = [] if is_source(page) else visibility.source_restrictions(page)
        if restrictions is None:
            raise Http404
        for restriction in restrictions:
            if not restriction.accept_request(request):
                if restriction.restriction_type == PageViewRestriction.PASSWORD:
                    raise Http404  # the copy cannot ask for its source's password
                response = require_wagtail_login(next=request.get_full_path())
                add_never_cache_headers(response)
                return response
        response = callback(page, request, serve_args, serve_kwargs)
        if restrictions:
            add_never_cache_headers(response)
        return response

    return inner
