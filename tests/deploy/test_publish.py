"""Full and incremental publishing into a local folder: what is published, what is not, in which order."""

from __future__ import annotations

import json

import pytest

from deploy import pending as feed
from deploy.checks import broken_links
from deploy.manifest import MANIFEST_PATH, Manifest
from deploy.models import PublishLock, PublishRun
from deploy.service import PublishBusy, TooManyDeletions, publish


def manifest_of(target) -> Manifest:
    return Manifest.from_bytes(target.read(MANIFEST_PATH))


def site_paths(target) -> set[str]:
    return {p for p in target.list_paths() if not p.startswith("_shuyuan/")}


def assert_consistent(target):
    """The target holds exactly the manifest's objects, with the manifest's content."""
    m = manifest_of(target)
    assert site_paths(target) == set(m.entries)
    for path, e in m.entries.items():
        assert target.stored_sha256(path) == e.sha256, path
    assert not broken_links(((p, target.read(p)) for p in m.entries if p.endswith(".html")), set(m.entries))


def test_full_publish_contents(site, folder_target):
    result = publish(full=True, target=folder_target)
    run = result.run
    assert run.status == PublishRun.Status.SUCCEEDED and run.uploaded > 0
    paths = site_paths(folder_target)
    tree = site
    for page in [tree.home, tree.news, tree.notices, tree.library, tree.red, *tree.articles, *tree.materials]:
        assert page.url.lstrip("/") + "index.html" in paths, page.url
    for hidden in (tree.members_article, tree.internal_article, tree.members_material):
        assert not any(p.startswith(hidden.url.lstrip("/")) for p in paths)
        for p in paths:
            body = folder_target.read(p)
            assert hidden.url.encode() not in body, (p, hidden.url)
    # feeds, sitemaps, robots, 404, root redirect, hashed static assets
    assert {"robots.txt", "sitemap.xml", "zh-hans/sitemap.xml", "404.html", "index.html"} <= paths
    assert f"zh-hans/feeds/{tree.news.pk}/rss.xml" in paths and f"zh-hans/feeds/{tree.news.pk}/atom.xml" in paths
    css = [p for p in paths if p.startswith("static/site_theme/site.") and p.endswith(".css")]
    assert len(css) == 1 and len(css[0].split(".")) == 3
    m = manifest_of(folder_target)
    assert m.entries[css[0]].cache_control.endswith("immutable")
    assert "max-age=31536000" not in m.entries["zh-hans/news/index.html"].cache_control
    assert b'http-equiv="refresh"' in folder_target.read("index.html")
    sitemap = folder_target.read("zh-hans/sitemap.xml").decode()
    assert tree.articles[0].url in sitemap and tree.members_article.url not in sitemap
    assert_consistent(folder_target)


def test_republishing_an_unchanged_site_uploads_nothing(site, folder_target):
    publish(full=True, target=folder_target)
    again = publish(full=True, target=folder_target).run
    assert again.uploaded == 0 and again.deleted == 0 and again.status == PublishRun.Status.NOTHING
    quiet = publish(target=folder_target).run
    assert quiet.status == PublishRun.Status.NOTHING and quiet.rendered == 0


def test_editing_an_article_rebuilds_only_what_shows_it(site, folder_target):
    publish(full=True, target=folder_target)
    before = manifest_of(folder_target)
    article = site.articles[0]
    article.title = "修改后的标题"
    article.save_revision().publish()
    result = publish(target=folder_target)
    run = result.run
    changed = {e.path for e in result.diff.changed}
    assert article.url.lstrip("/") + "index.html" in changed
    assert "zh-hans/news/index.html" in changed  # the column lists it
    assert "zh-hans/index.html" in changed  # the home page shows the latest articles
    assert f"zh-hans/feeds/{site.news.pk}/rss.xml" in changed
    assert not any(p.startswith("zh-hans/notices/") for p in changed)
    assert run.uploaded == len(changed) < len(before.entries) / 2
    assert not feed.exists()
    assert "修改后的标题".encode() in folder_target.read("zh-hans/news/index.html")
    assert_consistent(folder_target)


def test_unpublishing_and_restricting_withdraw_objects(site, folder_target):
    publish(full=True, target=folder_target)
    a, b = site.articles[0], site.articles[1]
    a.unpublish()
    b.audience = "members"
    b.save_revision().publish()
    result = publish(target=folder_target)
    paths = site_paths(folder_target)
    for gone in (a, b):
        assert gone.url.lstrip("/") + "index.html" not in paths
        assert gone.url.encode() not in folder_target.read("zh-hans/news/index.html")
        assert gone.url not in folder_target.read("zh-hans/sitemap.xml").decode()
    assert result.run.deleted >= 2
    assert_consistent(folder_target)


def test_withdrawal_happens_even_without_a_signal(site, folder_target, settings):
    publish(full=True, target=folder_target)
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "AUTO_PUBLISH": False}
    from wagtail.models import Page

    Page.objects.filter(pk=site.articles[2].pk).update(live=False)  # bypasses every signal
    publish(target=folder_target)
    assert site.articles[2].url.lstrip("/") + "index.html" not in site_paths(folder_target)


def test_upload_order_and_manifest_last(site, folder_target):
    publish(full=True, target=folder_target)
    article = site.articles[0]
    article.body = [("paragraph", "<p>新的正文</p>")]
    article.save_revision().publish()
    site.articles[1].unpublish()
    log = []
    orig_write, orig_delete = folder_target.write, folder_target.delete_many
    folder_target.write = lambda e, b: (log.append(("write", e.kind, e.path)), orig_write(e, b))[1]
    folder_target.delete_many = lambda ps: (log.append(("delete", None, tuple(ps))), orig_delete(ps))[1]
    publish(target=folder_target)
    kinds = [k if op == "write" else op for op, k, _p in log]
    first_manifest = next(i for i, (_op, _k, p) in enumerate(log) if p == MANIFEST_PATH)
    assert all(k in ("page", "asset", "meta") for k in kinds[:first_manifest])
    deletes = [i for i, (op, _k, p) in enumerate(log) if op == "delete" and p != (MANIFEST_PATH,)]
    site_deletes = [i for i in deletes if "_shuyuan/journal.json" not in log[i][2]]
    assert site_deletes and min(site_deletes) > first_manifest


def test_dry_run_uploads_nothing(site, folder_target):
    result = publish(full=True, target=folder_target, dry_run=True)
    assert result.run.status == PublishRun.Status.DRY_RUN
    assert result.diff.added and site_paths(folder_target) == set()


def test_deletion_cap(site, folder_target, settings):
    from deploy.manifest import Entry

    publish(full=True, target=folder_target)
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "MAX_DELETIONS": 0}
    # withdrawals (pages that still exist but are no longer public) are never capped
    site.articles[0].unpublish()
    publish(target=folder_target)
    assert site.articles[0].url.lstrip("/") + "index.html" not in site_paths(folder_target)
    # objects the site no longer has for other reasons count against the cap
    m = manifest_of(folder_target)
    m.entries["stray/index.html"] = Entry("stray/index.html", "0" * 64, 1, "text/html", "x", group="page:999999")
    folder_target.write(Entry(MANIFEST_PATH, "", 0, "application/json", "no-store"), m.to_bytes())
    folder_target.write(m.entries["stray/index.html"], b"x")
    with pytest.raises(TooManyDeletions):
        publish(full=True, target=folder_target)
    assert "stray/index.html" in site_paths(folder_target)
    publish(full=True, target=folder_target, allow_mass_delete=True)
    assert_consistent(folder_target)


def test_two_publishes_never_interleave(site, folder_target):
    from datetime import timedelta

    holder = PublishLock.acquire(folder_target.key, timedelta(minutes=5))
    with pytest.raises(PublishBusy):
        publish(full=True, target=folder_target)
    PublishLock.release(folder_target.key, holder)
    # an expired lease (a dead publisher) is taken over
    PublishLock.acquire(folder_target.key, timedelta(seconds=-1))
    assert publish(full=True, target=folder_target).run.status == PublishRun.Status.SUCCEEDED


def test_failing_render_fails_the_build_with_url_and_status(site, folder_target, monkeypatch):
    from django.http import HttpResponseServerError

    from cms.models import ArticlePage
    from deploy.render import BuildError

    monkeypatch.setattr(ArticlePage, "serve", lambda self, request, *a, **k: HttpResponseServerError("boom"))
    with pytest.raises(BuildError, match=r"/zh-hans/news/.*HTTP 500"):
        publish(full=True, target=folder_target)
    assert site_paths(folder_target) == set()
    run = PublishRun.objects.first()
    assert run.status == PublishRun.Status.FAILED and "HTTP 500" in run.error


def test_client_mode_renders_the_same_pages(site, folder_target, tmp_path):
    from deploy.targets import get_target

    publish(full=True, target=folder_target)
    other = get_target(tmp_path / "client")
    publish(full=True, target=other, render_mode="client")
    a, b = manifest_of(folder_target).entries, manifest_of(other).entries
    assert set(a) == set(b)
    differing = [p for p in a if a[p].sha256 != b[p].sha256]
    assert differing == [], differing[:5]


def test_manifest_records_history(site, folder_target):
    publish(full=True, target=folder_target)
    raw = json.loads(folder_target.read(MANIFEST_PATH))
    assert raw["version"] == 1 and raw["pending_deletions"] == [] and raw["entries"]


def test_serve_site_serves_the_folder_like_a_bucket(site, folder_target):
    import threading
    import urllib.error
    import urllib.request
    from functools import partial
    from http.server import ThreadingHTTPServer

    from deploy.serve import StaticSiteHandler

    publish(full=True, target=folder_target)
    handler = partial(StaticSiteHandler, directory=str(folder_target.root), manifest_cache={})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(base + "/zh-hans/news/") as r:
            assert r.status == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
            assert "max-age=60" in r.headers["Cache-Control"]
        with urllib.request.urlopen(base + "/robots.txt") as r:
            assert b"Sitemap:" in r.read()
        try:
            urllib.request.urlopen(base + "/zh-hans/nope/")
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404
        try:
            urllib.request.urlopen(base + site.members_article.url)
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_publish_site_command_and_verify(site, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("publish_site", "--full", "--to", str(tmp_path / "cmd"), "--no-progress", stdout=out)
    assert "[full]" in out.getvalue()
    out = StringIO()
    call_command("publish_site", "--to", str(tmp_path / "cmd"), "--verify", stdout=out)
    assert "matches" in out.getvalue()
    (tmp_path / "cmd" / "zh-hans" / "news" / "index.html").unlink()
    with pytest.raises(CommandError):
        call_command("publish_site", "--to", str(tmp_path / "cmd"), "--verify", stdout=StringIO())


def _image(title="封面图"):
    import io

    from django.core.files.images import ImageFile
    from PIL import Image

    from media.models import ShuyuanImage

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "JPEG")
    image = ShuyuanImage(title=title, file=ImageFile(buf, name="cover.jpg"))
    image.save()
    return image


def test_deleting_a_page_removes_it_and_updates_its_listing(site, folder_target):
    publish(full=True, target=folder_target)
    article = site.articles[0]
    url = article.url
    article.delete()
    publish(target=folder_target)
    assert url.lstrip("/") + "index.html" not in site_paths(folder_target)
    assert url.encode() not in folder_target.read("zh-hans/news/index.html")
    assert_consistent(folder_target)


def test_editing_an_image_rebuilds_the_pages_that_use_it(site, folder_target):
    image = _image()
    article = site.articles[0]
    article.body = [("image", {"image": image, "caption": "说明"})]
    article.save_revision().publish()
    publish(full=True, target=folder_target)
    page_path = article.url.lstrip("/") + "index.html"
    body = folder_target.read(page_path).decode()
    assert 'alt="封面图"' in body
    rendition = next(p for p in site_paths(folder_target) if p.startswith("media/images/"))
    assert manifest_of(folder_target).entries[rendition].content_type == "image/jpeg"
    image.title = "新的图片说明"
    image.save()
    result = publish(target=folder_target)
    assert page_path in {e.path for e in result.diff.changed}
    assert 'alt="新的图片说明"'.encode() in folder_target.read(page_path)
    assert not any(p.startswith("zh-hans/notices/") for p in result.run.changes["changed"])
    assert_consistent(folder_target)


def test_images_are_published_with_every_responsive_rendition_they_offer(site, folder_target):
    """A phone loads the 480-wide rendition, a desktop the 960 or 1440 one: every candidate of every
    ``srcset`` on the static site is published with it (none points back at the CMS or at nothing)."""
    import io
    import re

    from django.core.files.images import ImageFile
    from PIL import Image

    from media.models import ShuyuanImage

    buf = io.BytesIO()
    Image.new("RGB", (1600, 900), (180, 30, 30)).save(buf, "JPEG")
    image = ShuyuanImage(title="主题党日活动现场", file=ImageFile(buf, name="wide.jpg"))
    image.save()
    article = site.articles[0]
    article.cover_image = image
    article.body = [("image", {"image": image, "caption": "活动现场"})]
    article.save_revision().publish()
    publish(full=True, target=folder_target)
    paths = site_paths(folder_target)
    pages = {article.url.lstrip("/") + "index.html", "zh-hans/news/index.html"}
    widths = set()
    for page in pages:
        body = folder_target.read(page).decode()
        sets = re.findall(r'srcset="([^"]+)"', body)
        assert sets, f"{page} offers no responsive image"
        for srcset in sets:
            for candidate in srcset.split(","):
                url, width = candidate.split()
                assert url.startswith("/media/images/") and url.lstrip("/") in paths, url
                widths.add(int(width.rstrip("w")))
    assert {480, 960, 1440} <= widths and {320, 640} <= widths
    assert_consistent(folder_target)


# -- publish_site waits for a running publish (./dev up starts the worker before publishing) ---------------
def test_publish_site_waits_for_a_running_publish_then_publishes(site, folder_target, monkeypatch):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command

    import deploy.service as service

    publish(full=True, target=folder_target)
    article = site.articles[0]
    article.title = "等待后发布的标题"
    article.save_revision().publish()
    holder = PublishLock.acquire(folder_target.key, timedelta(minutes=5))  # the worker's publish
    runs_before = PublishRun.objects.count()
    sleeps = []

    def other_publish_finishes_later(seconds):
        sleeps.append(seconds)
        # nothing of ours starts while the other publish holds the lease
        assert PublishRun.objects.count() == runs_before
        assert "等待后发布的标题".encode() not in folder_target.read(article.url.lstrip("/") + "index.html")
        if len(sleeps) == 3:
            PublishLock.release(folder_target.key, holder)

    monkeypatch.setattr(service, "_sleep", other_publish_finishes_later)
    err = StringIO()
    call_command("publish_site", "--no-progress", stdout=StringIO(), stderr=err)
    assert len(sleeps) == 3
    assert "waiting for it to finish" in err.getvalue()
    assert PublishRun.objects.first().status == PublishRun.Status.SUCCEEDED
    assert "等待后发布的标题".encode() in folder_target.read(article.url.lstrip("/") + "index.html")
    assert not feed.exists()


def test_publish_site_gives_up_after_its_timeout(site, folder_target):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import CommandError, call_command

    PublishLock.acquire(folder_target.key, timedelta(minutes=5))
    for args in (["--wait", "0.2"], ["--no-wait"]):
        with pytest.raises(CommandError, match="is running"):
            call_command("publish_site", "--no-progress", *args, stdout=StringIO(), stderr=StringIO())
    assert not PublishRun.objects.exists()
    assert site_paths(folder_target) == set()


# -- a publish into another folder leaves the configured target's pending changes ------------------------
def test_publishing_to_another_folder_keeps_the_pending_changes(site, folder_target, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    publish(full=True, target=folder_target)
    article = site.articles[0]
    page = article.url.lstrip("/") + "index.html"
    article.title = "只应发到正式目标的修改"
    article.save_revision().publish()
    pending = [c.pk for c in feed.load(True)[0]]
    assert pending
    scratch = tmp_path / "scratch"
    call_command("publish_site", "--to", str(scratch), "--no-progress", stdout=StringIO(), stderr=StringIO())
    assert [c.pk for c in feed.load(True)[0]] == pending
    assert "只应发到正式目标的修改".encode() in (scratch / page).read_bytes()
    # the configured target still gets the edit
    result = publish()
    assert page in {e.path for e in result.diff.changed}
    assert "只应发到正式目标的修改".encode() in folder_target.read(page)
    assert not feed.exists()
    # the scratch folder, published again after the configured target took the queue, is still right
    article.title = "第二次修改"
    article.save_revision().publish()
    publish()
    call_command("publish_site", "--to", str(scratch), "--no-progress", stdout=StringIO(), stderr=StringIO())
    assert "第二次修改".encode() in (scratch / page).read_bytes()
    # a --to that names the configured folder is the configured target
    article.title = "第三次修改"
    article.save_revision().publish()
    call_command("publish_site", "--to", str(folder_target.root), "--no-progress", stdout=StringIO())
    assert not feed.exists()
