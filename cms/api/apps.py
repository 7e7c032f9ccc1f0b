from django.apps import AppConfig

# Models whose rows appear in API responses (or decide who may see them): any save or delete of one
# bumps the content version that keys every cached listing fact and response (see ``views``).
CONTENT_APPS = frozenset({"cms", "media", "taggit"})
CONTENT_MODELS = frozenset(
    {
        "wagtailcore.pageviewrestriction",
        "wagtailcore.pageviewrestriction_groups",
        "wagtailcore.site",
        "wagtailcore.locale",
    }
)

# What Wagtail writes to a page's row when an editor saves a draft, comments, or locks the page
# (``save_revision``, ``lock``): the API serves the live version, so none of these changes a response.
DRAFT_ONLY_FIELDS = frozenset(
    {
        "latest_revision",
        "latest_revision_created_at",
        "draft_title",
        "has_unpublished_changes",
        "wagtail_admin_comments",
        "locked",
        "locked_at",
        "locked_by",
    }
)


class ApiConfig(AppConfig):
    name = "cms.api"
    label = "shuyuan_api"
    verbose_name = "书苑 API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core.checks import register
        from django.db.models.signals import m2m_changed, post_delete, post_save
        from wagtail.images.models import AbstractRendition
        from wagtail.models import Page
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from .content import bump_content_version
        from .throttling import check_throttle_cache

        register(check_throttle_cache)  # the rate limits' cache alias must exist (SHUYUAN_API["THROTTLE_CACHE"])
        self._page_model = Page
        self._rendition_model = AbstractRendition
        # Anything that can change what a caller may list, or what a listed item says, invalidates the
        # cached counts, id windows, visible image ids and responses: pages (and their tags, attachments
        # and topics, which are saved after the page), restrictions, sites, locales, images, documents
        # and taxonomy terms.
        for signal in (post_save, post_delete):
            signal.connect(self._model_changed, dispatch_uid=f"shuyuan_api_content_{signal}")
        m2m_changed.connect(self._model_changed, dispatch_uid="shuyuan_api_content_m2m")
        page_published.connect(bump_content_version, dispatch_uid="shuyuan_api_published")
        page_unpublished.connect(bump_content_version, dispatch_uid="shuyuan_api_unpublished")
        post_page_move.connect(bump_content_version, dispatch_uid="shuyuan_api_moved")

    def _model_changed(self, sender, **kwargs):
        from .content import bump_content_version

        if kwargs.get("action", "post_")[:5] != "post_":
            return  # m2m_changed: only once the change is made
        if sender.__module__ == "__fake__":
            return  # a migration's historical model (the version table may not exist yet)
        meta = sender._meta
        update_fields = kwargs.get("update_fields")
        if update_fields and issubclass(sender, self._page_model) and set(update_fields) <= DRAFT_ONLY_FIELDS:
            return  # a draft saved (or a page locked): the live version the API serves is unchanged
        if issubclass(sender, self._page_model) or meta.label_lower in CONTENT_MODELS:
            bump_content_version()
        elif meta.app_label in CONTENT_APPS and not issubclass(sender, self._rendition_model):
            # New renditions are made while serialising: they change no response, so they don't count.
            bump_content_version()
