"""Alibaba Cloud CDN and Tencent Cloud CDN purge backends, through the vendors' SDKs, against local servers.

Each server checks every request as the vendor does: it recomputes the signature from the request it
received with the test's secret (Alibaba: ACS3-HMAC-SHA256; Tencent: TC3-HMAC-SHA256), refuses a
replayed nonce or a stale timestamp, and checks the payload and the API's limits (URLs per call, per
day) before it answers in the vendor's format. One contract, run on both backends.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from wagtail.contrib.frontend_cache.utils import get_backends

from deploy.cdn import quota
from deploy.cdn.base import covering_directories
from deploy.models import PurgeRecord
from deploy.purge import purge
from tests.signed_apis import Refused, SignedApiServer, sha256

KEY_ID = "LTAI5tShuyuanTestKey"
SECRET = "shuyuan-cdn-test-secret-0123456789"
BASE = "https://www.example.org"


class FakeApi(SignedApiServer):
    """A vendor's CDN API: verifies, records and answers each call, counting the daily quotas."""

    def __init__(self, daily_urls: int = 10000, daily_dirs: int = 100) -> None:
        super().__init__({KEY_ID: SECRET})
        self.daily = {"url": daily_urls, "directory": daily_dirs}
        self.used = {"url": 0, "directory": 0}

    def calls(self, kind: str | None = None) -> list[dict]:
        return [c for c in self.accepted if kind is None or c["kind"] == kind]

    def count(self, kind: str, paths: list[str], per_call: int) -> None:
        if len(paths) > per_call:
            raise Refused("SingleRequest.OverLimit", f"at most {per_call} per request")
        if self.used[kind] + len(paths) > self.daily[kind]:
            raise Refused(self.quota_code, "daily refresh quota exceeded")
        self.used[kind] += len(paths)


class AliyunApi(FakeApi):
    """RefreshObjectCaches (CDN 2018-05-10), signed with ACS3-HMAC-SHA256 (the V3 signature):
    canonical request = method, URI, sorted RFC 3986-encoded query, the signed headers (lower-case
    name:trimmed value), their names, and the hex SHA-256 of the body; string to sign =
    "ACS3-HMAC-SHA256\\n" + hex SHA-256 of the canonical request; signature = hex HMAC-SHA256 with
    the AccessKey secret (https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature)."""

    content_type = "application/json;charset=utf-8"
    quota_code = "QuotaExceeded.Refresh"

    def handle(self, method, path, headers, body):
        self.verify_acs3(method, path, headers, body, {"host", "content-type"})
        if (method, headers["x-acs-action"], headers["x-acs-version"]) != ("POST", "RefreshObjectCaches", "2018-05-10"):
            raise Refused("InvalidAction.NotFound", "unexpected action")
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        kind = {"File": "url", "Directory": "directory"}.get(form.get("ObjectType", "File"))
        if kind is None:
            raise Refused("InvalidObjectType.Malformed", "The specified ObjectType is invalid.")
        paths = form["ObjectPath"].split("\n")
        if len({urlsplit(p).netloc for p in paths}) > 10 or any(len(p) > 1024 for p in paths):
            raise Refused("InvalidObjectPath.Malformed", "The specified ObjectPath is invalid.")
        self.count(kind, paths, 1000 if kind == "url" else 100)
        return {"kind": kind, "paths": paths, "force": form.get("Force")}

    def error(self, e):
        return e.status, {"RequestId": str(uuid.uuid4()), "HostId": "cdn.aliyuncs.com", "Code": e.code, "Message": e.message}

    def success(self, call):
        return {"RequestId": str(uuid.uuid4()), "RefreshTaskId": str(len(self.accepted))}


class TencentApi(FakeApi):
    """PurgeUrlsCache / PurgePathCache (CDN 2018-06-06), signed with TC3-HMAC-SHA256: canonical request =
    method, URI, query, the signed headers (lower-case name and value, trimmed), their names, and the
    hex SHA-256 of the body; string to sign = algorithm, X-TC-Timestamp, date/service/tc3_request and
    the hex SHA-256 of the canonical request; the key is derived HMAC by HMAC from "TC3" + SecretKey,
    the date, the service and "tc3_request" (Signature v3, https://intl.cloud.tencent.com/document/product/267/30852).
    Errors come back with HTTP 200 and ``Response.Error``, as Tencent's API does."""

    content_type = "application/json"
    quota_code = "LimitExceeded.CdnPurgeExceedDayLimit"

    def handle(self, method, path, headers, body):
        self.verify_tc3(method, path, headers, body, "cdn")
        if headers.get("x-tc-version") != "2018-06-06":
            raise Refused("InvalidParameter", "unexpected version")
        params = json.loads(body)
        action = headers.get("x-tc-action")
        if action == "PurgeUrlsCache":
            kind, paths, per_call = "url", params["Urls"], 1000
        elif action == "PurgePathCache":
            kind, paths, per_call = "directory", params["Paths"], 500
            if params.get("FlushType") not in ("flush", "delete"):
                raise Refused("InvalidParameter.CdnPurgeWildcardNotAllowed", "FlushType must be flush or delete")
        else:
            raise Refused("InvalidAction", "unexpected action")
        if not all(urlsplit(p).scheme in ("http", "https") for p in paths):
            raise Refused("InvalidParameter.CdnUrlInvalid", "URLs must carry their protocol")
        self.count(kind, paths, per_call)
        return {"kind": kind, "paths": paths, "force": params.get("FlushType"), "area": params.get("Area")}

    def error(self, e):
        return 200, {"Response": {"Error": {"Code": e.code, "Message": e.message}, "RequestId": str(uuid.uuid4())}}

    def success(self, call):
        return {"Response": {"TaskId": str(uuid.uuid4()), "RequestId": str(uuid.uuid4())}}


VENDORS = {
    "aliyun": (AliyunApi, "deploy.cdn.aliyun.AliyunCdnBackend", "ACCESS_KEY_ID", "ACCESS_KEY_SECRET"),
    "tencent": (TencentApi, "deploy.cdn.tencent.TencentCdnBackend", "SECRET_ID", "SECRET_KEY"),
}


class Vendor:
    def __init__(self, name: str) -> None:
        self.name = name
        api_class, self.backend_path, self.id_option, self.secret_option = VENDORS[name]
        self.api: FakeApi = api_class()

    def settings(self, secret: str = SECRET, **options) -> dict:
        return {
            self.name: {
                "BACKEND": self.backend_path,
                self.id_option: KEY_ID,
                self.secret_option: secret,
                "ENDPOINT": self.api.endpoint,
                "PROTOCOL": "http",
                "TIMEOUT": 5,
                **options,
            }
        }

    def backend(self, secret: str = SECRET, **options):
        return get_backends(self.settings(secret, **options))[self.name]


@pytest.fixture(params=sorted(VENDORS))
def vendor(request):
    cache.clear()
    v = Vendor(request.param)
    yield v
    v.api.stop()
    cache.clear()


@pytest.fixture
def fast_purge(settings):
    settings.SHUYUAN_PUBLISH = {**settings.SHUYUAN_PUBLISH, "BASE_URL": BASE, "PURGE_BACKOFF": 0, "PURGE_RETRIES": 1}
    return settings


def _urls(n: int, section: str = "news") -> list[str]:
    return [f"{BASE}/zh-hans/{section}/article-{i:05d}/" for i in range(n)]


def _sent(api: FakeApi, kind: str = "url") -> list[str]:
    return [p for c in api.calls(kind) for p in c["paths"]]


# -- refusals first --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_wrong_secret_is_refused_by_the_server_and_the_purge_fails(vendor, fast_purge):
    urls = _urls(3)
    outcome = purge(urls, backend_settings=vendor.settings(secret="not-the-secret"))
    assert not outcome.ok and outcome.failed_urls == sorted(urls)
    assert vendor.api.accepted == []
    expected = "SignatureDoesNotMatch" if vendor.name == "aliyun" else "AuthFailure.SignatureFailure"
    assert vendor.api.refused == [expected, expected]  # the first attempt and its one retry
    record = PurgeRecord.objects.get()
    assert not record.ok and record.attempts == 2 and expected in record.error
    # refused refreshes don't use the vendor's quota, so they don't use ours
    assert vendor.backend().url_quota.used() == 0


@pytest.mark.django_db
def test_the_server_refuses_a_changed_payload_a_replay_and_an_unknown_key(vendor, caplog):
    """The fake APIs must be able to refuse, or every test passing through them proves nothing."""
    vendor.backend().purge_batch(_urls(2))
    assert len(vendor.api.accepted) == 1
    _, _, body = vendor.api.raw[0]
    changed = body.replace(b"article-00001", b"article-99999")
    assert changed != body
    if vendor.name == "aliyun":
        # a new body with its own hash header still fails the signature; a replay reuses a nonce
        assert vendor.api.replay(0, changed, x_acs_content_sha256=sha256(changed)) == "SignatureDoesNotMatch"
        assert vendor.api.replay(0) == "SignatureNonceUsed"
    else:
        assert vendor.api.replay(0, changed) == "AuthFailure.SignatureFailure"
        assert vendor.api.replay(0, X_TC_Timestamp=str(int(time.time()) - 3600)) == "AuthFailure.SignatureExpire"
    assert len(vendor.api.accepted) == 1
    vendor.api.secrets = {"someone-else": SECRET}
    vendor.backend().purge_batch(_urls(1, "events"))
    assert len(vendor.api.accepted) == 1 and "刷新失败" in caplog.text


@pytest.mark.django_db
def test_an_unreachable_api_fails_the_batch_and_uses_no_quota(vendor, caplog):
    backend = vendor.backend()
    vendor.api.stop()
    backend.purge_batch(_urls(3))
    assert "刷新失败" in caplog.text and backend.url_quota.used() == 0


def test_settings_are_checked_when_the_backend_is_built(vendor):
    with pytest.raises(ImproperlyConfigured, match=vendor.secret_option):
        vendor.backend(secret="")
    with pytest.raises(ImproperlyConfigured, match="DAILY_URL_QUOTA"):
        vendor.backend(DAILY_URL_QUOTA=-1)
    with pytest.raises(ImproperlyConfigured, match="PROTOCOL"):
        vendor.backend(PROTOCOL="ftp")
    with pytest.raises(ImproperlyConfigured, match="QUOTA_CACHE"):
        vendor.backend(QUOTA_CACHE="nowhere")
    with pytest.raises(ImproperlyConfigured, match="QUOTA_TIMEZONE"):
        vendor.backend(QUOTA_TIMEZONE="Mars/Olympus")


# -- batching -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_2500_urls_go_in_three_calls_of_at_most_1000(vendor, fast_purge):
    urls = _urls(2500)
    fast_purge.SHUYUAN_PUBLISH = {**fast_purge.SHUYUAN_PUBLISH, "PURGE_BATCH_SIZE": 2500}
    fast_purge.WAGTAILFRONTENDCACHE = vendor.settings()  # configured like any other backend
    outcome = purge(urls)
    assert outcome.ok and outcome.sent == 2500
    assert [len(c["paths"]) for c in vendor.api.calls()] == [1000, 1000, 500]
    assert sorted(_sent(vendor.api)) == sorted(urls)
    assert vendor.api.refused == []
    assert PurgeRecord.objects.get().ok


@pytest.mark.django_db
def test_urls_are_sent_percent_encoded_and_once_per_host(vendor):
    vendor.backend().purge_batch([
        f"{BASE}/zh-hans/新闻/党建/", f"{BASE}/zh-hans/%E6%96%B0%E9%97%BB/%E5%85%9A%E5%BB%BA/",
        "https://static.example.org/css/site.css",
    ])
    calls = vendor.api.calls("url")
    assert [c["paths"] for c in calls] == [
        [f"{BASE}/zh-hans/%E6%96%B0%E9%97%BB/%E5%85%9A%E5%BB%BA/"],
        ["https://static.example.org/css/site.css"],
    ]


# -- the daily quota ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_beyond_the_url_quota_the_batch_is_refreshed_by_directory(vendor, caplog):
    vendor.api.daily["url"] = 1500  # the account's quota, which the backend is told
    backend = vendor.backend(DAILY_URL_QUOTA=1500)
    backend.purge_batch(_urls(1000))
    batch = _urls(300, "notices-a") + _urls(300, "notices-b") + [f"{BASE}/zh-hans/"]
    backend.purge_batch(batch)
    assert vendor.api.refused == []  # never learnt from an API error
    assert len(_sent(vendor.api, "url")) == 1000
    (call,) = vendor.api.calls("directory")
    assert call["paths"] == [f"{BASE}/"]  # "/zh-hans/" sits at the root: only the root covers it
    # withdrawn pages must not survive a directory refresh: forced (Alibaba), everything dropped (Tencent)
    assert str(call["force"]).lower() in ("true", "delete")
    assert "改为刷新 1 个目录" in caplog.text
    assert backend.url_quota.remaining() == 500 and backend.directory_quota.used() == 1


@pytest.mark.django_db
def test_directories_are_as_deep_as_the_directory_quota_allows(vendor):
    backend = vendor.backend(DAILY_URL_QUOTA=100)
    backend.purge_batch(_urls(300, "notices") + _urls(200, "news"))
    (call,) = vendor.api.calls("directory")
    assert call["paths"] == [f"{BASE}/zh-hans/news/", f"{BASE}/zh-hans/notices/"]
    assert _sent(vendor.api, "url") == []


@pytest.mark.django_db
def test_one_batch_spends_few_directories(vendor):
    backend = vendor.backend(DAILY_URL_QUOTA=0, DIRECTORIES_PER_BATCH=3)
    backend.purge_batch([u for s in range(5) for u in _urls(2, f"s{s}")] + [f"{BASE}/en/s0/a/"])
    (call,) = vendor.api.calls("directory")
    assert call["paths"] == [f"{BASE}/en/", f"{BASE}/zh-hans/"]  # not the six sections
    assert backend.directory_quota.used() == 2


@pytest.mark.django_db
def test_with_both_quotas_spent_the_batch_is_deferred_with_a_reason_then_sent_the_next_day(
    vendor, fast_purge, caplog, monkeypatch
):
    vendor.api.daily.update(url=10, directory=1)
    options = {"DAILY_URL_QUOTA": 10, "DAILY_DIRECTORY_QUOTA": 1}
    assert purge(_urls(8), backend_settings=vendor.settings(**options)).ok
    assert purge(_urls(5, "events"), backend_settings=vendor.settings(**options)).ok  # by directory
    calls = len(vendor.api.accepted)
    later = _urls(5, "notices")
    outcome = purge(later, backend_settings=vendor.settings(**options))
    assert outcome.failed_urls == sorted(later)
    assert len(vendor.api.accepted) == calls and vendor.api.refused == []  # refused here, not by the API
    record = PurgeRecord.objects.filter(ok=False).get()
    assert "今日刷新额度不足" in record.error and "URL 额度剩余 2/10" in record.error
    assert "目录额度剩余 0/1" in record.error
    # the vendor's day (China Standard Time) turns; the publisher's next run sends what it owes
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(quota, "now", lambda: tomorrow)
    vendor.api.used = {"url": 0, "directory": 0}
    assert purge(later, backend_settings=vendor.settings(**options)).ok
    assert _sent(vendor.api)[-5:] == later


@pytest.mark.django_db
def test_without_directory_fallback_an_oversized_batch_is_deferred(vendor, caplog):
    backend = vendor.backend(DAILY_URL_QUOTA=10, DIRECTORY_FALLBACK=False)
    backend.purge_batch(_urls(11))
    assert vendor.api.accepted == [] and "未启用按目录刷新" in caplog.text
    assert backend.url_quota.used() == 0


@pytest.mark.django_db
def test_two_backends_on_one_account_share_its_quota(vendor):
    first = vendor.backend(DAILY_URL_QUOTA=10, DIRECTORY_FALLBACK=False)
    second = vendor.backend(DAILY_URL_QUOTA=10, DIRECTORY_FALLBACK=False, HOSTNAMES=["www.example.org"])
    first.purge_batch(_urls(6))
    second.purge_batch(_urls(6, "events"))
    assert len(vendor.api.accepted) == 1 and second.url_quota.remaining() == 4


def test_covering_directories_are_the_deepest_within_the_limit():
    urls = [f"{BASE}/a/b/c/x.html", f"{BASE}/a/b/d/", f"{BASE}/a/e/f/", "https://cdn.example.org/s/1.css"]
    # /a/b/c/ lies inside /a/b/ (the directory holding the page /a/b/d/), so it is not sent
    assert covering_directories(urls, 10) == ["https://cdn.example.org/s/", f"{BASE}/a/b/", f"{BASE}/a/e/"]
    assert covering_directories(urls, 3) == covering_directories(urls, 10)
    assert covering_directories(urls, 2) == ["https://cdn.example.org/s/", f"{BASE}/a/"]
    assert covering_directories(urls, 1) == []  # two hosts need two roots
    assert covering_directories([f"{BASE}/x/", f"{BASE}/y/"], 1) == [f"{BASE}/"]


def test_the_quota_day_turns_at_midnight_china_standard_time(monkeypatch):
    cache.clear()
    daily = quota.DailyQuota("test-account:urls", 10)
    monkeypatch.setattr(quota, "now", lambda: datetime(2026, 12, 6, 15, 59, tzinfo=UTC))  # 23:59 in Beijing
    assert daily.take(10) is not None and daily.take(1) is None
    monkeypatch.setattr(quota, "now", lambda: datetime(2026, 12, 6, 16, 1, tzinfo=UTC))  # 00:01 the next day
    assert daily.remaining() == 10 and daily.take(10) is not None
    cache.clear()
