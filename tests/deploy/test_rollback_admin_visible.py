"""The admin's rollback never fails silently: a rollback that another publish kept from starting, or
that failed, is a failed run in the publish history with a Chinese reason, and the admin shows it
(the history's status column, the run's page, the dashboard warning).

Negative cases first: the lease held by a running publish past the rollback's wait; an archive that
lost the release's files. Then the one that works still reads as a rollback in the history.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from deploy import releases
from deploy.models import PublishLock, PublishRun
from deploy.service import publish

from .test_releases import bodies_of, releases_on  # noqa: F401 -- the fixture


@pytest.fixture
def two_releases(site, folder_target, releases_on, settings):  # noqa: F811
    settings.ROOT_URLCONF = "tests.deploy.urls"
    publish(full=True, target=folder_target)
    a = site.articles[0]
    a.title = "回滚测试第二版"
    a.save_revision().publish()
    publish(target=folder_target)
    return folder_target, a.url.lstrip("/") + "index.html"


def test_a_rollback_kept_out_by_a_running_publish_is_recorded_and_shown(two_releases, admin_client, monkeypatch):
    target, page = two_releases
    monkeypatch.setattr(releases, "ROLLBACK_WAIT_LEASES", 0)  # give up at once instead of after 4 leases
    assert PublishLock.acquire(target.key, timedelta(seconds=60)) is not None  # a publish is running
    before = bodies_of(target)
    runs = PublishRun.objects.count()

    response = admin_client.post("/admin/publishing/rollback/1/", follow=True)
    assert response.status_code == 200
    assert "另一个发布正在进行".encode() in response.content  # said when it was asked for
    assert bodies_of(target) == before

    assert PublishRun.objects.count() == runs + 1
    run = PublishRun.objects.first()
    assert run.status == PublishRun.Status.FAILED and run.trigger == "admin"
    assert run.requested_by is not None and run.requested_by.is_superuser
    assert run.reason.startswith("回滚到第 1 版未执行：另一个发布一直占用发布目标")
    assert "PublishBusy" in run.error and run.lock_name == target.key[:255]
    assert releases.release_of(run) == {}  # not a release: the rollback offers stay as they were

    history = admin_client.get("/admin/publishing/").content.decode()
    assert "回滚未执行" in history and "回滚到第 1 版未执行" in history
    assert "/admin/publishing/rollback/1/" in history  # still offered, to try again
    assert "回滚到第 1 版未执行" in admin_client.get(f"/admin/publishing/{run.pk}/").content.decode()
    dashboard = admin_client.get("/admin/").content.decode()
    assert "静态网站回滚未执行" in dashboard and "回滚不会自动重试" in dashboard


def test_a_rollback_that_fails_says_so_in_chinese(two_releases, admin_client, releases_on):  # noqa: F811
    target, page = two_releases
    for blobs in releases_on.rglob("blobs"):
        shutil.rmtree(blobs)  # the archive lost the release's files
    before = bodies_of(target)
    response = admin_client.post("/admin/publishing/rollback/1/")
    assert response.status_code == 302
    assert bodies_of(target) == before
    run = PublishRun.objects.first()
    assert run.status == PublishRun.Status.FAILED and run.trigger == "admin"
    assert run.reason.startswith("回滚到第 1 版失败：第 1 版无法恢复：存档中缺少"), run.reason
    assert "RollbackError" in run.error
    history = admin_client.get("/admin/publishing/").content.decode()
    assert "回滚失败" in history and "回滚到第 1 版失败" in history
    assert "静态网站回滚失败" in admin_client.get("/admin/").content.decode()


def test_a_rollback_that_works_is_no_problem(two_releases, admin_client):
    target, page = two_releases
    assert admin_client.post("/admin/publishing/rollback/1/").status_code == 302
    run = PublishRun.objects.first()
    assert run.status == PublishRun.Status.SUCCEEDED and "rollback" not in run.changes
    assert "回滚到第 1 版" in run.reason
    history = admin_client.get("/admin/publishing/").content.decode()
    assert "回滚未执行" not in history and "回滚失败" not in history
    assert "回滚测试第二版".encode() not in target.read(page)
