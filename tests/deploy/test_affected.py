"""What a change affects (``deploy.affected.PlanBuilder``): the groups, and what working them out costs."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from deploy.affected import PlanBuilder
from tests.factories import ArticlePageFactory


def _subtree_change(page_id: int):
    builder = PlanBuilder()
    with CaptureQueriesContext(connection) as queries:
        builder.page_changed(page_id, subtree=True, reason="moved")
    return len(queries.captured_queries), builder.plan


def test_a_subtree_change_costs_the_same_queries_whatever_its_size(site, settings):
    # columns are site-wide by default (a full build); one level up, a column's subtree is its articles
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "SITE_WIDE_DEPTH": 2}
    _subtree_change(site.notices.pk)  # warms Django's content type cache
    few, plan = _subtree_change(site.news.pk)
    assert not plan.full
    small = {a.pk for a in site.articles} | {site.members_article.pk}
    assert {site.news.pk, site.home.pk} | small <= plan.page_ids
    assert small <= plan.feed_ids and plan.languages == {"zh-hans"}

    more = [ArticlePageFactory(parent=site.news) for _ in range(12)]
    linking = ArticlePageFactory(
        parent=site.notices, body=[("paragraph", f'<p><a linktype="page" id="{more[-1].pk}">相关文章</a></p>')]
    )
    many, plan = _subtree_change(site.news.pk)
    assert many == few, (few, many)
    assert not plan.full
    assert small | {p.pk for p in more} <= plan.page_ids
    # a page elsewhere linking to a page of the subtree shows its (possibly new) URL
    assert linking.pk in plan.page_ids
    assert site.notices.pk not in plan.page_ids and site.library.pk not in plan.page_ids


def test_a_site_wide_or_deleted_page_needs_no_subtree(site):
    builder = PlanBuilder()
    builder.page_changed(site.news.pk, subtree=True)
    assert builder.plan.full and f"页面 {site.news.pk} 出现在每个页面上" in builder.plan.reasons
    builder = PlanBuilder()
    builder.page_changed(999999, subtree=True, reason="deleted")
    assert not builder.plan.full and builder.plan.page_ids == {999999} == builder.plan.feed_ids
