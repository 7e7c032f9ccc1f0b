"""Background jobs of the CMS itself."""

from django.conf import settings
from django_tasks import task
from wagtail.models import Locale, Page

from cms.translation import translate_page


@task()
def sync_traditional_translation(page_id: int) -> str:
    """Bring the zh-hant copy of a published zh-hans page up to date (OpenCC conversion).

    Runs after every publish of a source page, so the traditional-Chinese site never lags behind.
    Safe to re-run: only new or changed strings are converted, and an unchanged page gets no new
    revision from the conversion step.
    """
    page = Page.objects.filter(pk=page_id, locale__language_code=settings.LANGUAGE_CODE).first()
    target = Locale.objects.filter(language_code="zh-hant").first()
    if page is None or target is None or page.depth < 2 or not page.live:
        return "skipped"
    translate_page(page, target)
    return "synced"
