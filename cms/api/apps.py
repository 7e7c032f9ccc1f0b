from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "cms.api"
    label = "shuyuan_api"
    verbose_name = "书苑 API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core.checks import register

        from cms import changes

        from .content import bump_content_version
        from .throttling import check_throttle_cache

        register(check_throttle_cache)  # the rate limits' cache alias must exist (SHUYUAN_API["THROTTLE_CACHE"])
        # Every content change (cms.changes: pages, restrictions, sites, locales, images, documents,
        # taxonomy terms, tags...) can change what a caller may list or what a listed item says: it moves
        # the content version that keys every cached listing fact and response, inside the editor's
        # transaction, so a rolled-back edit rolls the version back too.
        changes.register("api", lambda rows: bump_content_version(), immediate=True)
