"""Survey and mailbox submissions on the isolated public service (``search.public.app``; no Django, no
database, no CMS): ``POST /forms/<page id>/``.

The forms it knows are the ones publishing exported (``forms.json`` next to the search bundle's
releases, written by ``search.public.export``: public forms only, with their fields, choices, open and
close times and size limits); it re-reads the file when it changes. A submission passes the same rules
as on the CMS (``members.surveys.rules``) and the service's own per-client rate limit, then is written to
the inbox (``members.surveys.spool``) that the CMS worker imports. Form fields (what a page's form
sends) get a small HTML answer in Chinese with a link back; JSON bodies get ``{"message"}``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from . import rules, spool

FORMS_FILE = "forms.json"
PATH_RE = re.compile(r"/forms/([0-9]{1,12})/")
DEFAULT_RATE = "5/10m"


class PublicForms:
    """The forms of one bundle folder and the inbox submissions go to."""

    def __init__(self, root: str | os.PathLike[str], inbox: str | os.PathLike[str] | None, limiter=None) -> None:
        self.path = Path(root) / FORMS_FILE
        self.inbox = Path(inbox) if inbox else None
        self.limiter = limiter
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._forms: dict[int, dict[str, Any]] = {}

    def forms(self) -> dict[int, dict[str, Any]]:
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            return {}
        with self._lock:
            if stamp != self._stamp:
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                    self._forms = {int(f["id"]): f for f in data.get("forms", ())}
                    self._stamp = stamp
                except (OSError, ValueError, KeyError, TypeError):
                    pass  # keep what was read last (a half-written file is never there: it is renamed in)
            return self._forms

    def handle(self, environ: Mapping[str, Any], client: str) -> tuple[int, dict[str, Any], list[tuple[str, str]], dict | None]:
        """(status, body, extra headers, the form or None) for one POST."""
        found = PATH_RE.fullmatch(str(environ.get("PATH_INFO") or ""))
        spec = self.forms().get(int(found[1])) if found else None
        if spec is None:
            return 404, {"message": "没有这份问卷，或它不公开。"}, [], None
        if self.inbox is None:
            return 503, {"message": "暂时无法接收提交，请稍后再试。"}, [("Retry-After", "60")], spec
        if self.limiter is not None:
            wait = self.limiter.wait("form", client)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                return 429, {"message": f"提交过于频繁，请 {seconds} 秒后再试。"}, [("Retry-After", str(seconds))], spec
        try:
            data, size = read_body(environ, int(spec.get("max_body") or rules.MAX_BODY))
            cleaned = rules.validate(spec, data, now=dt.datetime.now(dt.UTC), body_size=size)
        except rules.Refusal as refusal:
            return refusal.status, {"message": refusal.message}, [], spec
        spool.write(self.inbox, spec["id"], cleaned)
        return 202, {"message": "提交成功，感谢参与！" if spec.get("kind") != "mailbox" else "来信已收到，感谢您的意见！"}, [], spec


def read_body(environ: Mapping[str, Any], limit: int) -> tuple[dict[str, Any], int]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0:
        raise rules.Refusal(400, "请求缺少正确的长度。")
    if length > limit:
        raise rules.Refusal(413, f"提交的内容过大（上限 {limit // 1000} KB），请精简后再提交。")
    raw = environ["wsgi.input"].read(length) if length else b""
    kind = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
        if kind == "application/json":
            data = json.loads(text or "{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            answers = data.get("answers", data)
            if not isinstance(answers, dict):
                raise ValueError("answers not an object")
            return answers, length
        return parse_qs(text, keep_blank_values=True, max_num_fields=rules.MAX_KEYS), length
    except (UnicodeDecodeError, ValueError) as exc:
        raise rules.Refusal(400, "无法读取提交的内容。") from exc


def wants_html(environ: Mapping[str, Any]) -> bool:
    """A browser's form post (no script): answer with a page, not JSON."""
    kind = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data") and "text/html" in str(environ.get("HTTP_ACCEPT") or "")


def html_page(status: int, message: str, spec: dict | None) -> bytes:
    back = spec.get("url") if spec else None
    title = html.escape(spec.get("title") or "") if spec else ""
    link = f'<p><a href="{html.escape(back)}">返回{title or "上一页"}</a></p>' if back else ""
    heading = "提交成功" if status < 400 else "提交未被接受"
    mark = "✓" if status < 400 else "!"
    return (
        '<!DOCTYPE html><html lang="zh-hans"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{heading}</title><style>{ANSWER_CSS}</style></head><body><header>书苑</header>"
        f'<main><h1><span aria-hidden="true">{mark}</span> {heading}</h1>'
        f'<p role="status">{html.escape(message)}</p>{link}</main></body></html>'
    ).encode()


# The answer page's look (the site's colours; inline: the service serves no files). Its policy:
# ANSWER_CSP (no script, nothing loaded).
ANSWER_CSS = (
    'body{margin:0;background:#f6f2ec;color:#222;font:16px/1.7 "PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif}'
    "header{background:#b3161b;color:#fff;font-weight:700;font-size:1.2rem;padding:14px 20px}"
    "main{max-width:640px;margin:32px auto;background:#fffdf9;border:1px solid #e6e0d8;border-top:4px solid #b3161b;"
    "border-radius:6px;padding:8px 24px 20px}"
    "h1{font-size:1.4rem}h1 span{color:#b3161b}a{color:#8c1015}"
)
ANSWER_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
