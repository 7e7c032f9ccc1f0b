"""What keeps one edit cheap on a large site (issue #13, Scale), and what it must not weaken.

The secrecy check reads the page table in one pass and looks the hidden pages' folders up in the sorted
manifest: it must still refuse every object of a page that is not public now, whichever publish put it
there. The manifest reuses the JSON of the entries it wrote before: never for an entry that changed. An
edit rebuilds one sitemap chunk (and the first), and the sitemap index comes from what the target holds:
it must say the same as the index a full build writes.
"""

from __future__ import annotations

import pytest
from wagtail.models import Page, PageViewRestriction

from cms.visibility import public_pages
from deploy.checks import SecrecyError, check_secrecy, independently_public_ids, paths_under
from deploy.manifest import MANIFEST_PATH, Entry, Manifest
from deploy.service import publish
from deploy.targets import get_target


def manifest_of(target) -> Manifest:
    return Manifest.from_bytes(target.read(MANIFEST_PATH))


def folder_of(page) -> str:
    return page.url.lstrip("/")


def stray(path: str, group: str = "ref") -> Entry:
    return Entry(path=path, sha256="0" * 64, size=1, content_type="text/html", cache_control="no-cache", group=group)


# -- the secrecy check ------------------------------------------------------------------------------------
def test_objects_an_earlier_publish_left_of_a_page_restricted_since_are_refused(site, folder_target):
    publish(full=True, target=folder_target)
    published = manifest_of(folder_target)
    article = site.articles[0]
    assert folder_of(article) + "index.html" in published.entries
    check_secrecy(published)  # public: accepted
    # a folder whose name extends a hidden page's (zh-hans/news/<slug>-2/) is another folder
    hidden = site.members_article
    assert hidden.pk not in independently_public_ids()
    name = folder_of(hidden).rstrip("/") + "-2/index.html"
    check_secrecy(Manifest(entries={**published.entries, name: stray(name, group=f"page:{site.articles[1].pk}")}))
    # restricted behind every signal's back: this publish touches none of its objects
    PageViewRestriction.objects.create(page=article, restriction_type=PageViewRestriction.LOGIN)
    with pytest.raises(SecrecyError, match=f"belongs to non-public page {article.pk}"):
        check_secrecy(published)
    # an object under its URL that is not one of its own (a stray file) is refused too
    leftover = Manifest(entries={
        **{p: e for p, e in published.entries.items() if e.group != f"page:{article.pk}"},
        folder_of(article) + "attachment/index.html": stray(folder_of(article) + "attachment/index.html"),
    })
    with pytest.raises(SecrecyError, match="is under the URL of a non-public page"):
        check_secrecy(leftover)


def test_a_hidden_pages_subtree_is_hidden_and_nothing_after_it(site):
    news = site.news
    PageViewRestriction.objects.create(page=news, restriction_type=PageViewRestriction.LOGIN)
    Page.objects.filter(pk=site.library.pk).update(live=False)  # an unpublished column, no signal
    below_root = set(Page.objects.filter(depth__gt=1).values_list("pk", flat=True))
    public = independently_public_ids() & below_root
    # the same answer as the visibility rule, page by page
    assert public == set(public_pages().filter(depth__gt=1).values_list("pk", flat=True))
    for page in [news, *site.articles, site.library, *site.materials]:
        assert page.pk not in public, page
    # the pages right after the hidden subtrees in tree order stay public
    for page in [site.notices, site.red, *site.red_sites]:
        assert page.pk in public, page


def test_a_folder_matches_only_its_own_subtree():
    paths = sorted(["zh-hans/news/a/index.html", "zh-hans/news/ab/index.html", "zh-hans/news/a/page/2/index.html",
                    "zh-hans/newsroom/index.html", "zh-hans/news/index.html", "robots.txt"])
    assert paths_under(paths, ["zh-hans/news/a/"]) == ["zh-hans/news/a/index.html", "zh-hans/news/a/page/2/index.html"]
    assert paths_under(paths, ["zh-hans/news/"]) == [
        "zh-hans/news/a/index.html", "zh-hans/news/a/page/2/index.html", "zh-hans/news/ab/index.html",
        "zh-hans/news/index.html",
    ]
    assert paths_under(paths, ["zh-hans/new/", "en/"]) == []


# -- the manifest's text ------------------------------------------------------------------------------------
def test_the_manifest_never_reuses_the_text_of_an_entry_that_changed():
    a = Entry(path="a/index.html", sha256="1" * 64, size=1, content_type="text/html", cache_control="c", group="page:1")
    b = Entry(path="b/index.html", sha256="2" * 64, size=2, content_type="text/html", cache_control="c", group="page:2")
    first = Manifest.from_entries([a, b], run_id=1)
    assert Manifest.parse(first.to_bytes()).entries == {a.path: a, b.path: b}
    changed = Entry(path=a.path, sha256="3" * 64, size=3, content_type="text/html", cache_control="c", group="page:1")
    second = Manifest(entries={a.path: changed, b.path: b}, run_id=2)
    raw = second.to_bytes()
    assert Manifest.parse(raw).entries == {a.path: changed, b.path: b}
    assert b"1" * 64 not in raw
    # an equal entry made again (a fresh build's object) gives the same bytes
    second.created_at = Manifest.parse(raw).created_at
    again = Manifest(entries={a.path: Entry(**changed.to_json()), b.path: b}, run_id=2, created_at=second.created_at)
    assert again.to_bytes(remember=False) == second.to_bytes(remember=False)


# -- one edit ---------------------------------------------------------------------------------------------
@pytest.fixture
def one_page_chunks(monkeypatch):
    """A sitemap file per page id (chunk n holds page n), so that a small site has many."""
    monkeypatch.setattr("deploy.feeds.SITEMAP_CHUNK", 1)


def _sitemap_files(manifest: Manifest) -> set[str]:
    return {p for p, e in manifest.entries.items() if e.group.startswith("sitemap:")}


def _full_index(tmp_path) -> bytes:
    """The sitemap index a full build writes now (into another folder)."""
    other = get_target(tmp_path / "full")
    publish(full=True, target=other)
    return other.read("sitemap.xml")


def test_one_edit_rewrites_only_its_own_sitemap_chunk_and_the_index_follows(
    site, folder_target, one_page_chunks, tmp_path
):
    publish(full=True, target=folder_target)
    before = manifest_of(folder_target)
    article = site.articles[1]
    other = site.articles[0]
    assert {f"zh-hans/sitemap-{article.pk}.xml", f"zh-hans/sitemap-{other.pk}.xml"} <= _sitemap_files(before)
    article.title = "只改这一篇"
    article.save_revision().publish()
    result = publish(target=folder_target)
    written = {e.path for e in [*result.diff.added, *result.diff.changed]}
    # the chunks of the pages the plan rebuilds (the article, the listing and home page that show it)
    rebuilt = {g for g in result.plan.groups() if g.startswith("sitemap:")}
    assert f"sitemap:zh-hans:{article.pk}" in rebuilt
    assert rebuilt <= {"sitemap:zh-hans"} | {f"sitemap:zh-hans:{pk}" for pk in result.plan.page_ids}
    assert f"sitemap:zh-hans:{other.pk}" not in rebuilt
    assert f"zh-hans/sitemap-{other.pk}.xml" not in written
    assert folder_of(article) + "index.html" in written
    assert not any(p.startswith(("zh-hans/notices/", "zh-hans/library/")) for p in written)
    after = manifest_of(folder_target)
    assert _sitemap_files(after) == _sitemap_files(before)
    assert folder_target.read("sitemap.xml") == _full_index(tmp_path)

    # a chunk that empties goes, one that appears comes, in the index as a full build says
    from tests.factories import ArticlePageFactory

    gone = site.articles[2]
    gone.unpublish()
    new = ArticlePageFactory(parent=site.news, title="新发的文章")
    new.save_revision().publish()
    result = publish(target=folder_target)
    paths = {p for p in folder_target.list_paths() if not p.startswith("_shuyuan/")}
    assert f"zh-hans/sitemap-{gone.pk}.xml" not in paths
    assert f"zh-hans/sitemap-{new.pk}.xml" in paths
    assert f"zh-hans/sitemap-{gone.pk}.xml" in result.deletions
    index = folder_target.read("sitemap.xml")
    assert f"sitemap-{new.pk}.xml".encode() in index and f"sitemap-{gone.pk}.xml".encode() not in index
    assert index == _full_index(tmp_path)
    assert _sitemap_files(manifest_of(folder_target)) == {p for p in paths if p.startswith("zh-hans/sitemap")}
