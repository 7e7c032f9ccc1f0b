"""Purge backends for the CDNs most Chinese deployments use: Alibaba Cloud CDN and Tencent Cloud CDN.

They are ``wagtail.contrib.frontend_cache`` backends, named in ``WAGTAILFRONTENDCACHE`` like
CloudFront or Cloudflare, so ``deploy.purge`` drives them as it drives any other: batched, retried
and recorded. They call the vendors' own SDKs, keep to each API's limits on URLs per call, and
count what they send against the account's daily refresh quota (``quota.py``) so that a large
publish is refused (or purged by directory) before the vendor refuses it.
"""
