"""Notification backends, declared by channel like the project's other backends (``cms.backends``)::

    SHUYUAN_NOTIFY = {
        "email": {"BACKEND": "members.notify.email.EmailBackend"},
        "sms": {"BACKEND": "members.notify.aliyun.AliyunSmsBackend", "OPTIONS": {...}},
    }

Without the setting, e-mail goes through Django's mail (``EMAIL_BACKEND``) and there is no SMS
channel. The setting is read at call time; ``members.checks`` builds every declared backend at
start-up, so a bad declaration stops ``manage.py check`` and the servers with a message naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from cms.backends import build_backend, label_for, load_backend

from .base import Message, NotifyBackend, Result

__all__ = ["CHANNELS", "DEFAULT_NOTIFY", "Message", "NotifyBackend", "Result", "backend", "channels", "validate"]

SETTING = "SHUYUAN_NOTIFY"
CHANNELS = ("email", "sms")
DEFAULT_NOTIFY: dict[str, Any] = {"email": {"BACKEND": "members.notify.email.EmailBackend"}}


def declarations() -> Mapping[str, Any]:
    config = getattr(settings, SETTING, None)
    if config is None:
        return DEFAULT_NOTIFY
    if not isinstance(config, Mapping):
        raise ImproperlyConfigured(f'{SETTING} must be a dict by channel: {{"email": {{"BACKEND": ...}}, "sms": {{...}}}}.')
    unknown = set(config) - set(CHANNELS)
    if unknown:
        raise ImproperlyConfigured(f"{SETTING} has unknown channels {sorted(unknown)} (expected {', '.join(CHANNELS)}).")
    return config


def channels() -> list[str]:
    """The channels that have a backend."""
    return [c for c in CHANNELS if c in declarations()]


def _build(channel: str) -> NotifyBackend:
    config = declarations()
    label = label_for(SETTING, channel)
    if channel not in config:
        raise ImproperlyConfigured(f"{label} is not declared: no backend sends by {channel}.")
    built = build_backend(config[channel], NotifyBackend, label, kind="notification backend")
    if built.channel != channel:
        raise ImproperlyConfigured(f"{label}: {type(built).__name__} sends by {built.channel!r}, not {channel!r}.")
    return built


def backend(channel: str) -> NotifyBackend:
    """The backend of ``channel``, built once per process (rebuilt when the setting changes)."""
    return load_backend(SETTING, channel, build=lambda: _build(channel))


def validate() -> None:
    """Build every declared backend (fresh, not cached): raises ImproperlyConfigured for a bad one."""
    for channel in declarations():
        _build(channel)
