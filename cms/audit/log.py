"""``record()``: the one way to write an audit event.

Every part of Shuyuan that has something to tell the auditor (logins, lockouts, unlocks, 2FA,
permission and setting changes, exports) calls ``record``. It fills in the client address, user agent
and acting account from the request, or from the request the audit middleware remembers when the
caller (a signal receiver) has none. Secrets never reach the log: detail keys that look like
passwords or tokens are dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address

from .context import current_request

logger = logging.getLogger("shuyuan.audit")

USER_AGENT_MAX = 512
_SECRET_MARKERS = ("password", "passwd", "secret", "token", "otp", "key", "code", "credential")


def client_address(request) -> str | None:
    """The client's address as DRF's throttles see it: ``X-Forwarded-For`` only
    ``REST_FRAMEWORK["NUM_PROXIES"]`` hops back, ``REMOTE_ADDR`` when there are no proxies, so a
    client cannot forge its address by sending the header itself."""
    from rest_framework.throttling import BaseThrottle

    address = BaseThrottle().get_ident(request) or ""
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


def _clean_detail(detail: dict | None) -> dict:
    """Drop anything that might be a secret, and make the rest JSON-safe."""
    cleaned: dict[str, Any] = {}
    for key, value in (detail or {}).items():
        if any(marker in str(key).lower() for marker in _SECRET_MARKERS):
            continue
        cleaned[str(key)] = _json_safe(value)
    return cleaned


def _json_safe(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _authenticated(user):
    return user if user is not None and getattr(user, "is_authenticated", False) and user.pk else None


def record(
    action: str,
    *,
    request=None,
    user=None,
    username: str = "",
    detail: dict | None = None,
    obj=None,
):
    """Append one audit event and return it.

    ``user`` is the account the event is about (who logged in, whose password changed); when it is
    omitted, the request's user is taken. ``obj`` optionally names the object acted upon. When the
    event is about one account and a different, signed-in account did it (an administrator editing a
    user), the acting account is kept in ``detail["actor"]``.
    """
    from .models import AuditEvent

    request = request if request is not None else current_request()
    request_user = _authenticated(getattr(request, "user", None)) if request is not None else None
    subject = _authenticated(user) or (request_user if user is None else None)
    name = username or (subject.get_username() if subject else "") or (user.get_username() if user else "")

    detail = _clean_detail(detail)
    if (
        request_user is not None
        and (subject is None or subject.pk != request_user.pk)
        and "actor" not in detail
    ):
        detail["actor"] = request_user.get_username()

    event = AuditEvent(action=action, user=subject, username=name[:150], detail=detail)
    if request is not None:
        event.address = client_address(request)
        event.user_agent = (request.META.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX]
    if obj is not None:
        event.content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        event.object_id = str(obj.pk)[:255]
        event.object_repr = str(obj)[:255]
    event.save()
    return event
