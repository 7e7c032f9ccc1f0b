"""The request being served, remembered for audit events raised far from any view.

Model signals (a group's permissions changed, a setting saved) carry no request; the audit
middleware stores the current one in a context variable so ``record`` can still say who did it,
from which address and with which browser.
"""

from __future__ import annotations

from contextvars import ContextVar

_current = ContextVar("shuyuan_audit_request", default=None)


def current_request():
    return _current.get()


class AuditRequestMiddleware:
    """Remember the current request for the audit log while it is served (sync and async views)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current.set(request)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
