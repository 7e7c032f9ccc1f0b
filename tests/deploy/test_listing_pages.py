"""One edit re-renders only the listing page that shows the article (``deploy.affected``): whatever the
incremental publish did, a full rebuild afterwards finds nothing to upload, for an edit in place (one
listing page) and for a change of the date the column sorts by (the whole column)."""

from __future__ import annotations

import datetime as dt

from deploy.service import publish
from tests.factories import ArticlePageFactory


def _column(site, n=45):
    articles = [
        ArticlePageFactory(parent=site.news, title=f"支部动态第{i:02d}期", date=dt.date(2025, 1, 1) + dt.timedelta(days=i))
        for i in range(n)
    ]
    for article in articles:
        article.save_revision().publish()
    return articles


def test_an_edit_in_place_rewrites_one_listing_page_and_matches_a_full_build(site, folder_target):
    articles = _column(site)
    publish(full=True, target=folder_target)
    oldest = articles[0]  # on the last page of the column's listing
    oldest.title = "修改后的第一期"
    oldest.save_revision().publish()
    result = publish(target=folder_target)
    assert result.plan.routes == {site.news.pk: {"page/3/"}}  # the one listing page that shows it
    changed = {e.path for e in result.diff.changed}
    listing = [p for p in changed if p.startswith("zh-hans/news/") and "index.html" in p and p.count("/") <= 4]
    assert any("修改后的第一期".encode() in folder_target.read(p) for p in listing), listing
    again = publish(full=True, target=folder_target).run
    assert again.uploaded == 0 and again.deleted == 0, (again.uploaded, again.deleted)


def test_a_changed_sort_date_rebuilds_the_column_and_matches_a_full_build(site, folder_target):
    articles = _column(site)
    publish(full=True, target=folder_target)
    moved = articles[0]
    moved.date = dt.date(2026, 6, 1)  # from the last listing page to the first
    moved.save_revision().publish()
    result = publish(target=folder_target)
    assert site.news.pk not in result.plan.routes  # the whole column
    assert moved.title.encode() in folder_target.read("zh-hans/news/index.html")
    again = publish(full=True, target=folder_target).run
    assert again.uploaded == 0 and again.deleted == 0, (again.uploaded, again.deleted)
