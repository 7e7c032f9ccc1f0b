"""Taking submissions in (the page, the API, the public inbox) and what a published reply sets going.

One path for every submission: the rate limit (per client address, counted in the cache all workers
share: ``cms.api.throttling.throttle_cache``), then :func:`members.surveys.rules.validate` (size,
honeypot, open, fields), then a Wagtail ``FormSubmission`` row.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from cms.api.throttling import SharedCacheThrottle, seconds_to_wait

from . import rules

logger = logging.getLogger("shuyuan.surveys")
DEFAULT_RATE = (5, 600)


class SubmissionRateThrottle(SharedCacheThrottle):
    """Submissions per client address: ``SHUYUAN_FORMS_RATE_LIMIT = (count, seconds)`` (None: no limit),
    read on every request; the address as DRF identifies it (``REST_FRAMEWORK["NUM_PROXIES"]``)."""

    scope = "survey-submit"

    def __init__(self):
        limit = getattr(settings, "SHUYUAN_FORMS_RATE_LIMIT", DEFAULT_RATE)
        self.num_requests, self.duration = limit or (None, None)
        self.rate = f"{self.num_requests}/{self.duration}s" if limit else None

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def check_rate(request) -> None:
    wait = seconds_to_wait(SubmissionRateThrottle, request)
    if wait is not None:
        raise rules.Refusal(429, f"提交过于频繁，请 {wait} 秒后再试。")


def body_size(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def submit(page, data, *, size: int = 0, now=None):
    """Validate ``data`` against ``page``'s form and store it; a :class:`rules.Refusal` otherwise."""
    cleaned = rules.validate(page.form_spec(), data, now=now or timezone.now(), body_size=size)
    return page.get_submission_class().objects.create(form_data=cleaned, page=page)


def submit_from_request(page, request, data):
    if body_size(request) > rules.MAX_BODY:
        raise rules.Refusal(413, f"提交的内容过大（上限 {rules.MAX_BODY // 1000} KB），请精简后再提交。")
    check_rate(request)
    return submit(page, data, size=body_size(request))


def reply_changed(reply) -> None:
    """A reply that is (or was) public changes the mailbox page: queue it for the static site."""
    from cms import changes
    from cms.models.changes import ContentChange

    page_id = reply.submission.page_id
    changes.record(ContentChange.Event.PAGE_SAVED, page_id=page_id, reason="信箱回复")
