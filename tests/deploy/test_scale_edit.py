"""One edit at scale (issue #13, item 6): what a one-page publish writes must stay small whatever the
size of the site, without weakening the secrecy check or what a rollback restores.

* a release that changes a few entries is archived as its difference from the release before it
  (``deploy.releases.Archive``): kilobytes, not the whole manifest; restoring it (or an earlier one)
  gives back exactly the state it recorded, and collecting old releases keeps the bases kept ones need;
* an edit in place rewrites the one listing page that shows the article, never the column's others;
* the secrecy check still refuses a non-public page that an incremental build would write.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from deploy import publisher as publisher_mod
from deploy.checks import SecrecyError
from deploy.manifest import RenderedObject
from deploy.models import PublishRun
from deploy.releases import Archive, RollbackError, rollback
from deploy.service import publish
from tests.factories import ArticlePageFactory

from .test_publish import assert_consistent, manifest_of, site_paths
from .test_releases import bodies_of, releases_on  # noqa: F401 (a fixture)


def _edit(page, title):
    page.title = title
    page.save_revision().publish()


def _release_files(archive_dir, store):
    return {p.name for p in (archive_dir / store.root / "releases").iterdir()}


# -- what must never happen (first) -------------------------------------------------------------------
def test_the_secrecy_check_refuses_a_hidden_page_an_incremental_build_writes(site, folder_target, monkeypatch):
    publish(full=True, target=folder_target)
    before = {p: folder_target.read(p) for p in site_paths(folder_target)}
    hidden = site.members_article
    real_build = publisher_mod.build

    def leaky_build(plan, renderer, progress=publisher_mod._noop):
        out = real_build(plan, renderer, progress)
        # a bug upstream renders a members-only page into an incremental build
        out.add(RenderedObject(
            path=hidden.url.lstrip("/") + "index.html", body=b"<html>members only</html>",
            content_type="text/html; charset=utf-8", cache_control="no-cache", group=f"page:{hidden.pk}",
            url=hidden.url,
        ))
        return out

    monkeypatch.setattr(publisher_mod, "build", leaky_build)
    _edit(site.articles[0], "只改了一篇文章")
    with pytest.raises(SecrecyError, match=str(hidden.pk)):
        publish(target=folder_target)
    assert {p: folder_target.read(p) for p in site_paths(folder_target)} == before  # nothing uploaded
    assert PublishRun.objects.first().status == PublishRun.Status.FAILED


def test_a_delta_that_does_not_add_up_is_never_restored(site, folder_target, releases_on):  # noqa: F811
    publish(full=True, target=folder_target)
    _edit(site.articles[0], "第二版")
    publish(target=folder_target)
    _edit(site.articles[0], "第三版")
    publish(target=folder_target)
    store = Archive.for_target(folder_target)
    # release 2's delta is rewritten against another state than release 1 holds
    name = releases_on / store.root / "releases" / "00000002.delta.json.gz"
    data = json.loads(gzip.decompress(name.read_bytes()))
    data["removed"].append(next(iter(store.manifest(1).entries)))
    name.write_bytes(gzip.compress(json.dumps(data).encode()))
    assert store.manifest(2) is None
    before = bodies_of(folder_target)
    with pytest.raises(RollbackError, match="不在存档"):
        rollback(2, target=folder_target)
    assert bodies_of(folder_target) == before


# -- what it does -------------------------------------------------------------------------------------
def test_a_one_page_release_is_archived_as_its_changes_and_rolls_back_exactly(site, folder_target, releases_on):  # noqa: F811
    publish(full=True, target=folder_target)
    one = bodies_of(folder_target)
    m1 = manifest_of(folder_target)
    _edit(site.articles[0], "只改了这一篇")
    result = publish(target=folder_target)
    assert result.run.status == PublishRun.Status.SUCCEEDED and result.diff.changed
    store = Archive.for_target(folder_target)
    files = _release_files(releases_on, store)
    assert "00000001.json.gz" in files and "00000002.delta.json.gz" in files
    assert "00000002.json.gz" not in files  # not the whole manifest again
    whole = (releases_on / store.root / "releases" / "00000001.json.gz").stat().st_size
    delta = (releases_on / store.root / "releases" / "00000002.delta.json.gz").stat().st_size
    assert delta * 2 < whole, (delta, whole)
    data = json.loads(gzip.decompress((releases_on / store.root / "releases" / "00000002.delta.json.gz").read_bytes()))
    assert len(data["set"]) * 4 < len(m1.entries) and data["count"] == len(m1.entries)
    changed = {e.path for e in (*result.diff.added, *result.diff.changed)}
    assert {e["path"] for e in data["set"]} == changed and data["base"] == 1
    # the release rebuilt from its delta is exactly what the target holds
    assert store.manifest(2).entries == manifest_of(folder_target).entries
    assert store.manifest(1).entries == m1.entries

    run = rollback(1, target=folder_target).run
    assert run.status == PublishRun.Status.SUCCEEDED and run.warnings == []
    assert bodies_of(folder_target) == one
    assert {p: e.sha256 for p, e in manifest_of(folder_target).entries.items()} == {
        p: e.sha256 for p, e in m1.entries.items()
    }
    assert_consistent(folder_target)
    rollback(2, target=folder_target)
    assert "只改了这一篇".encode() in folder_target.read(site.articles[0].url.lstrip("/") + "index.html")
    assert_consistent(folder_target)


def test_collecting_keeps_the_base_of_a_kept_delta_but_forgets_it(site, folder_target, releases_on, settings):  # noqa: F811
    settings.SHUYUAN_RELEASES_KEEP = 2
    a = site.articles[0]
    publish(full=True, target=folder_target)
    states = {}
    for i in range(2, 5):
        _edit(a, f"第{i}版标题")
        publish(target=folder_target)
        states[i] = bodies_of(folder_target)
    store = Archive.for_target(folder_target)
    assert store.numbers() == [3, 4]
    files = _release_files(releases_on, store)
    # release 1 (kept whole) is the base of 3 and 4's deltas: kept, but no longer restorable
    assert "00000001.json.gz" in files and "00000001.forgotten" in files
    assert store.manifest(1) is None and store.manifest(2) is None
    with pytest.raises(RollbackError, match="不在存档"):
        rollback(1, target=folder_target)
    rollback(3, target=folder_target)  # release 5 (a sweep: SWEEP_EVERY)
    assert bodies_of(folder_target) == states[3]
    assert store.numbers() == [4, 5]
    archived = {p.name for p in (releases_on / store.root / "blobs").rglob("*") if p.is_file()}
    used = {e.sha256 for n in (4, 5) for e in store.manifest(n).entries.values()}
    assert archived == used  # bodies only forgotten releases used are swept
    rollback(4, target=folder_target)
    assert bodies_of(folder_target) == states[4]
    assert_consistent(folder_target)


def test_an_edit_on_the_first_listing_page_leaves_the_later_ones_alone(site, folder_target):
    articles = [
        ArticlePageFactory(parent=site.news, title=f"第{i:02d}期", date=dt.date(2025, 1, 1) + dt.timedelta(days=i))
        for i in range(45)
    ]
    for article in articles:
        article.save_revision().publish()
    publish(full=True, target=folder_target)
    news = site.news.url.lstrip("/")
    later = {p: folder_target.read(p) for p in site_paths(folder_target) if p.startswith(news + "page/")}
    assert {news + "page/2/index.html", news + "page/3/index.html"} <= set(later)
    _edit(articles[-1], "最新一期改了标题")  # the newest: on the first listing page
    result = publish(target=folder_target)
    assert result.plan.routes == {site.news.pk: {""}}
    written = {e.path for e in (*result.diff.added, *result.diff.changed)}
    assert news + "index.html" in written
    assert not [p for p in written if p.startswith(news + "page/")]
    assert {p: folder_target.read(p) for p in later} == later
    assert "最新一期改了标题".encode() in folder_target.read(news + "index.html")
    again = publish(full=True, target=folder_target).run
    assert again.uploaded == 0 and again.deleted == 0, (again.uploaded, again.deleted)
