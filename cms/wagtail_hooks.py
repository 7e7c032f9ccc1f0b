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


@hooks.register("register_admin_urls")
def bulk_translate_urls():
    from cms.bulk_translate import admin_urls

    return admin_urls()


@hooks.register("register_page_header_buttons")
def bulk_translate_button(page, user, view_name=None, next_url=None):
    from cms.bulk_translate import header_buttons

    return header_buttons(page, user, view_name, next_url)


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


# -- a new page's form and its autosaved draft ------------------------------------------------------------
#: the hidden field naming one opening of a new page's form (cms/templates/wagtailadmin/pages/create.html)
NEW_PAGE_FORM_KEY = "shuyuan_form_key"
#: how long a publish waits for an autosave of the same form that is still being saved
AUTOSAVE_WAIT_SECONDS = 10
#: how long the page an opening of the form created is remembered
NEW_PAGE_REMEMBERED_SECONDS = 24 * 3600


def _new_page_keys(request) -> tuple[str, str] | None:
    """Cache keys for this opening of the form: (an autosave is creating its page, the page it created)."""
    key = request.POST.get(NEW_PAGE_FORM_KEY, "")
    if not (key.isdigit() and len(key) <= 32 and request.user.is_authenticated):
        return None
    base = f"shuyuan:new-page-form:{request.user.pk}:{key}"
    return f"{base}:saving", f"{base}:page"


def _page_made_by_this_form(made: str, parent_page, page_class):
    from django.core.cache import cache

    page_id = cache.get(made)
    if page_id is None:
        return None
    page = page_class.objects.filter(pk=page_id, path__startswith=parent_page.path, depth=parent_page.depth + 1)
    return page.first() or False


@hooks.register("before_create_page")
def continue_the_autosaved_draft(request, parent_page, page_class):
    """A new page's form autosaves: its first autosave creates the page (a draft) and the browser then
    sends the form to that page's edit view. A 发布 (or 保存草稿, 提交审核) clicked before the browser
    learned of the draft still goes to the create view, which used to create a second page and fail on
    the draft's slug, leaving the draft behind. The form carries a key per opening; the page its
    autosave created is remembered under it, and a later request from the same opening updates that
    page through Wagtail's edit view (permissions, locks, workflow and hooks as for any edit). A publish
    arriving while that autosave is still being saved waits for it (at most ``AUTOSAVE_WAIT_SECONDS``)."""
    import time

    from django.core.cache import cache
    from wagtail.admin.views.pages.edit import EditView

    keys = _new_page_keys(request) if request.method == "POST" else None
    if keys is None:
        return None
    saving, made = keys
    autosave = not request.accepts("text/html")
    deadline = time.monotonic() + AUTOSAVE_WAIT_SECONDS
    while True:
        page = _page_made_by_this_form(made, parent_page, page_class)
        if page:
            return EditView.as_view()(request, page_id=page.pk)
        if page is False:
            return None  # the page was moved or deleted meanwhile: make a new one
        if autosave:
            cache.set(saving, True, AUTOSAVE_WAIT_SECONDS)
            return None
        if cache.get(saving) is None or time.monotonic() > deadline:
            return None
        time.sleep(0.1)


@hooks.register("after_create_page")
def remember_the_new_page(request, page):
    """Remember which page this opening of the form created, once it is committed."""
    from django.core.cache import cache
    from django.db import transaction

    keys = _new_page_keys(request)
    if keys is None:
        return
    saving, made = keys

    def remember():
        cache.set(made, page.pk, NEW_PAGE_REMEMBERED_SECONDS)
        cache.delete(saving)

    transaction.on_commit(remember)
