"""Publishing to a real S3 server (rclone serve s3), change detection without ETags, and crashes."""

from __future__ import annotations

import pytest

from deploy.manifest import JOURNAL_PATH, MANIFEST_PATH, Manifest, sha256_hex
from deploy.models import PublishRun
from deploy.service import publish
from deploy.targets import TargetError

from .test_publish import assert_consistent, site_paths

pytestmark = pytest.mark.s3


class CountingTarget:
    """Wraps a target, counts its calls, and can die after N uploads (a publish killed mid-way)."""

    def __init__(self, inner, die_after: int | None = None):
        self.inner, self.die_after = inner, die_after
        self.key, self.parallelism = inner.key, 1
        self.calls: list[tuple[str, str]] = []

    def describe(self):
        return self.inner.describe()

    def read(self, path):
        self.calls.append(("read", path))
        return self.inner.read(path)

    def write(self, entry, body):
        if self.die_after is not None and sum(op == "write" for op, _ in self.calls) >= self.die_after:
            raise KeyboardInterrupt("killed")  # not an Exception: nothing may catch it
        self.calls.append(("write", entry.path))
        self.inner.write(entry, body)

    def delete_many(self, paths):
        paths = list(paths)
        self.calls.append(("delete", ",".join(paths)))
        self.inner.delete_many(paths)

    def list_paths(self):
        return self.inner.list_paths()

    def stored_sha256(self, path):
        return self.inner.stored_sha256(path)


def assert_bodies_match_manifest(target):
    """Every object's body (read back, hashed here) and its stored hash are the final manifest's."""
    m = Manifest.from_bytes(target.read(MANIFEST_PATH))
    assert site_paths(target) == set(m.entries)
    wrong = [p for p, e in m.entries.items() if sha256_hex(target.read(p)) != e.sha256]
    assert wrong == [], wrong[:10]
    wrong_meta = [p for p, e in m.entries.items() if target.stored_sha256(p) != e.sha256]
    assert wrong_meta == [], wrong_meta[:10]


def test_full_publish_to_s3_sets_bodies_types_and_cache_headers(site, s3_target, s3_client, s3_bucket):
    run = publish(full=True, target=s3_target).run
    assert run.status == PublishRun.Status.SUCCEEDED
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket, MaxKeys=1000)["Contents"]}
    assert f"www/{site.articles[0].url.lstrip('/')}index.html" in keys
    page = s3_client.get_object(Bucket=s3_bucket, Key="www/zh-hans/news/index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert "max-age=60" in page["CacheControl"]
    assert site.articles[0].title in page["Body"].read().decode()
    css = next(k for k in keys if k.startswith("www/static/site_theme/site.") and k.endswith(".css"))
    head = s3_client.head_object(Bucket=s3_bucket, Key=css)
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentType"].startswith("text/css")
    feed = s3_client.head_object(Bucket=s3_bucket, Key=f"www/zh-hans/feeds/{site.news.pk}/atom.xml")
    assert feed["ContentType"].startswith("application/atom+xml")
    assert not any(site.members_article.slug in k for k in keys)
    assert_consistent(s3_target)


def test_unchanged_republish_makes_no_per_object_requests(site, s3_target):
    publish(full=True, target=s3_target)
    counting = CountingTarget(s3_target)
    run = publish(target=counting).run
    assert run.status == PublishRun.Status.NOTHING
    assert [op for op, _ in counting.calls] == ["read", "read"]  # the manifest and the journal
    run = publish(full=True, target=counting).run
    assert run.uploaded == 0 and not [c for c in counting.calls if c[0] != "read"]


def test_killed_publish_then_rerun_is_consistent(site, s3_target):
    publish(full=True, target=s3_target)
    old_manifest = Manifest.from_bytes(s3_target.read(MANIFEST_PATH))
    # many changes at once: an edit, a new article, an unpublish
    from tests.factories import ArticlePageFactory

    site.articles[0].title = "改过的标题"
    site.articles[0].save_revision().publish()
    new_article = ArticlePageFactory(parent=site.news, title="新增文章")
    new_article.save_revision().publish()
    site.articles[1].unpublish()
    for die_after in (1, 3, 6):
        with pytest.raises(KeyboardInterrupt):
            publish(target=CountingTarget(s3_target, die_after=die_after))
        # the old manifest still describes a working site: every object it lists is there
        m = Manifest.from_bytes(s3_target.read(MANIFEST_PATH))
        assert m.entries == old_manifest.entries
        assert set(m.entries) <= site_paths(s3_target)
    # a crash after the manifest, before deletions
    counting = CountingTarget(s3_target)
    real_delete = s3_target.delete_many

    def die_on_site_delete(paths):
        paths = list(paths)
        if paths != ["_shuyuan/journal.json"]:
            raise KeyboardInterrupt("killed before deletions")
        real_delete(paths)

    counting.inner = type("T", (), {})()
    for name in ("read", "write", "list_paths", "stored_sha256", "describe"):
        setattr(counting.inner, name, getattr(s3_target, name))
    counting.inner.delete_many = die_on_site_delete
    with pytest.raises(KeyboardInterrupt):
        publish(target=counting)
    m = Manifest.from_bytes(s3_target.read(MANIFEST_PATH))
    assert m.pending_deletions  # the work left to do is recorded
    run = publish(target=s3_target).run
    assert run.status == PublishRun.Status.SUCCEEDED
    assert_consistent(s3_target)
    assert_bodies_match_manifest(s3_target)
    paths = site_paths(s3_target)
    assert new_article.url.lstrip("/") + "index.html" in paths
    assert site.articles[1].url.lstrip("/") + "index.html" not in paths

    # a publish killed after overwriting published pages; the edit is undone before the re-run, so the
    # re-run's build equals the manifest for those pages: they must not keep the killed run's content
    before = Manifest.from_bytes(s3_target.read(MANIFEST_PATH))
    article = site.articles[0]
    original_title = article.title
    article.title = "被中断的临时标题"
    article.save_revision().publish()
    planned = publish(target=s3_target, dry_run=True).diff
    assert planned.changed and not planned.added
    killed = CountingTarget(s3_target, die_after=len(planned.uploads))  # the journal, then all but one
    with pytest.raises(KeyboardInterrupt):
        publish(target=killed)
    overwritten = [p for op, p in killed.calls if op == "write" and p in before.entries]
    assert overwritten and "overwriting" in s3_target.read(JOURNAL_PATH).decode()
    assert Manifest.from_bytes(s3_target.read(MANIFEST_PATH)).entries == before.entries
    article.title = original_title
    article.save_revision().publish()
    # a second killed run must keep the first one's journal entries
    with pytest.raises(KeyboardInterrupt):
        publish(target=CountingTarget(s3_target, die_after=1))
    run = publish(target=s3_target).run
    assert run.status == PublishRun.Status.SUCCEEDED
    final = Manifest.from_bytes(s3_target.read(MANIFEST_PATH))
    reverted = [p for p in overwritten if final.entries.get(p) == before.entries[p]]
    assert reverted, "the scenario needs pages whose final content equals the old manifest"
    assert {final.entries[p].url or p for p in reverted} <= set(run.changes["repaired"])
    assert s3_target.read(JOURNAL_PATH) is None
    assert_consistent(s3_target)
    assert_bodies_match_manifest(s3_target)
    for p in overwritten:
        assert "被中断的临时标题".encode() not in s3_target.read(p), p


def test_unreachable_s3_fails_the_run_visibly(site, s3_bucket):
    from botocore.config import Config

    from deploy.targets import S3Target

    from .conftest import make_s3_storage

    storage = make_s3_storage(
        {"endpoint_url": "http://127.0.0.1:9"}, s3_bucket,
        client_config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(TargetError):
        publish(full=True, target=S3Target(storage))
    run = PublishRun.objects.first()
    assert run.status == PublishRun.Status.FAILED and "TargetError" in run.error
