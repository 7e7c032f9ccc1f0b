"""One conformance suite for every publish target: a local folder and S3 (a real rclone S3 server)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from deploy.manifest import RenderedObject
from deploy.targets import META_SHA256, S3Target, target_for_storage, write_many

from .conftest import make_s3_storage


@pytest.fixture(params=["folder", "s3"])
def target(request):
    return request.getfixturevalue(f"{request.param}_target")


def obj(path, body, ctype="text/html; charset=utf-8", cache="public, max-age=60"):
    o = RenderedObject(path=path, body=body, content_type=ctype, cache_control=cache)
    return o.entry(), o.body


def test_write_read_list_delete(target):
    e, body = obj("zh-hans/news/index.html", "新闻".encode())
    target.write(e, body)
    assert target.read("zh-hans/news/index.html") == body
    assert target.read("missing.html") is None
    assert target.stored_sha256("zh-hans/news/index.html") == e.sha256
    write_many(target, [obj(f"p/{i}/index.html", b"%d" % i) for i in range(20)])
    assert set(target.list_paths()) == {"zh-hans/news/index.html"} | {f"p/{i}/index.html" for i in range(20)}
    target.delete_many([f"p/{i}/index.html" for i in range(20)] + ["never-existed.html"])
    assert set(target.list_paths()) == {"zh-hans/news/index.html"}


def test_overwrite_replaces_the_object(target):
    target.write(*obj("a.txt", b"one", "text/plain"))
    target.write(*obj("a.txt", b"two", "text/plain"))
    assert target.read("a.txt") == b"two"


def test_s3_objects_carry_headers_and_our_hash(s3_target, s3_client, s3_bucket):
    e, body = obj("static/site.0123456789ab.css", b"body{}", "text/css; charset=utf-8",
                  "public, max-age=31536000, immutable")
    s3_target.write(e, body)
    head = s3_client.head_object(Bucket=s3_bucket, Key="www/static/site.0123456789ab.css")
    assert head["ContentType"] == "text/css; charset=utf-8"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert {k.lower(): v for k, v in head["Metadata"].items()}[META_SHA256] == e.sha256
    got = s3_client.get_object(Bucket=s3_bucket, Key="www/static/site.0123456789ab.css")
    assert got["Body"].read() == b"body{}"


def test_s3_prefix_is_respected(rclone_s3, s3_bucket, s3_client):
    t = target_for_storage(make_s3_storage(rclone_s3, s3_bucket, location="tenant/a"))
    t.write(*obj("index.html", b"hi"))
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["tenant/a/index.html"]
    assert list(t.list_paths()) == ["index.html"]


def test_public_read_acl_is_refused(rclone_s3, s3_bucket):
    with pytest.raises(ImproperlyConfigured):
        S3Target(make_s3_storage(rclone_s3, s3_bucket, default_acl="public-read"))


def test_local_folder_is_chosen_for_filesystem_storage(tmp_path):
    from django.core.files.storage import FileSystemStorage

    from deploy.targets import LocalFolderTarget

    assert isinstance(target_for_storage(FileSystemStorage(location=tmp_path)), LocalFolderTarget)


def test_unreachable_s3_raises_target_error(s3_bucket):
    from botocore.config import Config

    from deploy.targets import TargetError

    storage = make_s3_storage(
        {"endpoint_url": "http://127.0.0.1:9"}, s3_bucket,
        client_config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(TargetError):
        target_for_storage(storage).read("_shuyuan/manifest.json")
