"""Tencent Cloud CDN (腾讯云 CDN): refresh through ``PurgeUrlsCache`` / ``PurgePathCache`` with Tencent's SDK.

Settings (``WAGTAILFRONTENDCACHE``)::

    "tencent": {
        "BACKEND": "deploy.cdn.tencent.TencentCdnBackend",
        "SECRET_ID": "...", "SECRET_KEY": "...",     # a CAM user allowed cdn:PurgeUrlsCache, cdn:PurgePathCache
        # optional: "TOKEN" (STS), "ENDPOINT" ("cdn.tencentcloudapi.com"), "PROTOCOL" ("https"),
        # "AREA" ("mainland" / "overseas"; default: the domain's acceleration region), "TIMEOUT" (10 s),
        # "DAILY_URL_QUOTA" (10000), "DAILY_DIRECTORY_QUOTA" (100), "DIRECTORY_FALLBACK" (True),
        # "DIRECTORIES_PER_BATCH" (10), "FLUSH_TYPE" ("delete"), "HOSTNAMES",
        # "QUOTA_CACHE" ("default"), "QUOTA_TIMEZONE" ("Asia/Shanghai"), "QUOTA_KEY"
    }

Limits, from the API reference (PurgeUrlsCache: https://www.tencentcloud.com/document/api/228/33601,
PurgePathCache: https://www.tencentcloud.com/document/api/228/33602; the same figures are in the
SDK's docstrings of ``CdnClient.PurgeUrlsCache`` / ``PurgePathCache``): by default 10,000 URL
refreshes a day for the Chinese mainland and as many for elsewhere, at most 1,000 URLs a call;
100 directory refreshes a day per region, at most 500 directories a call; 20 calls a second. ``DescribePurgeQuota`` reports an
account's actual figures: set ``DAILY_URL_QUOTA`` / ``DAILY_DIRECTORY_QUOTA`` to them if raised.
One backend counts one quota, so give each ``AREA`` its own backend if you purge both.

The SDK (``tencentcloud-sdk-python-cdn``) signs each request with TC3-HMAC-SHA256; ``ENDPOINT`` and
``PROTOCOL`` point it elsewhere (tests use a local server that checks the signature).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import ChinaCdnBackend, RefreshRefused, _option, missing_sdk

__all__ = ["TencentCdnBackend"]


class TencentCdnBackend(ChinaCdnBackend):
    vendor = "腾讯云 CDN"
    quota_prefix = "tencent-cdn"
    max_urls_per_call = 1000
    max_directories_per_call = 500
    default_daily_urls = 10000
    default_daily_directories = 100

    def __init__(self, params: dict) -> None:
        super().__init__(params)
        secret_id = _option(params, "SECRET_ID", required=True)
        secret_key = _option(params, "SECRET_KEY", required=True)
        self.area = params.get("AREA") or None
        if self.area not in (None, "mainland", "overseas"):
            raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: 'AREA' must be 'mainland' or 'overseas' (got {self.area!r}).")
        # "flush" refreshes only what changed at the origin (by Last-Modified); "delete" drops everything
        # under the directory. Withdrawn (deleted) pages must go, so "delete" by default.
        self.flush_type = params.get("FLUSH_TYPE", "delete")
        if self.flush_type not in ("flush", "delete"):
            raise ImproperlyConfigured(f"WAGTAILFRONTENDCACHE: 'FLUSH_TYPE' must be 'flush' or 'delete' (got {self.flush_type!r}).")
        try:
            from tencentcloud.cdn.v20180606 import cdn_client
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
        except ImportError as e:
            raise missing_sdk("tencentcloud-sdk-python-cdn") from e
        http = HttpProfile(
            protocol=self.protocol,
            endpoint=params.get("ENDPOINT", "cdn.tencentcloudapi.com"),
            reqTimeout=self.timeout,
        )
        profile = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http)
        cred = credential.Credential(secret_id, secret_key, params.get("TOKEN") or None)
        self.client = cdn_client.CdnClient(cred, "", profile)
        account = f"{secret_id}:{self.area or 'default'}"
        self.url_quota, self.directory_quota = self._quotas(account)

    def refresh(self, kind: str, paths: list[str]) -> None:
        from tencentcloud.cdn.v20180606 import models
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        if kind == "url":
            request = models.PurgeUrlsCacheRequest()
            request.Urls = paths
            call = self.client.PurgeUrlsCache
        else:
            request = models.PurgePathCacheRequest()
            request.Paths = paths
            request.FlushType = self.flush_type
            call = self.client.PurgePathCache
        if self.area:
            request.Area = self.area
        try:
            call(request)
        except TencentCloudSDKException as e:  # an error answer, or the API could not be reached
            raise RefreshRefused(str(e.get_code() or "TencentCloudSDKException"), str(e.get_message())) from e
