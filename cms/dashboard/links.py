"""The 红色云图 link checker: is each 红色场馆's external link still answering?

A link is *broken* when its server cannot be reached within the timeouts (connect and read, see
``cms.dashboard.conf``), or answers with an HTTP error (4xx/5xx) after redirects. Each check replaces
the page's ``LinkStatus`` row. Links are typed by editors and fetched by the server, so unless
``ALLOW_PRIVATE`` is set, an address in a private, loopback or link-local network (the intranet, the
cloud's metadata service) is not fetched but reported broken, at every redirect hop. The HTTP requests run in a few threads; the database is written from
the caller's thread only. The worker runs :func:`check_links` on a schedule (``cms.dashboard.tasks``),
``manage.py check_links`` runs it by hand.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from .conf import link_check_settings
from .models import LinkStatus

USER_AGENT = "Shuyuan-LinkChecker/1.0"


@dataclass(frozen=True)
class CheckResult:
    url: str
    ok: bool
    http_status: int | None = None
    error: str = ""


MAX_REDIRECTS = 5


def is_private(url: str) -> bool:
    """Whether ``url``'s host resolves to an address outside the public internet (or not at all)."""
    host = urlsplit(url).hostname
    if not host:
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False  # unresolvable: the request itself reports it
    return any(not ipaddress.ip_address(info[4][0].split("%")[0]).is_global for info in infos)


def check_url(url: str, connect_timeout: float, read_timeout: float, allow_private: bool = True) -> CheckResult:
    """GET ``url`` (the body is not read: many servers refuse HEAD), following up to ``MAX_REDIRECTS``
    redirects, each hop checked against private addresses unless ``allow_private``."""
    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            if urlsplit(current).scheme not in ("http", "https"):
                return CheckResult(url, False, None, "不支持的链接类型")
            if not allow_private and is_private(current):
                return CheckResult(url, False, None, "内网地址，不予检查")
            with requests.get(
                current,
                timeout=(connect_timeout, read_timeout),
                stream=True,
                allow_redirects=False,
                headers={"User-Agent": USER_AGENT},
            ) as response:
                code = response.status_code
                location = response.headers.get("Location") if response.is_redirect else None
            if not location:
                break
            current = urljoin(current, location)
        else:
            return CheckResult(url, False, code, "重定向次数过多")
    except requests.Timeout:
        return CheckResult(url, False, None, "超时")
    except requests.RequestException as e:
        return CheckResult(url, False, None, f"无法连接：{type(e).__name__}"[:500])
    if code >= 400:
        return CheckResult(url, False, code, f"HTTP {code}")
    return CheckResult(url, True, code)


def exhibition_pages():
    """The live 红色场馆 pages of the source language (translations share the source's link)."""
    from cms.models import RedExhibitionPage

    return RedExhibitionPage.objects.live().filter(locale__language_code=settings.LANGUAGE_CODE).order_by("path")


def check_links(pages: Iterable | None = None, only_broken: bool = False) -> dict[str, int]:
    """Check the links of ``pages`` (default: every live 红色场馆) and record the results.

    With ``only_broken``, only the pages whose last check failed are checked again. Returns counts.
    """
    conf = link_check_settings()
    pages = list(exhibition_pages() if pages is None else pages)
    if only_broken:
        broken = set(LinkStatus.objects.filter(state=LinkStatus.State.BROKEN).values_list("page_id", flat=True))
        pages = [p for p in pages if p.pk in broken]
    urls = sorted({p.external_url for p in pages})
    with ThreadPoolExecutor(max_workers=max(1, min(conf["WORKERS"], len(urls) or 1))) as pool:
        results = dict(
            zip(urls, pool.map(
                lambda u: check_url(u, conf["CONNECT_TIMEOUT"], conf["READ_TIMEOUT"], conf["ALLOW_PRIVATE"]), urls
            ), strict=True)
        )
    counts = {"checked": 0, "ok": 0, "broken": 0}
    now = timezone.now()
    for page in pages:
        result = results[page.external_url]
        previous = LinkStatus.objects.filter(page_id=page.pk).first()
        failures = 0 if result.ok else (previous.failures if previous and previous.url == result.url else 0) + 1
        LinkStatus.objects.update_or_create(
            page_id=page.pk,
            defaults={
                "url": result.url,
                "state": LinkStatus.State.OK if result.ok else LinkStatus.State.BROKEN,
                "http_status": result.http_status,
                "error": result.error,
                "checked_at": now,
                "failures": failures,
            },
        )
        counts["checked"] += 1
        counts["ok" if result.ok else "broken"] += 1
    return counts


def link_summary() -> dict:
    """What the dashboard shows: counts per state (unchecked: no row, or the link changed since) and the
    broken links."""
    pages = list(exhibition_pages().only("id", "title", "external_url"))
    rows = {s.page_id: s for s in LinkStatus.objects.filter(page_id__in=[p.pk for p in pages])}
    ok, broken, unchecked = 0, [], 0
    for page in pages:
        status = rows.get(page.pk)
        if status is None or status.url != page.external_url:
            unchecked += 1
        elif status.state == LinkStatus.State.OK:
            ok += 1
        else:
            broken.append((page, status))
    last = max((s.checked_at for s in rows.values()), default=None)
    return {"ok": ok, "broken": len(broken), "unchecked": unchecked, "broken_links": broken, "last_check": last}
