"""CDN purge (exact URLs, batched, retried, recorded; failures never lose a publish), background jobs,
scheduled go-live, and the admin history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deploy import pending as feed
from deploy.manifest import MANIFEST_PATH, Manifest
from deploy.models import PublishRun, PurgeRecord
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
    assert not feed.exists()
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


def test_the_scheduled_tick_retries_failed_purges(site, folder_target, cdn):
    from deploy import tasks
    from deploy.models import PublishLock

    publish(full=True, target=folder_target)
    cdn.WAGTAILFRONTENDCACHE = {"cdn": {"BACKEND": "tests.deploy.purge_backends.LoggingFailureBackend"}}
    article = site.articles[0]
    article.title = "CDN 恢复前的修改"
    article.save_revision().publish()
    assert publish(target=folder_target).run.purge_failed
    assert not feed.exists()  # nothing else will trigger a publish
    assert tasks.purge_owed()
    cdn.WAGTAILFRONTENDCACHE = {"cdn": {"BACKEND": "tests.deploy.purge_backends.RecordingBackend"}}
    PublishLock.objects.create(name=tasks.TICK_LOCK, holder="tick", expires_at=timezone.now())
    assert tasks.schedule_tick.call("tick") == {"status": "ok"}
    assert BASE + article.url in [u for b in purge_backends.PURGED for u in b]
    assert Manifest.from_bytes(folder_target.read(MANIFEST_PATH)).pending_purge == []
    run = PublishRun.objects.first()
    assert run.trigger == "schedule" and not run.purge_failed and run.purged > 0
    assert not tasks.purge_owed()
    # nothing owed: the next tick publishes nothing
    runs = PublishRun.objects.count()
    tasks.schedule_tick.call("tick")
    assert PublishRun.objects.count() == runs


def test_a_failed_publish_keeps_the_purges_owed(site, folder_target, cdn, monkeypatch):
    """A run that starts with purges owed and fails before sending them still tells the tick."""
    from deploy import tasks
    from deploy.targets import TargetError

    publish(full=True, target=folder_target)
    cdn.WAGTAILFRONTENDCACHE = {"cdn": {"BACKEND": "tests.deploy.purge_backends.RaisingBackend"}}
    site.articles[0].title = "又一次修改"
    site.articles[0].save_revision().publish()
    publish(target=folder_target)
    site.articles[1].title = "目标不可用时的修改"
    site.articles[1].save_revision().publish()
    monkeypatch.setattr(type(folder_target), "write", lambda *a, **k: (_ for _ in ()).throw(TargetError("down")))
    with pytest.raises(TargetError):
        publish(target=folder_target)
    assert PublishRun.objects.first().status == PublishRun.Status.FAILED
    assert tasks.purge_owed()


def _user_in(group_name: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(f"user-{group_name}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.mark.parametrize("group_name", ["审核人员", "编辑人员"])
def test_reviewers_and_editors_see_the_history_and_failures(site, client, settings, group_name):
    settings.ROOT_URLCONF = "tests.deploy.urls"
    user = _user_in(group_name)
    assert user.has_perm("deploy.view_publishrun") and not user.has_perm("deploy.add_publishrun")
    client.force_login(user)
    run = PublishRun.objects.create(mode="incremental", status="failed", error="TargetError: S3 unreachable")
    response = client.get("/admin/publishing/")
    assert response.status_code == 200
    assert b"S3 unreachable" in response.content
    assert b"publish-all" not in response.content  # no button: publishing the whole site is not theirs
    assert client.get(f"/admin/publishing/{run.pk}/").status_code == 200
    assert "静态网站发布失败".encode() in client.get("/admin/").content
    # Wagtail's admin answers a permission error with a redirect and a message; nothing is published
    response = client.post("/admin/publishing/publish-all/")
    assert response.status_code in (302, 403) and response.get("Location", "/admin/") == "/admin/"
    assert not PublishRun.objects.filter(trigger="admin").exists()


def test_members_see_no_publish_history(site, client, settings):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    settings.ROOT_URLCONF = "tests.deploy.urls"
    user = get_user_model().objects.create_user("staff-without-rights", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    response = client.get("/admin/publishing/")
    assert response.status_code in (302, 403) and response.get("Location", "/admin/") == "/admin/"


def test_a_killed_publish_shows_as_interrupted_once_its_lease_expired(site, admin_client, folder_target, settings):
    from deploy.models import PublishLock

    settings.ROOT_URLCONF = "tests.deploy.urls"
    holder = PublishLock.acquire(folder_target.key, timedelta(minutes=5))
    # what a publish killed with SIGKILL leaves: a "running" run, its lease running out
    run = PublishRun.objects.create(mode="full", lock_name=folder_target.key, holder=holder)
    admin_client.get("/admin/publishing/")
    run.refresh_from_db()
    assert run.status == PublishRun.Status.RUNNING  # its lease is alive: it may still be running
    PublishLock.objects.filter(name=folder_target.key).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = admin_client.get("/admin/publishing/")
    run.refresh_from_db()
    assert run.status == PublishRun.Status.INTERRUPTED and run.finished_at is not None
    assert "中断".encode() in response.content
    assert "静态网站发布中断".encode() in admin_client.get("/admin/").content
    # the next publish to the target closes such runs too, before anyone looks
    other = PublishRun.objects.create(mode="full", lock_name=folder_target.key, holder="dead-holder")
    assert publish(full=True, target=folder_target).run.status == PublishRun.Status.SUCCEEDED
    other.refresh_from_db()
    assert other.status == PublishRun.Status.INTERRUPTED
    # a run recorded before leases were noted: interrupted once the default lease is over
    old = PublishRun.objects.create(mode="full", started_at=timezone.now() - timedelta(hours=2))
    assert PublishRun.mark_interrupted() == 1
    old.refresh_from_db()
    assert old.status == PublishRun.Status.INTERRUPTED
