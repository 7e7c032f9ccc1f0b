"""One conformance suite for every publish target: a local folder and S3 (a real rclone S3 server)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from deploy.manifest import RenderedObject
from deploy.targets import META_SHA256, LocalFolderTarget, S3Target, StorageTarget, get_target, write_many

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
    t = S3Target(make_s3_storage(rclone_s3, s3_bucket, location="tenant/a"))
    t.write(*obj("index.html", b"hi"))
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert keys == ["tenant/a/index.html"]
    assert list(t.list_paths()) == ["index.html"]


def test_public_read_acl_is_refused(rclone_s3, s3_bucket):
    with pytest.raises(ImproperlyConfigured):
        S3Target(make_s3_storage(rclone_s3, s3_bucket, default_acl="public-read"))


FOLDER = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {}}
S3_OFFLINE = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "site", "region_name": "us-east-1"}}


def test_the_setting_names_the_target_class(tmp_path, settings):
    settings.STORAGES = {**settings.STORAGES, "publish": {**FOLDER, "OPTIONS": {"location": str(tmp_path / "site")}},
                         "other": {**FOLDER, "OPTIONS": {"location": str(tmp_path / "other")}}}
    settings.SHUYUAN_PUBLISH_TARGET = {"BACKEND": "deploy.targets.LocalFolderTarget", "OPTIONS": {"STORAGE": "publish"}}
    target = get_target()
    assert isinstance(target, LocalFolderTarget) and target.root == (tmp_path / "site").resolve()
    # the class named is the class used, even where another one could drive the storage
    settings.SHUYUAN_PUBLISH_TARGET = {"BACKEND": "deploy.targets.StorageTarget", "OPTIONS": {"STORAGE": "other"}}
    target = get_target()
    assert type(target) is StorageTarget
    target.write(*obj("a.txt", b"one", "text/plain"))
    assert (tmp_path / "other" / "a.txt").read_bytes() == b"one"
    # a folder given on the command line (publish_site --to DIR) is always a local folder
    assert isinstance(get_target(tmp_path / "cli"), LocalFolderTarget)


@pytest.mark.parametrize(
    ("declared", "storage", "message"),
    [
        (None, FOLDER, "SHUYUAN_PUBLISH_TARGET is not set"),
        ({"OPTIONS": {}}, FOLDER, "SHUYUAN_PUBLISH_TARGET needs a BACKEND"),
        ({"BACKEND": "deploy.targets.FtpTarget"}, FOLDER, "SHUYUAN_PUBLISH_TARGET: BACKEND 'deploy.targets.FtpTarget' cannot be imported"),
        ({"BACKEND": "deploy.manifest.Entry"}, FOLDER, "is not a publish target"),
        ({"BACKEND": "deploy.targets.LocalFolderTarget", "OPTIONS": {"STORAGE": "nowhere"}}, FOLDER, 'STORAGES["nowhere"]'),
        ({"BACKEND": "deploy.targets.LocalFolderTarget", "OPTIONS": {"BUCKET": "x"}}, FOLDER, "unknown OPTIONS ['BUCKET']"),
        ({"BACKEND": "deploy.targets.LocalFolderTarget", "OPTIONS": "publish"}, FOLDER, "OPTIONS must be a dict"),
        # the class and the storage disagree: said at start-up, with the way out
        ({"BACKEND": "deploy.targets.LocalFolderTarget"}, S3_OFFLINE, "deploy.targets.S3Target"),
        ({"BACKEND": "deploy.targets.S3Target"}, FOLDER, "S3Target needs an S3 storage"),
    ],
)
def test_a_bad_declaration_fails_at_start_up_naming_the_setting(settings, tmp_path, declared, storage, message):
    from deploy.system_checks import check_publish_target

    if storage is FOLDER:
        storage = {**FOLDER, "OPTIONS": {"location": str(tmp_path)}}
    settings.STORAGES = {**settings.STORAGES, "publish": storage}
    if declared is None:
        del settings.SHUYUAN_PUBLISH_TARGET
    else:
        settings.SHUYUAN_PUBLISH_TARGET = declared
    with pytest.raises(ImproperlyConfigured, match="SHUYUAN_PUBLISH_TARGET") as error:
        get_target()
    assert message in str(error.value)
    [problem] = check_publish_target()
    assert problem.id == "deploy.E002" and message in problem.msg


def test_the_shipped_settings_pass_the_check():
    from deploy.system_checks import check_publish_target

    assert check_publish_target() == []


def test_unreachable_s3_raises_target_error(s3_bucket):
    from botocore.config import Config

    from deploy.targets import TargetError

    storage = make_s3_storage(
        {"endpoint_url": "http://127.0.0.1:9"}, s3_bucket,
        client_config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(TargetError):
        S3Target(storage).read("_shuyuan/manifest.json")
