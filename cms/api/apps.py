from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cms.api"
    label = "shuyuan_api"
    verbose_name = "书苑 API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save
        from wagtail.images import get_image_model
        from wagtail.models import Page, PageViewRestriction
        from wagtail.signals import page_published, page_unpublished

        from .content import bump_content_version

        # Anything that can change which images a caller may list invalidates the cached id lists.
        for signal in (post_save, post_delete):
            signal.connect(self._page_changed, dispatch_uid=f"shuyuan_api_pages_{signal}")
            signal.connect(bump_content_version, sender=PageViewRestriction, dispatch_uid=f"shuyuan_api_pvr_{signal}")
            signal.connect(bump_content_version, sender=get_image_model(), dispatch_uid=f"shuyuan_api_img_{signal}")
        m2m_changed.connect(bump_content_version, sender=PageViewRestriction.groups.through, dispatch_uid="shuyuan_api_pvr_m2m")
        page_published.connect(bump_content_version, dispatch_uid="shuyuan_api_published")
        page_unpublished.connect(bump_content_version, dispatch_uid="shuyuan_api_unpublished")
        self._page_model = Page

    def _page_changed(self, sender, **kwargs):
        from .content import bump_content_version

        if issubclass(sender, self._page_model):
            bump_content_version()
