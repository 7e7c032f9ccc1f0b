"""Releases and rollback (``deploy.releases``): numbered releases, an archive kept out of the public
target, ``publish_site --rollback`` in the publish order, and nothing restricted now ever restored.

The publisher calls ``releases.archive`` and ``releases.record`` (two lines in ``deploy/publisher.py``);
until those lines are in, the ``releases_on`` fixture adds the same two calls around the publisher's
steps, and once they are in it leaves the publisher alone, so these tests run the same either way.
"""

from __future__ import annotations

import inspect
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from deploy import releases
from deploy.manifest import MANIFEST_PATH, Manifest
from deploy.models import PublishRun
from deploy.publisher import Publisher
from deploy.releases import Archive, RollbackError, rollback
from deploy.service import publish

from . import purge_backends
from .test_publish import assert_consistent, manifest_of, site_paths


@pytest.fixture
def releases_on(settings, tmp_path, monkeypatch):
    """A private archive folder, and the publisher's two calls (unless deploy/publisher.py makes them)."""
    settings.STORAGES = {**settings.STORAGES, "releases": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "archive")},
    }}
    settings.SHUYUAN_RELEASES_STORAGE = "releases"
    settings.SHUYUAN_RELEASES_KEEP = 10
    if "releases.archive" not in inspect.getsource(Publisher.upload):
        upload = Publisher.upload

        def upload_and_archive(self):
            releases.archive(self)
            upload(self)

        monkeypatch.setattr(Publisher, "upload", upload_and_archive)
    if "releases.record" not in inspect.getsource(Publisher.record):
        finish = Publisher.record

        def record_and_keep(self):
            releases.record(self)
            finish(self)

        monkeypatch.setattr(Publisher, "record", record_and_keep)
    return tmp_path / "archive"


def bodies_of(target) -> dict[str, bytes]:
    return {p: target.read(p) for p in site_paths(target)}


def public_text(target) -> bytes:
    return b"\n".join(target.read(p) for p in site_paths(target))


# -- what a rollback must never do (first) ------------------------------------------------------------
@pytest.mark.parametrize("how", ["members", "secrecy_hold", "unpublished", "no_publish_since"])
def test_rollback_never_restores_a_page_that_is_not_public_now(site, folder_target, releases_on, how):
    from cms.secrecy.models import SecrecyHold, SecrecyReview

    first = publish(full=True, target=folder_target).run
    b = site.articles[1]
    b_path = b.url.lstrip("/")
    title, url = b.title.encode(), b.url.encode()
    assert b_path + "index.html" in site_paths(folder_target) and url in folder_target.read("zh-hans/news/index.html")
    # release 2: another edit
    a = site.articles[0]
    a.title = "第二版的标题"
    a.save_revision().publish()
    publish(target=folder_target)
    # then b stops being public
    if how in ("members", "no_publish_since"):
        b.audience = "members"
        b.save_revision().publish()
    elif how == "secrecy_hold":
        review = SecrecyReview.objects.create(page=b, revision=b.live_revision, title=b.title, classification="internal")
        SecrecyHold.objects.create(page=b, review=review)
    else:
        b.unpublish()
    if how == "no_publish_since":
        # the target still shows b (no publish since): neither the old nor the current listing may stay,
        # so the rollback refuses, and changes nothing, until a publish has withdrawn b
        before = bodies_of(folder_target)
        with pytest.raises(RollbackError, match="无法安全恢复"):
            rollback(1, target=folder_target)
        assert bodies_of(folder_target) == before
    publish(target=folder_target)  # release 3 withdraws it
    assert b_path + "index.html" not in site_paths(folder_target)

    result = rollback(1, target=folder_target)

    run = result.run
    assert run.status == PublishRun.Status.SUCCEEDED
    assert not any(p.startswith(b_path) for p in site_paths(folder_target))
    text = public_text(folder_target)
    assert url not in text and title not in text
    assert any(b_path in w for w in run.warnings), run.warnings  # reported
    assert releases.release_of(run)["restored_from"] == 1 and releases.release_of(run)["left_out"] > 0
    # the rest of release 1 is back (a's old title), and the site is consistent
    assert "第二版的标题".encode() not in folder_target.read(a.url.lstrip("/") + "index.html")
    assert first.status == PublishRun.Status.SUCCEEDED
    assert_consistent(folder_target)


def test_rollback_keeps_an_old_body_the_secrecy_review_would_stop_off_the_site(site, folder_target, releases_on):
    from cms.secrecy.models import SensitiveWord

    a = site.articles[0]
    a.body = [("paragraph", "<p>旧正文提到了甲乙丙工程。</p>")]
    a.save_revision().publish()
    publish(full=True, target=folder_target)
    page = a.url.lstrip("/") + "index.html"
    assert "甲乙丙工程".encode() in folder_target.read(page)
    SensitiveWord.objects.create(word="甲乙丙工程")
    a.body = [("paragraph", "<p>新正文。</p>")]
    a.save_revision().publish()
    publish(target=folder_target)

    run = rollback(1, target=folder_target).run

    assert "甲乙丙工程".encode() not in public_text(folder_target)
    assert "新正文".encode() in folder_target.read(page)  # the current version stays
    assert any(page in w and "保密审查" in w for w in run.warnings), run.warnings
    assert_consistent(folder_target)


def test_the_archive_is_never_the_public_target(site, folder_target, settings, tmp_path):
    settings.SHUYUAN_RELEASES_STORAGE = "publish"
    with pytest.raises(ImproperlyConfigured, match="SHUYUAN_RELEASES_STORAGE"):
        releases.archive_storage()
    settings.STORAGES = {**settings.STORAGES, "inside": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "site" / "_archive")},
    }}
    settings.SHUYUAN_RELEASES_STORAGE = "inside"
    with pytest.raises(ImproperlyConfigured, match="overlaps"):
        releases.archive_storage()
    s3 = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "site", "location": "www"}}
    settings.STORAGES = {**settings.STORAGES, "publish": s3, "s3-archive": {**s3, "OPTIONS": {"bucket_name": "site"}}}
    settings.SHUYUAN_RELEASES_STORAGE = "s3-archive"
    with pytest.raises(ImproperlyConfigured, match="published bucket"):
        releases.archive_storage()
    settings.SHUYUAN_RELEASES_STORAGE = "no-such-storage"
    assert releases.check_settings() and "SHUYUAN_RELEASES_STORAGE" in releases.check_settings()[0]
    settings.SHUYUAN_RELEASES_STORAGE = None
    for bad in (0, -1, "10", True):
        settings.SHUYUAN_RELEASES_KEEP = bad
        with pytest.raises(ImproperlyConfigured, match="SHUYUAN_RELEASES_KEEP"):
            releases.keep_count()


def test_nothing_of_the_archive_lands_in_the_target(site, folder_target, releases_on):
    publish(full=True, target=folder_target)
    paths = set(folder_target.list_paths())
    assert not [p for p in paths if "blobs" in p or p.endswith(".gz")]
    assert any(releases_on.rglob("*.json.gz")) and any((releases_on).rglob("blobs"))


def test_a_release_with_bodies_missing_from_the_archive_is_refused_untouched(site, folder_target, releases_on):
    publish(full=True, target=folder_target)
    a = site.articles[0]
    a.title = "改过的标题"
    a.save_revision().publish()
    publish(target=folder_target)
    old = Archive.for_target(folder_target).manifest(1).entries[a.url.lstrip("/") + "index.html"]
    blob = next(releases_on.rglob(old.sha256))
    blob.write_bytes(b"cut short")  # a damaged copy is never restored either
    before = bodies_of(folder_target)
    with pytest.raises(RollbackError, match="存档中缺少"):
        rollback(1, target=folder_target)
    assert bodies_of(folder_target) == before
    assert PublishRun.objects.first().status == PublishRun.Status.FAILED


def test_unknown_or_current_release_is_refused(site, folder_target, releases_on):
    with pytest.raises(RollbackError):
        rollback(target=folder_target)  # nothing published yet
    publish(full=True, target=folder_target)
    with pytest.raises(RollbackError, match="没有可以回滚"):
        rollback(target=folder_target)
    with pytest.raises(RollbackError, match="现在就是"):
        rollback(1, target=folder_target)
    with pytest.raises(RollbackError, match="不在存档"):
        rollback(7, target=folder_target)


# -- what it does -------------------------------------------------------------------------------------
def test_every_publish_that_changes_the_target_is_a_numbered_release(site, folder_target, releases_on):
    first = publish(full=True, target=folder_target).run
    assert manifest_of(folder_target).release == 1 and releases.release_of(first) == {"number": 1}
    assert publish(target=folder_target).run.status == PublishRun.Status.NOTHING  # no release
    a = site.articles[0]
    a.title = "第二版"
    a.save_revision().publish()
    second = publish(target=folder_target).run
    assert manifest_of(folder_target).release == 2 and releases.release_of(second)["number"] == 2
    assert publish(full=True, target=folder_target, dry_run=True).run.changes.get("release") is None
    store = Archive.for_target(folder_target)
    assert store.numbers() == [1, 2]
    assert set(store.manifest(1).entries) == set(store.manifest(2).entries)
    assert {e.sha256 for e in store.manifest(2).entries.values()} == {
        e.sha256 for e in manifest_of(folder_target).entries.values()
    }


def test_rollback_restores_the_previous_release_in_publish_order(site, folder_target, releases_on, settings):
    from tests.factories import ArticlePageFactory

    settings.WAGTAILFRONTENDCACHE = {"cdn": {"BACKEND": "tests.deploy.purge_backends.RecordingBackend"}}
    publish(full=True, target=folder_target)
    one = bodies_of(folder_target)
    m1 = manifest_of(folder_target)
    a, gone = site.articles[0], site.articles[2]
    a.title = "坏的修改"
    a.save_revision().publish()
    new = ArticlePageFactory(parent=site.news, title="第二版新增的文章")
    gone.unpublish()
    publish(target=folder_target)
    assert new.url.lstrip("/") + "index.html" in site_paths(folder_target)
    # the page unpublished in release 2 is public again in the CMS (else it would stay deleted)
    gone.save_revision().publish()
    purge_backends.PURGED.clear()
    log = []
    write, delete = folder_target.write, folder_target.delete_many
    folder_target.write = lambda e, b: (log.append(("write", e.kind, e.path)), write(e, b))[1]
    folder_target.delete_many = lambda ps: (log.append(("delete", None, tuple(ps))), delete(ps))[1]

    run = rollback(target=folder_target).run  # the previous release: 1

    assert run.status == PublishRun.Status.SUCCEEDED and run.warnings == []
    assert bodies_of(folder_target) == one  # pages and assets as they were, deletions undone
    after = manifest_of(folder_target)
    assert {p: e.sha256 for p, e in after.entries.items()} == {p: e.sha256 for p, e in m1.entries.items()}
    assert after.release == 3 and releases.release_of(run) == {"number": 3, "restored_from": 1, "left_out": 0}
    assert gone.url.lstrip("/") + "index.html" in site_paths(folder_target)
    assert not any(p.startswith(new.url.lstrip("/")) for p in site_paths(folder_target))
    # the publish order: journal, assets, pages, manifest, then deletions
    kinds = [k for op, k, p in log if op == "write" and p not in (MANIFEST_PATH, "_shuyuan/journal.json")]
    assert kinds == sorted(kinds, key=lambda k: k != "asset") and kinds
    manifest_at = next(i for i, (_op, _k, p) in enumerate(log) if p == MANIFEST_PATH)
    site_deletes = [i for i, (op, _k, ps) in enumerate(log) if op == "delete" and "_shuyuan/journal.json" not in ps]
    assert site_deletes and min(site_deletes) > manifest_at
    assert log[0][2] == "_shuyuan/journal.json"
    # the CDN purge: exactly what changed (changed and removed, not re-added objects)
    purged = {u for batch in purge_backends.PURGED for u in batch}
    assert any(a.url in u for u in purged) and any(new.url in u for u in purged)
    assert not any(u.endswith(gone.url) for u in purged)
    assert_consistent(folder_target)
    # rolling back again steps further back, not forth: nothing before release 1
    with pytest.raises(RollbackError, match="没有可以回滚"):
        rollback(target=folder_target)
    # a named release: forth to 2
    rollback(2, target=folder_target)
    assert "坏的修改".encode() in folder_target.read(a.url.lstrip("/") + "index.html")
    assert_consistent(folder_target)


def test_old_releases_are_collected_with_the_bodies_only_they_use(site, folder_target, releases_on, settings):
    settings.SHUYUAN_RELEASES_KEEP = 2
    a = site.articles[0]
    publish(full=True, target=folder_target)
    for i in range(3):
        a.title = f"第{i + 2}版标题"
        a.save_revision().publish()
        publish(target=folder_target)
    store = Archive.for_target(folder_target)
    assert store.numbers() == [3, 4]  # forgotten at once

    def archived():
        return {p.name for p in (releases_on / store.root / "blobs").rglob("*") if p.is_file()}

    def used_by(*numbers):
        return {e.sha256 for n in numbers for e in store.manifest(n).entries.values()}

    assert archived() > used_by(3, 4)  # bodies are swept every SWEEP_EVERY releases (this is release 4)
    with pytest.raises(RollbackError, match="不在存档"):
        rollback(1, target=folder_target)
    rollback(target=folder_target)  # release 5: a sweep
    assert "第3版标题".encode() in folder_target.read(a.url.lstrip("/") + "index.html")
    assert store.numbers() == [4, 5]
    assert archived() == used_by(4, 5)
    assert_consistent(folder_target)


def test_rollback_takes_the_publish_lease(site, folder_target, releases_on):
    from deploy.models import PublishLock
    from deploy.service import PublishBusy

    publish(full=True, target=folder_target)
    a = site.articles[0]
    a.title = "第二版"
    a.save_revision().publish()
    publish(target=folder_target)
    from datetime import timedelta

    assert PublishLock.acquire(folder_target.key, timedelta(seconds=60)) is not None
    before = bodies_of(folder_target)
    with pytest.raises(PublishBusy):
        rollback(target=folder_target)
    assert bodies_of(folder_target) == before


def test_publish_site_rollback_command(site, folder_target, releases_on):
    call_command("publish_site", "--full", "--no-progress", stdout=StringIO())
    a = site.articles[0]
    a.title = "命令行第二版"
    a.save_revision().publish()
    call_command("publish_site", "--no-progress", stdout=StringIO())
    out = StringIO()
    call_command("publish_site", "--rollback", "--dry-run", "--no-progress", stdout=out)
    assert "change " in out.getvalue() and "命令行第二版".encode() in folder_target.read(a.url.lstrip("/") + "index.html")
    call_command("publish_site", "--rollback", "--no-progress", stdout=StringIO())
    assert "命令行第二版".encode() not in folder_target.read(a.url.lstrip("/") + "index.html")
    out = StringIO()
    call_command("publish_site", "--releases", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:2] == ["3", "(current)"] and "rollback to 1" in lines[0] and len(lines) == 3
    with pytest.raises(CommandError, match="不在存档"):
        call_command("publish_site", "--rollback", "9", "--no-progress", stdout=StringIO())


def test_rollback_on_s3(site, s3_target, releases_on):
    from .test_s3_and_faults import assert_bodies_match_manifest

    publish(full=True, target=s3_target)
    m1 = manifest_of(s3_target)
    a = site.articles[0]
    a.title = "S3 第二版"
    a.save_revision().publish()
    site.articles[2].unpublish()
    publish(target=s3_target)
    site.articles[2].save_revision().publish()
    run = rollback(target=s3_target).run
    assert run.status == PublishRun.Status.SUCCEEDED
    after = manifest_of(s3_target)
    assert {p: e.sha256 for p, e in after.entries.items()} == {p: e.sha256 for p, e in m1.entries.items()}
    assert_consistent(s3_target)
    assert_bodies_match_manifest(s3_target)


# -- the admin ----------------------------------------------------------------------------------------
def test_history_offers_rollback_to_those_who_may_publish(site, folder_target, releases_on, client, admin_client, settings):
    from .test_purge_and_jobs import _user_in

    settings.ROOT_URLCONF = "tests.deploy.urls"
    publish(full=True, target=folder_target)
    a = site.articles[0]
    a.title = "后台第二版"
    a.save_revision().publish()
    publish(target=folder_target)
    page = a.url.lstrip("/") + "index.html"

    reviewer = _user_in("审核人员")
    client.force_login(reviewer)
    response = client.get("/admin/publishing/")
    assert response.status_code == 200 and "第 1 版".encode() in response.content
    assert b"/admin/publishing/rollback/" not in response.content
    response = client.post("/admin/publishing/rollback/1/")
    assert response.status_code in (302, 403) and "后台第二版".encode() in folder_target.read(page)

    response = admin_client.get("/admin/publishing/")
    assert b"/admin/publishing/rollback/1/" in response.content
    assert b"/admin/publishing/rollback/2/" not in response.content  # the current release
    confirm = admin_client.get("/admin/publishing/rollback/1/")
    assert confirm.status_code == 200 and "确认回滚".encode() in confirm.content
    assert "后台第二版".encode() in folder_target.read(page)  # a GET changes nothing
    response = admin_client.post("/admin/publishing/rollback/1/")
    assert response.status_code == 302
    assert "后台第二版".encode() not in folder_target.read(page)
    run = PublishRun.objects.first()
    assert run.trigger == "admin" and run.status == PublishRun.Status.SUCCEEDED
    history = admin_client.get("/admin/publishing/").content.decode()
    assert "回滚至第 1 版" in history and "第 3 版" in history
    assert admin_client.get(f"/admin/publishing/{run.pk}/").status_code == 200


def test_a_release_archived_copy_is_not_what_from_bytes_caches(site, folder_target, releases_on):
    publish(full=True, target=folder_target)
    raw = folder_target.read(MANIFEST_PATH)
    Archive.for_target(folder_target).manifest(1)
    assert Manifest.from_bytes(raw).release == 1
