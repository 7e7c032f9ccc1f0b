"""Alibaba Cloud CDN (阿里云 CDN): refresh through ``RefreshObjectCaches`` with Alibaba's own SDK.

Settings (``WAGTAILFRONTENDCACHE``)::

    "aliyun": {
        "BACKEND": "deploy.cdn.aliyun.AliyunCdnBackend",
        "ACCESS_KEY_ID": "...", "ACCESS_KEY_SECRET": "...",   # a RAM user with cdn:RefreshObjectCaches
        # optional: "SECURITY_TOKEN" (STS), "ENDPOINT" ("cdn.aliyuncs.com"), "PROTOCOL" ("https"),
        # "TIMEOUT" (10 s), "DAILY_URL_QUOTA" (10000), "DAILY_DIRECTORY_QUOTA" (100),
        # "DIRECTORY_FALLBACK" (True), "DIRECTORIES_PER_BATCH" (10), "FORCE_DIRECTORY_REFRESH" (True),
        # "HOSTNAMES", "QUOTA_CACHE" ("default"), "QUOTA_TIMEZONE" ("Asia/Shanghai"), "QUOTA_KEY"
    }

Limits, from the API reference (RefreshObjectCaches, https://help.aliyun.com/document_detail/91164.html,
English: https://www.alibabacloud.com/help/en/cdn/developer-reference/api-cdn-2018-05-10-refreshobjectcaches):
by default an account may submit 10,000 URL refreshes and 100 directory refreshes a day (a ticket
raises them: set ``DAILY_URL_QUOTA`` / ``DAILY_DIRECTORY_QUOTA`` to the granted figures); one
request carries at most 1,000 URLs or 100 directories; at most 10,000 URLs a minute per domain and
50 calls a second per account (the daily quota keeps us far below both). ``ObjectPath`` holds the
URLs separated by ``\\n``; the SDK's model notes that one task may span at most 10 domains, and we
send one host per call.

The SDK (``alibabacloud_cdn20180510`` on ``alibabacloud_tea_openapi``) signs each request with
ACS3-HMAC-SHA256 (the V3 signature); ``ENDPOINT`` and ``PROTOCOL`` point it elsewhere (tests use a
local server that checks the signature).
"""

from __future__ import annotations

from .base import ChinaCdnBackend, RefreshRefused, _option, missing_sdk

__all__ = ["AliyunCdnBackend"]


class AliyunCdnBackend(ChinaCdnBackend):
    vendor = "阿里云 CDN"
    quota_prefix = "aliyun-cdn"
    max_urls_per_call = 1000
    max_directories_per_call = 100
    default_daily_urls = 10000
    default_daily_directories = 100

    def __init__(self, params: dict) -> None:
        super().__init__(params)
        access_key_id = _option(params, "ACCESS_KEY_ID", required=True)
        access_key_secret = _option(params, "ACCESS_KEY_SECRET", required=True)
        # A directory refresh marks the files under it expired; without Force a POP keeps a copy whose
        # Last-Modified the origin still reports. Withdrawn (deleted) pages must go, so force by default.
        self.force_directory_refresh = bool(params.get("FORCE_DIRECTORY_REFRESH", True))
        try:
            from alibabacloud_cdn20180510.client import Client
            from alibabacloud_tea_openapi.utils_models import Config
        except ImportError as e:
            raise missing_sdk("alibabacloud-cdn20180510") from e
        config = Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            security_token=params.get("SECURITY_TOKEN") or None,
            endpoint=params.get("ENDPOINT", "cdn.aliyuncs.com"),
            protocol=self.protocol,
            connect_timeout=int(self.timeout * 1000),
            read_timeout=int(self.timeout * 1000),
        )
        self.client = Client(config)
        self.url_quota, self.directory_quota = self._quotas(access_key_id)

    def refresh(self, kind: str, paths: list[str]) -> None:
        from alibabacloud_cdn20180510 import models
        from darabonba.exceptions import DaraException, UnretryableException
        from darabonba.runtime import RuntimeOptions

        request = models.RefreshObjectCachesRequest(
            object_path="\n".join(paths),
            object_type="File" if kind == "url" else "Directory",
            force=self.force_directory_refresh if kind == "directory" else None,
        )
        try:
            self.client.refresh_object_caches_with_options(request, RuntimeOptions(autoretry=False))
        except DaraException as e:  # the API answered with an error (ClientException, ThrottlingException...)
            raise RefreshRefused(str(getattr(e, "code", None) or type(e).__name__), str(getattr(e, "message", e))) from e
        except UnretryableException as e:  # could not reach the API
            raise RefreshRefused("NetworkError", str(e)) from e

