"""The rules a survey or mailbox submission must pass: one module for the CMS (the page, the API, the
import of the public inbox) and the isolated public service (``search.public``), which has no Django.

Pure Python on purpose: a form's definition is a plain dict (:func:`spec` shape, exported as JSON by
``search.public.export``), a submission is a mapping of field name to a string or a list of strings.
Every refusal is a :class:`Refusal` with an HTTP status and a message in Chinese for the reader.

A definition::

    {"id": 12, "kind": "survey" | "mailbox", "title": "...", "url": "https://.../survey/",
     "opens_at": "2026-01-01T00:00:00+00:00" | None, "closes_at": ... | None,
     "max_body": 20000, "fields": [{"name": "q1", "label": "...", "type": "radio", "required": true,
     "choices": ["甲", "乙"], "max_length": 255}]}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

#: the honeypot: a field hidden from people (CSS and ``aria-hidden``) that robots fill in
HONEYPOT = "website"
#: the most characters of one answer: a line, a long text (a letter's body)
MAX_LINE = 255
MAX_TEXT = 5000
#: the most bytes of a whole submission's body
MAX_BODY = 20_000
#: the most fields a submission may send (its own fields, the honeypot and a few extras)
MAX_KEYS = 100

TEXT_TYPES = frozenset({"singleline", "multiline", "email", "number", "url", "date", "datetime", "hidden"})
SINGLE_CHOICE = frozenset({"dropdown", "radio"})
MULTI_CHOICE = frozenset({"checkboxes", "multiselect"})
CHOICE_TYPES = SINGLE_CHOICE | MULTI_CHOICE
EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}")
URL_RE = re.compile(r"https?://\S{1,2000}")
NUMBER_RE = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TRUE = frozenset({"on", "true", "1", "yes"})


class Refusal(Exception):
    """A submission refused: ``status`` (400 bad input, 404 no such form, 409 closed, 413 too large,
    429 too many) and a message for the reader."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def split_choices(raw: str) -> list[str]:
    """Wagtail's rule: one choice a line, or comma-separated when there is a single line."""
    raw = (raw or "").strip()
    parts = raw.splitlines() if "\n" in raw else raw.split(",")
    return [p.strip() for p in parts if p.strip()]


def max_length_of(field_type: str) -> int:
    return MAX_TEXT if field_type == "multiline" else MAX_LINE


def _moment(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def state(spec: Mapping[str, Any], now: dt.datetime) -> str:
    """``open``, ``not_yet`` (before ``opens_at``) or ``closed`` (at or after ``closes_at``)."""
    opens, closes = _moment(spec.get("opens_at")), _moment(spec.get("closes_at"))
    if opens is not None and now < opens:
        return "not_yet"
    if closes is not None and now >= closes:
        return "closed"
    return "open"


def closed_message(spec: Mapping[str, Any], now: dt.datetime) -> str | None:
    """None while the form takes submissions, else why not (Chinese)."""
    current = state(spec, now)
    if current == "not_yet":
        opens = _moment(spec.get("opens_at"))
        return f"本{_noun(spec)}尚未开始，将于 {_local(opens)} 开放。"
    if current == "closed":
        return f"本{_noun(spec)}已于 {_local(_moment(spec.get('closes_at')))} 截止，不再接受提交。"
    return None


def _noun(spec: Mapping[str, Any]) -> str:
    return "信箱" if spec.get("kind") == "mailbox" else "问卷"


def _local(moment: dt.datetime | None) -> str:
    """Beijing time, which the readers live in (no tz database needed: China has no summer time)."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone(dt.timedelta(hours=8)))
    return moment.strftime("%Y-%m-%d %H:%M")


def _values(data: Mapping[str, Any], name: str) -> list[str]:
    """What was sent for ``name``: a form's repeated values or a JSON string / list."""
    getlist = getattr(data, "getlist", None)
    raw = getlist(name) if getlist is not None else data.get(name)
    if raw is None:
        return []
    if isinstance(raw, bool):
        return ["on"] if raw else []
    if isinstance(raw, list | tuple):
        items = list(raw)
    else:
        items = [raw]
    out = []
    for item in items:
        if isinstance(item, bool):
            item = "on" if item else ""
        if not isinstance(item, str | int | float):
            raise Refusal(400, f"“{name}”的值必须是文字。", field=name)
        out.append(str(item))
    return out


def validate(spec: Mapping[str, Any], data: Mapping[str, Any], *, now: dt.datetime, body_size: int = 0) -> dict[str, Any]:
    """The cleaned answers (field name -> string, bool or list of strings) or a :class:`Refusal`.

    Checked in this order: size, honeypot, open, then every field (required, length, choices, format).
    """
    limit = int(spec.get("max_body") or MAX_BODY)
    if body_size > limit:
        raise Refusal(413, f"提交的内容过大（上限 {limit // 1000} KB），请精简后再提交。")
    if len(data) > MAX_KEYS:
        raise Refusal(400, "提交的字段过多。")
    if any(v.strip() for v in _values(data, HONEYPOT)):
        raise Refusal(400, "提交未被接受：请不要填写隐藏的字段。")
    message = closed_message(spec, now)
    if message:
        raise Refusal(409, message)
    cleaned: dict[str, Any] = {}
    total = 0
    for field in spec.get("fields", ()):
        name, label, kind = field["name"], field.get("label") or field["name"], field.get("type", "singleline")
        values = [v.strip() for v in _values(data, name)]
        values = [v for v in values if v]
        required = bool(field.get("required"))
        if kind == "checkbox":
            checked = bool(values) and values[-1].lower() in TRUE
            if required and not checked:
                raise Refusal(400, f"请勾选“{label}”。", field=name)
            cleaned[name] = checked
            continue
        if required and not values:
            raise Refusal(400, f"“{label}”是必填项。", field=name)
        if kind in CHOICE_TYPES:
            allowed = list(field.get("choices") or ())
            for value in values:
                if value not in allowed:
                    raise Refusal(400, f"“{label}”的选项“{value[:20]}”不在可选范围内。", field=name)
            if kind in SINGLE_CHOICE:
                if len(values) > 1:
                    raise Refusal(400, f"“{label}”只能选一项。", field=name)
                cleaned[name] = values[0] if values else ""
            else:
                cleaned[name] = list(dict.fromkeys(values))
            continue
        if len(values) > 1:
            raise Refusal(400, f"“{label}”只能填写一个值。", field=name)
        value = values[0] if values else ""
        most = int(field.get("max_length") or max_length_of(kind))
        if len(value) > most:
            raise Refusal(400, f"“{label}”不能超过 {most} 个字（现有 {len(value)} 个）。", field=name)
        if value:
            _check_format(kind, value, label, name)
        total += len(value)
        cleaned[name] = value
    if total * 3 > limit:  # what the answers take as UTF-8, at most
        raise Refusal(413, f"提交的内容过大（上限 {limit // 1000} KB），请精简后再提交。")
    return cleaned


def _check_format(kind: str, value: str, label: str, name: str) -> None:
    bad = (
        (kind == "email" and not EMAIL_RE.fullmatch(value))
        or (kind == "url" and not URL_RE.fullmatch(value))
        or (kind == "number" and not NUMBER_RE.fullmatch(value))
        or (kind == "date" and not DATE_RE.fullmatch(value))
    )
    if kind == "datetime" and not bad:
        try:
            dt.datetime.fromisoformat(value)
        except ValueError:
            bad = True
    if bad:
        raise Refusal(400, f"“{label}”的格式不正确。", field=name)
