from django.apps import AppConfig


class CmsConfig(AppConfig):
    """Page models, blocks, snippets, the visibility rule and the API router."""

    name = "cms"
    label = "cms"
    verbose_name = "内容"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import admin_csp, changes, http_checks, signals  # noqa: F401  (connects receivers, registers checks)

        # The one listener for content events: publishing, the search index and the API cache consume it.
        changes.connect()

        # Wagtail writes each chooser widget's start-up script inline from Python; the admin's CSP
        # allows no inline script, so choosers emit an inert marker that a static script acts on.
        admin_csp.install()
        # Granian never runs system checks: refuse a per-process cache with several workers here too.
        http_checks.enforce_shared_cache()
        # An inline child's reference-index job names its page, not the child row that wagtail-localize
        # replaces before the worker runs it (no failed StudyMaterialAttachment.DoesNotExist jobs).
        from .translation import index_references_through_parents

        index_references_through_parents()
