"""The manifest and the diff: what a publish uploads, in which order, and what it deletes."""

from deploy.manifest import (
    KIND_ASSET,
    REFERENCED_ASSET_GROUP,
    Entry,
    Manifest,
    RenderedObject,
    diff,
    merge,
)


def entry(path, body=b"x", kind="page", group="", refs=(), cache="short", ctype="text/html"):
    return RenderedObject(
        path=path, body=body, content_type=ctype, cache_control=cache, kind=kind, group=group,
        url="/" + path.removesuffix("index.html"), refs=refs,
    ).entry()


def test_round_trip_keeps_every_field():
    m = Manifest.from_entries(
        [entry("a/index.html", refs=("static/x.css",)), entry("static/x.css", kind=KIND_ASSET)],
        pending_deletions=["old.html"], pending_purge=["/a/"],
    )
    again = Manifest.from_bytes(m.to_bytes())
    assert again.entries == m.entries
    assert again.pending_deletions == ["old.html"]
    assert again.pending_purge == ["/a/"]
    assert Manifest.from_bytes(None).entries == {}


def test_unchanged_site_diffs_to_nothing():
    m = Manifest.from_entries([entry("a/index.html"), entry("b/index.html")])
    d = diff(m, Manifest.from_entries(list(m.entries.values())))
    assert d.is_empty and d.unchanged == 2 and d.uploads == [] and d.purge_urls() == []


def test_changed_added_removed_and_header_changes():
    old = Manifest.from_entries([entry("a/index.html"), entry("b/index.html"), entry("c/index.html")])
    new = Manifest.from_entries(
        [entry("a/index.html", b"new"), entry("b/index.html", cache="long"), entry("d/index.html")]
    )
    d = diff(old, new)
    assert {e.path for e in d.changed} == {"a/index.html", "b/index.html"}
    assert [e.path for e in d.added] == ["d/index.html"]
    assert [e.path for e in d.removed] == ["c/index.html"]
    # new objects are not in any cache; changed and removed ones are
    assert d.purge_urls() == ["/a/", "/b/", "/c/"]


def test_upload_order_assets_then_new_pages_then_changed_pages():
    old = Manifest.from_entries([entry("list/index.html")])
    new = Manifest.from_entries(
        [
            entry("list/index.html", b"lists the new article"),
            entry("new/index.html"),
            entry("static/site.abc.css", kind=KIND_ASSET),
        ]
    )
    assert [e.path for e in diff(old, new).uploads] == ["static/site.abc.css", "new/index.html", "list/index.html"]


def test_merge_replaces_whole_groups_and_collects_unreferenced_assets():
    old = Manifest.from_entries(
        [
            entry("news/index.html", group="page:1", refs=("media/a.jpg",)),
            entry("news/page/2/index.html", group="page:1"),
            entry("other/index.html", group="page:2", refs=("media/b.jpg",)),
            entry("media/a.jpg", kind=KIND_ASSET, group=REFERENCED_ASSET_GROUP),
            entry("media/b.jpg", kind=KIND_ASSET, group=REFERENCED_ASSET_GROUP),
        ]
    )
    # page 1 rebuilt: it lost its second listing page and its image
    new = merge(old, {"page:1"}, [entry("news/index.html", b"v2", group="page:1")])
    assert set(new.entries) == {"news/index.html", "other/index.html", "media/b.jpg"}
    # a withdrawn page: its group rebuilt with nothing
    gone = merge(old, {"page:2"}, [])
    assert "other/index.html" not in gone.entries and "media/b.jpg" not in gone.entries


def test_entry_identity_ignores_group_and_url():
    a = entry("x/index.html", group="page:1")
    b = Entry(**{**a.to_json(), "group": "page:2", "refs": ()})
    assert a.same_object(b)
