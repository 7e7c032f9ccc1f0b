"""CDN purge (exact URLs, batched, retried, recorded; failures never lose a publish), background jobs,
scheduled go-live, and the admin history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deploy.manifest import MANIFEST_PATH, Manifest
from deploy.models import PendingChange, PublishRun, PurgeRecord
from deploy.service import publish

from . import purge_backends
from .test_publish import site_paths

BASE = "https://www.example.org"


@pytest.fixture
def no_wagtail_autopurge():
    """Wagtail's frontend_cache app (if installed) purges CMS URLs on publish; deploy purges itself."""
    from django.apps import apps
    from wagtail.contrib.frontend_cache import signal_handlers as h
    from wagtail.models import Page
    from wagtail.signals import page_published, page_unpublished

    models = [m for m in apps.get_models() if issubclass(m, Page)]
    for m in models:
        page_published.disconnect(h.page_published_signal_handler, sender=m)
        page_unpublished.disconnect(h.page_unpublished_signal_handler, sender=m)
    yield
    if apps.is_installed("wagtail.contrib.frontend_cache"):
        h.register_signal_handlers()


@pytest.fixture
def cdn(settings, no_wagtail_autopurge):
    purge_backends.PURGED.clear()
    purge_backends.CALLS["failing"] = 0
    settings.SHUYUAN_PUBLISH = {
        **settings.SHUYUAN_PUBLISH, "BASE_URL": BASE, "PURGE_BACKOFF": 0, "PURGE_RETRIES": 2, "PURGE_BATCH_SIZE": 3,
    }
    settings.WAGTAILFRONTENDCACHE = {"cdn": {"BACKEND": "tests.deploy.purge_backends.RecordingBackend"}}
    return settings


def test_purge_sends_exactly_the_changed_urls_in_batches(site, folder_target, cdn):
    publish(full=True, target=folder_target)
    assert purge_backends.PURGED == []  # a first publish changes nothing that could be cached
    article = site.articles[0]
    article.title = "新标题"
    article.save_revision().publish()
    result = publish(target=folder_target)
    sent = [u for batch in purge_backends.PURGED for u in batch]
    assert all(len(batch) <= 3 for batch in purge_backends.PURGED)
    assert sorted(sent) == sorted(BASE + u for u in result.purge_urls)
    assert BASE + article.url in sent and BASE + "/zh-hans/news/" in sent
    assert not any("/notices/" in u for u in sent)
    assert result.run.purged == len(sent)
    assert PurgeRecord.objects.filter(run=result.run, ok=True).count() == len(purge_backends.PURGED)


@pytest.mark.parametrize("backend", ["LoggingFailureBackend", "RaisingBackend"])
def test_purge_failure_never_loses_the_publish(site, folder_target, cdn, backend):
    publish(full=True, target=folder_target)
    cdn.WAGTAILFRONTENDCACHE = {"cdn": {"BACKEND": f"tests.deploy.purge_backends.{backend}"}}
    article = site.articles[0]
    article.title = "CDN 故障时的修改"
    article.save_revision().publish()
    run = publish(target=folder_target).run
    assert run.status == PublishRun.Status.SUCCEEDED and run.purge_failed
    assert "CDN 故障时的修改".encode() in folder_target.read(article.url.lstrip("/") + "index.html")
    failed = PurgeRecord.objects.filter(run=run, ok=False)
    assert failed.exists() and all(r.attempts == 3 for r in failed)
    pending = Manifest.from_bytes(folder_target.read(MANIFEST_PATH)).pending_purge
    assert article.url in pending
    # the CDN is back: the next publish purges what is owed
    cdn.WAGTAILFRONTENDCACHE = {"cdn": {"BACKEND": "tests.deploy.purge_backends.RecordingBackend"}}
    run = publish(target=folder_target).run
    assert BASE + article.url in [u for b in purge_backends.PURGED for u in b]
    assert Manifest.from_bytes(folder_target.read(MANIFEST_PATH)).pending_purge == []
    assert not run.purge_failed


def test_editor_publish_enqueues_a_background_publish(site, settings, tmp_path, django_capture_on_commit_callbacks):
    from django.core.files.storage import storages

    from deploy.targets import get_target

    settings.STORAGES = {**settings.STORAGES, "publish": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "auto")},
    }}
    storages._storages.pop("publish", None)
    storages.backends  # noqa: B018 - reload the settings
    storages.__dict__.pop("backends", None)
    target = get_target()
    publish(full=True, target=target)
    article = site.articles[0]
    article.title = "编辑刚发布的标题"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        article.save_revision().publish()
    assert callbacks  # the request only queued work
    # ImmediateBackend ran the job when the transaction committed
    assert "编辑刚发布的标题".encode() in target.read(article.url.lstrip("/") + "index.html")
    assert not PendingChange.objects.exists()
    assert PublishRun.objects.first().trigger == "auto"
    storages._storages.pop("publish", None)


def test_scheduled_go_live_and_expiry_reach_the_static_site(site, folder_target):
    from deploy.tasks import run_scheduled_publishing
    from tests.factories import ArticlePageFactory

    publish(full=True, target=folder_target)
    scheduled = ArticlePageFactory(parent=site.news, title="定时发布", live=False)
    revision = scheduled.save_revision(approved_go_live_at=timezone.now() - timedelta(minutes=1))
    revision.publish()  # with a go-live date in the past... Wagtail publishes it immediately
    expiring = site.articles[2]
    expiring.expire_at = timezone.now() - timedelta(minutes=1)
    expiring.save_revision().publish()
    run_scheduled_publishing()  # what the worker's tick runs
    publish(target=folder_target)
    paths = site_paths(folder_target)
    assert scheduled.url.lstrip("/") + "index.html" in paths
    assert expiring.url.lstrip("/") + "index.html" not in paths


def test_tick_chain_keeps_only_one_alive(db, settings):
    from deploy import tasks
    from deploy.models import PublishLock

    # ImmediateBackend can't defer: no chain is started (the worker's database backend can)
    tasks.ensure_schedule()
    assert not PublishLock.objects.filter(name=tasks.TICK_LOCK).exists()
    PublishLock.objects.create(name=tasks.TICK_LOCK, holder="current", expires_at=timezone.now())
    assert tasks.schedule_tick.call("stale-token") == {"status": "superseded"}


def test_admin_history_and_publish_button(site, admin_client, folder_target, settings):
    settings.ROOT_URLCONF = "tests.deploy.urls"
    publish(full=True, target=folder_target)
    response = admin_client.get("/admin/publishing/")
    assert response.status_code == 200
    assert "发布全站".encode() in response.content
    run = PublishRun.objects.first()
    assert admin_client.get(f"/admin/publishing/{run.pk}/").status_code == 200
    PublishRun.objects.create(mode="incremental", status="failed", error="TargetError: S3 unreachable")
    home = admin_client.get("/admin/")
    assert "静态网站发布失败".encode() in home.content
