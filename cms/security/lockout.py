"""Lockout after repeated login failures, on top of django-axes.

django-axes counts failures per account and per client address (``AXES_LOCKOUT_PARAMETERS``) and
refuses a locked client before its password is checked. This module supplies what axes leaves to the
project: the numbers (read from ``SHUYUAN_LOGIN_*`` at request time), the client address (the one the
API's rate limits and the audit log use), the Chinese message saying how long, the answer (the login
page again, or JSON on ``/api/``), and the list of current locks that security administrators lift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _


def failure_limit(request=None, credentials=None) -> int:
    """``AXES_FAILURE_LIMIT``: failures in a row that lock an account or an address."""
    return settings.SHUYUAN_LOGIN_FAILURE_LIMIT


def cool_off(request=None) -> timedelta:
    """``AXES_COOLOFF_TIME``: how long a lock lasts."""
    return timedelta(minutes=settings.SHUYUAN_LOGIN_LOCKOUT_MINUTES)


def client_ip(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: ``X-Forwarded-For`` is believed only ``NUM_PROXIES`` hops back, as
    for rate limits and the audit log, so an attacker cannot escape the per-address lock by sending the
    header with a new address each time."""
    from cms.audit.log import client_address

    return client_address(request)


class LockoutHandler(AxesDatabaseHandler):
    """Axes's database handler, except that a successful login clears only the failures made against
    that account. Axes would also clear every failure from the client's address, which lets someone who
    owns one account guess another's password without end: four guesses, one login of their own, repeat.
    """

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
        if not username:
            return 0
        count, _deleted = AccessAttempt.objects.filter(username=username).delete()
        return count


def unlock_at(request: HttpRequest | None = None, credentials: dict | None = None) -> datetime:
    """When the lock on this request's account or address ends at the latest: the newest counted
    failure plus the cool-off (rows older than the cool-off no longer count)."""
    now = timezone.now()
    threshold = now - cool_off()
    latest = None
    if request is not None:
        username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
        address = getattr(request, "axes_ip_address", None) or client_ip(request)
        attempts = AccessAttempt.objects.filter(attempt_time__gte=threshold)
        candidates = [attempts.filter(ip_address=address)]
        if username:
            candidates.append(attempts.filter(username=username))
        for queryset in candidates:
            found = queryset.aggregate(latest=Max("attempt_time"))["latest"]
            if found and (latest is None or found > latest):
                latest = found
    return (latest or now) + cool_off()


def retry_after_seconds(request: HttpRequest | None = None, credentials: dict | None = None) -> int:
    return max(1, math.ceil((unlock_at(request, credentials) - timezone.now()).total_seconds()))


def lockout_message(request: HttpRequest | None = None, credentials: dict | None = None) -> str:
    """The message every login path shows, with the minutes left (rounded up)."""
    minutes = max(1, math.ceil(retry_after_seconds(request, credentials) / 60))
    return _("登录失败次数过多，账户已锁定，请 %(minutes)d 分钟后再试") % {"minutes": minutes}


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the answer once axes flags the request as locked out.

    The API gets JSON (``{"message": ..., "code": "locked"}``, 429, ``Retry-After``), as every other API
    error. A login page is answered with itself: the login forms (``cms.security.forms``) have already
    put the lockout message in place of "wrong password", so only the status changes to 429.
    """
    credentials = credentials or getattr(request, "axes_credentials", None)
    seconds = retry_after_seconds(request, credentials)
    message = lockout_message(request, credentials)
    status = settings.AXES_HTTP_RESPONSE_CODE
    if is_api_request(request):
        response = JsonResponse(
            {"message": message, "code": "locked"}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    elif isinstance(original_response, TemplateResponse) and original_response.status_code == 200:
        original_response.status_code = status
        response = original_response
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    return response


def is_locked_out(request: HttpRequest) -> bool:
    """Whether axes refused or locked this request's login (set on the request by axes)."""
    return bool(getattr(request, "axes_locked_out", False))


@dataclass(frozen=True)
class Lock:
    """A locked account or address, as the security administrator's list shows it."""

    kind: str  # "username" or "ip_address"
    value: str
    failures: int
    last_failure: datetime
    unlocks_at: datetime


def current_locks() -> list[Lock]:
    """Accounts and addresses whose counted failures reach the limit now."""
    threshold = timezone.now() - cool_off()
    limit = failure_limit()
    attempts = AccessAttempt.objects.filter(attempt_time__gte=threshold)
    locks = []
    for kind in ("username", "ip_address"):
        rows = (
            attempts.exclude(**{f"{kind}__isnull": True})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")
        )
        locks.extend(
            Lock(kind, row[kind], row["failures"], row["last"], row["last"] + cool_off()) for row in rows
        )
    return locks


def unlock(kind: str, value: str) -> int:
    """Forget the failures of an account or an address, which lifts its lock. Returns rows removed."""
    if kind not in ("username", "ip_address"):
        raise ValueError(f"cannot unlock by {kind!r}: use 'username' or 'ip_address'")
    count, _deleted = AccessAttempt.objects.filter(**{kind: value}).delete()
    return count
