"""What makes full builds fast stays correct: bulk loading, remembered listings, shared theme lookups.

The byte-for-byte comparison with the full request stack is ``test_client_mode_renders_the_same_pages``;
these tests pin the pieces: query counts that do not grow with the number of pages, in-memory listing
filters that agree with the database, URLs computed without ``reverse()`` that agree with Wagtail's.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Locale, Page

from cms.visibility import public_pages
from deploy.parallel import worker_count
from deploy.preload import load_specific, remember
from deploy.render import Renderer
from site_theme.page_urls import PageURLs
from tests.factories import ArticlePageFactory


def _render(pages) -> int:
    renderer = Renderer()
    renderer.prepare()
    locales = {loc.pk: loc for loc in Locale.objects.all()}
    rows = list(Page.objects.filter(pk__in=[p.pk for p in pages]).order_by("path").values_list("pk", "content_type_id"))
    with CaptureQueriesContext(connection) as queries:
        for page in load_specific(rows, locales):
            renderer.render_page(page)
    return len(queries.captured_queries)


def test_page_queries_do_not_grow_with_the_number_of_pages(site):
    few = _render(site.articles[:1])
    more = [ArticlePageFactory(parent=site.news) for _ in range(6)]
    many = _render([*site.articles, *more])
    # loading is per page type and rendering from shared lookups: a handful of queries, not per page
    assert many <= few + 2, (few, many)


def test_remembered_listing_filters_agree_with_the_database(site):
    library = site.library.specific
    queryset = library.materials(None)
    remembered = remember(queryset)
    assert [m.pk for m in remembered] == [m.pk for m in queryset]
    mtype = site.materials[0].material_type
    topic = site.materials[0].topics.first()
    for lookup, value in (
        ("material_type__translation_key", mtype.translation_key),
        ("topics__translation_key", topic.translation_key),
        ("doc_number", site.materials[0].doc_number),
    ):
        in_memory = remembered.filter(**{lookup: value})
        in_db = queryset.filter(**{lookup: value})
        assert [m.pk for m in in_memory] == [m.pk for m in in_db], lookup
        assert in_memory.count() == in_db.count()
    # a lookup it doesn't evaluate itself goes to the database
    assert [m.pk for m in remembered.filter(title__startswith="x")] == [
        m.pk for m in queryset.filter(title__startswith="x")
    ]
    assert sorted(remembered.values_list("pk", flat=True)) == sorted(queryset.values_list("pk", flat=True))


def test_page_urls_agree_with_wagtail(site):
    renderer = Renderer()
    request = renderer.request("/")
    urls = PageURLs(request)
    for page in Page.objects.filter(depth__gt=1):
        assert urls.url(page.url_path) == page.get_url(request=request), page.url_path


def test_column_pages_link_their_feeds(site, folder_target):
    from deploy.service import publish

    publish(full=True, target=folder_target)
    html = folder_target.read(site.news.url.lstrip("/") + "index.html").decode()
    rss, atom = f"/zh-hans/feeds/{site.news.pk}/rss.xml", f"/zh-hans/feeds/{site.news.pk}/atom.xml"
    assert 'type="application/rss+xml"' in html and f'href="{rss}"' in html
    assert 'type="application/atom+xml"' in html and f'href="{atom}"' in html
    assert folder_target.read(rss.lstrip("/")) and folder_target.read(atom.lstrip("/"))


def test_no_worker_processes_inside_a_transaction_or_an_in_memory_database(site, settings):
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "RENDER_WORKERS": 4, "PARALLEL_MIN_PAGES": 0}
    # forked workers could not see this test's uncommitted pages
    assert worker_count(public_pages().count()) == 1
