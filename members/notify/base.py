"""The notification contract: a backend sends one message to a list of addresses and says, for each
address, whether it was accepted (``sent``) or refused (``failed``, with the vendor's code and message).

Backends are declared in ``SHUYUAN_NOTIFY`` by channel (``"email"``, ``"sms"``) and built by
``members.notify.backend`` through ``cms.backends``; each checks its own OPTIONS in ``__init__`` (a
``ValueError`` there becomes an ``ImproperlyConfigured`` naming the setting) and imports its SDK lazily.
``max_per_call`` is how many addresses one call may carry: callers hand ``send`` at most that many.
A backend never raises for a refused call: it returns a failed result for each address of the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    #: extra template parameters (SMS templates name theirs; see each SMS backend's TEMPLATE_PARAMS)
    params: dict[str, str] = field(default_factory=dict)

    def fields(self) -> dict[str, str]:
        return {"title": self.title, "body": self.body, **self.params}


@dataclass(frozen=True)
class Result:
    address: str
    ok: bool
    code: str = ""
    message: str = ""
    #: the vendor's receipt (Alibaba's BizId, Tencent's SerialNo, the e-mail's Message-ID)
    ref: str = ""


class NotifyBackend:
    #: the channel this backend serves: "email" or "sms"
    channel = ""
    max_per_call = 1
    #: shown in messages
    vendor = ""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def send(self, message: Message, addresses: list[str]) -> list[Result]:
        raise NotImplementedError

    @staticmethod
    def failed_all(addresses: list[str], code: str, message: str) -> list[Result]:
        return [Result(a, False, code[:100], message[:500]) for a in addresses]


def require(options: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not options.get(n)]
    if missing:
        raise ValueError(f"OPTIONS needs {', '.join(missing)}")


def timeout_option(options: dict[str, Any]) -> float:
    value = options.get("TIMEOUT", 10)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"TIMEOUT must be a number of seconds > 0 (got {value!r})")
    return value


def protocol_option(options: dict[str, Any]) -> str:
    value = options.get("PROTOCOL", "https")
    if value not in ("http", "https"):
        raise ValueError(f"PROTOCOL must be 'http' or 'https' (got {value!r})")
    return value
