"""One publish reads the visibility rule once (issue #13, item 6: one edit at 100,000 pages).

``deploy.feeds.build_scope`` holds one ``cms.visibility.Rule`` (and the languages with a sitemap) for
the length of one publish, so the plan, the build, the feeds, sitemaps, redirects and the theme's site
index stop reading the restrictions, hidden branches and untranslated copies again and again. What must
never happen: a scope outliving its publish, so that a restriction or a withdrawal made between two
publishes is not seen by the second.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from cms import visibility
from deploy import feeds
from deploy.feeds import build_scope, current_scope
from deploy.service import publish

from .test_publish import assert_consistent, site_paths

ROOT = Path(__file__).resolve().parents[2]


def _public_ids() -> set[int]:
    return set(feeds.public_pages().values_list("pk", flat=True))


# -- what must never happen (first) -------------------------------------------------------------------
def test_a_scope_never_outlives_its_publish(site, folder_target):
    publish(full=True, target=folder_target)
    assert current_scope() is None
    article = site.articles[1]
    with build_scope() as first:
        assert article.pk in _public_ids()
    assert current_scope() is None
    article.audience = "members"
    article.save_revision().publish()
    # the next scope (the next publish) reads the restriction, whatever the first one held
    with build_scope() as second:
        assert second is not first
        assert article.pk not in _public_ids()
    assert article.pk not in _public_ids()  # outside a scope: read afresh
    publish(target=folder_target)
    assert article.url.lstrip("/") + "index.html" not in site_paths(folder_target)
    assert article.url.encode() not in folder_target.read("zh-hans/news/index.html")
    assert article.url not in folder_target.read("zh-hans/sitemap.xml").decode()
    assert_consistent(folder_target)


def test_a_page_withdrawn_without_a_signal_between_two_publishes_goes(site, folder_target, settings):
    publish(full=True, target=folder_target)
    publish(target=folder_target)  # a publish that read the rule with the page public
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "AUTO_PUBLISH": False}
    from wagtail.models import Page

    Page.objects.filter(pk=site.articles[2].pk).update(live=False)  # bypasses every signal
    publish(target=folder_target)
    assert site.articles[2].url.lstrip("/") + "index.html" not in site_paths(folder_target)
    assert site.articles[2].url.encode() not in folder_target.read("zh-hans/news/index.html")


def test_a_failed_publish_leaves_no_scope_behind(site, folder_target, monkeypatch):
    from deploy import publisher as publisher_mod

    publish(full=True, target=folder_target)

    def broken(*a, **k):
        raise RuntimeError("render failed")

    monkeypatch.setattr(publisher_mod, "build", broken)
    site.articles[0].title = "改了标题"
    site.articles[0].save_revision().publish()
    try:
        publish(target=folder_target)
    except RuntimeError:
        pass
    assert current_scope() is None


# -- what one publish reads ------------------------------------------------------------------------------
def test_one_edit_builds_the_rule_once_for_the_publishers_own_steps(site, folder_target, monkeypatch):
    publish(full=True, target=folder_target)
    callers: list[str] = []
    real_init = visibility.Rule.__init__

    def counting_init(self):
        frame = inspect.currentframe().f_back
        while frame.f_code.co_filename.endswith("cms/visibility.py"):  # public_q(), pages_visible_to() ...
            frame = frame.f_back
        filename = frame.f_code.co_filename
        callers.append(str(Path(filename).relative_to(ROOT)) if filename.startswith(str(ROOT)) else filename)
        real_init(self)

    monkeypatch.setattr(visibility.Rule, "__init__", counting_init)
    site.articles[0].title = "只改一篇"
    site.articles[0].save_revision().publish()
    result = publish(target=folder_target)
    assert result.run.rendered >= 2  # the article and its column at least
    ours = [c for c in callers if c.startswith("deploy/") or c == "site_theme/site_index.py"]
    assert ours == ["deploy/feeds.py"], callers
    assert b"\xe5\x8f\xaa\xe6\x94\xb9\xe4\xb8\x80\xe7\xaf\x87" in folder_target.read(
        site.articles[0].url.lstrip("/") + "index.html")


def test_the_languages_with_a_sitemap_are_read_once_per_publish(site, folder_target, monkeypatch):
    publish(full=True, target=folder_target)
    calls = []
    real = feeds._sitemap_languages

    def counting(public):
        calls.append(1)
        return real(public)

    monkeypatch.setattr(feeds, "_sitemap_languages", counting)
    site.articles[0].title = "站点地图只算一次"
    site.articles[0].save_revision().publish()
    publish(target=folder_target)
    assert len(calls) == 1
    # and the sitemaps it wrote still list every language's public pages
    # (in whichever chunk holds its page id: a sitemap is split by page ids, which run high on PostgreSQL)
    sitemaps = [p for p in folder_target.list_paths() if p.startswith("zh-hans/sitemap") and p.endswith(".xml")]
    assert any(site.articles[0].url in folder_target.read(p).decode() for p in sitemaps), sitemaps
    calls.clear()
    publish(full=True, target=folder_target)
    assert len(calls) == 1
    assert "/zh-hans/sitemap.xml" in folder_target.read("sitemap.xml").decode()


# -- where an edited article stands in its column -------------------------------------------------------
def _column_with_articles(site, n, same_date=None):
    import datetime as dt

    from tests.factories import ArticlePageFactory

    made = []
    for i in range(n):
        date = same_date or dt.date(2024, 1, 1) + dt.timedelta(days=i)
        made.append(ArticlePageFactory(parent=site.news, date=date))
    # as published through the CMS (the factory leaves it empty): a null sort value takes the slow path
    from django.utils import timezone
    from wagtail.models import Page

    for i, page in enumerate(Page.objects.child_of(site.news).order_by("pk")):
        Page.objects.filter(pk=page.pk).update(first_published_at=timezone.now() - dt.timedelta(hours=i))
    return made


def test_the_position_of_an_article_in_its_column_is_where_the_full_listing_has_it(site):
    from deploy.affected import _position_in

    _column_with_articles(site, 45)
    listing = site.news.specific.articles(None)
    ids = list(listing.values_list("pk", flat=True))
    assert len(ids) > 40
    for pk in ids:
        assert _position_in(listing, pk, 20) == ids.index(pk)
    assert _position_in(listing, site.members_article.pk, 20) is None  # not listed for the public
    assert _position_in(listing, site.internal_article.pk, 20) is None


def test_the_position_is_found_from_one_listing_page_not_the_whole_column(site):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from deploy.affected import _position_in

    _column_with_articles(site, 45)
    listing = site.news.specific.articles(None)
    ids = list(listing.values_list("pk", flat=True))
    target = ids[27]
    with CaptureQueriesContext(connection) as queries:
        assert _position_in(listing, target, 20) == 27
    assert len(queries.captured_queries) == 4  # its sort values, nulls in the way, the count, the page
    # every query is bounded (LIMIT) or an aggregate: no query reads the column's ids
    assert all("LIMIT" in q["sql"].upper() or "COUNT(" in q["sql"].upper() for q in queries.captured_queries), [
        q["sql"][-300:] for q in queries.captured_queries]


def test_articles_tied_on_every_sort_field_still_get_the_listing_page_that_shows_them(site):
    import datetime as dt

    from wagtail.models import Page

    from deploy.affected import _position_in

    made = _column_with_articles(site, 30, same_date=dt.date(2024, 5, 1))
    from django.utils import timezone

    when = timezone.now()
    Page.objects.filter(pk__in=[p.pk for p in made]).update(first_published_at=when)  # a full tie
    listing = site.news.specific.articles(None)
    ids = list(listing.values_list("pk", flat=True))
    for pk in ids:
        index = _position_in(listing, pk, 20)
        assert index is not None and index // 20 == ids.index(pk) // 20
