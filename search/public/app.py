"""The public search service: a WSGI app over an exported bundle, with no Django and no database.

It answers the paths of the CMS's search API, with the same JSON, so the static site's search page
works unchanged against either (``SHUYUAN_PUBLIC_SEARCH_URL`` points the page here):

    GET  /api/v2/search/?q=&locale=&page=&page_size=&sort=&kind=&type=&topic=&column=&year=...
    GET  /api/v2/search/suggest/?q=&locale=
    POST /api/v2/search/click/        form fields log, doc, pos (navigator.sendBeacon); 204
    GET  /healthz                     200 with the release and its document count
    POST /forms/<page id>/            a survey or mailbox submission (``members.surveys.public``): the
                                      forms publishing exported, checked by the CMS's rules and written
                                      to the inbox the CMS worker imports; 202, or 4xx ``{"message"}``

Every document in the bundle is public (the export refuses anything else), and the service still
asks its engine for the ``public`` audience only. Queries and clicks go to an event log (one JSON
object a line: a file or stdout) that the operator may carry back for the search report; a query's
``log_id`` is a number unique to this process and start, so the page's click beacons name it.
Bad parameters are a 400 ``{"message"}``, like the CMS's; CORS admits the configured origins.
The service faces the internet: each client has its own budgets for searches, suggestions and click
beacons (:class:`RateLimiter`, in this process: no database, no shared store); past one it gets a 429
``{"message"}`` in Chinese with ``Retry-After``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import json
import logging
import math
import os
import re
import secrets
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import IO, Any
from urllib.parse import parse_qs

from search.backends.base import FACET_FIELDS, SearchError, SearchQuery, SearchResults

from . import params
from .bundle import PublicBundle

logger = logging.getLogger("shuyuan.search.public")

PREFIX = "/api/v2/search/"
MAX_BODY = 2048  # a click beacon is well under this
PUBLIC = frozenset({"public"})
MAX_LOG_ID = 999_999_999

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class EventLog:
    """Queries and clicks, one JSON object a line (thread-safe; flushed at once)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | None) -> EventLog:
        if not path or path == "-":
            return cls(sys.stdout)
        return cls(open(path, "a", encoding="utf-8"))  # noqa: SIM115 -- kept open for the process

    def write(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "at": round(time.time(), 3), **fields}, ensure_ascii=False)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()


# -- rate limits ----------------------------------------------------------------------------------
#: what each route spends: separate budgets, so a page's suggestions never use up its searches
LIMITED = {PREFIX: "search", PREFIX + "suggest/": "suggest", PREFIX + "click/": "click"}
RATE_RE = re.compile(r"([0-9]{1,7})/([0-9]{1,7})?\s*(s|sec|second|m|min|minute|h|hour)?")
UNITS = {"": 1, "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
MAX_HOPS = 16  # X-Forwarded-For entries looked at, from the right


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``seconds``, all of which may come at once (then one every
    ``seconds / count``)."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, raw: str) -> Rate | None:
        """``60/minute``, ``60/60`` or ``600/10m`` (a count per seconds, minutes or hours); ``off``
        (or ``0``) is no limit. A bad value raises ``ValueError`` saying what is expected."""
        raw = raw.strip().lower()
        if raw in ("off", "0", "none"):
            return None
        found = RATE_RE.fullmatch(raw)
        if not found or int(found[1]) < 1 or (found[2] is not None and int(found[2]) < 1):
            raise ValueError(f"{raw[:30]!r} is not a rate such as 60/minute, 60/60 (seconds) or off")
        return cls(int(found[1]), int(found[2] or 1) * UNITS[found[3] or ""])


DEFAULT_RATES: dict[str, Rate | None] = {
    "search": Rate(60, 60),
    "suggest": Rate(120, 60),
    "click": Rate(120, 60),
}
DEFAULT_MAX_CLIENTS = 10_000


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as a peer or an X-Forwarded-For entry gives it (a port or brackets allowed)."""
    raw = raw.strip()
    if raw.startswith("[") and "]" in raw:
        raw = raw[1 : raw.index("]")]
    elif raw.count(":") == 1:
        raw = raw.split(":")[0]
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class RateLimiter:
    """Per-client budgets for search, suggestions and click beacons, counted in this process.

    The public host needs no shared store: the service keeps no state but its bundle. Each budget is a
    generic cell rate (one number per client and budget: the time its budget is fully spent until), so
    a table entry is small; the table holds at most ``max_clients`` entries and forgets the client
    seen longest ago first, so an attacker rotating addresses costs a bounded amount of memory (and
    gains no more than each address's own budget, which rotating gets anyway). An IPv6 client is its
    /64 network (one subscriber's prefix). ``X-Forwarded-For`` is read only when the peer is one of
    ``trusted_proxies`` (addresses or networks), from the right: the client is the first address a
    trusted proxy reports that is not itself a trusted proxy. With several worker processes each
    counts on its own.
    """

    def __init__(
        self,
        rates: Mapping[str, Rate | None] | None = None,
        *,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        trusted_proxies: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_clients < 1:
            raise ValueError("max_clients must be at least 1")
        self.rates = {**DEFAULT_RATES, **(rates or {})}
        self.max_clients = max_clients
        self.proxies = tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted_proxies if p.strip())
        self.clock = clock
        self._spent: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        #: entries dropped for room while their budget was still partly spent (a sign of many clients)
        self.forgotten = 0

    def __len__(self) -> int:
        return len(self._spent)

    def _trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address.version == net.version and address in net for net in self.proxies)

    def client(self, environ: Mapping[str, Any]) -> str:
        """Who is asking: the peer, or (behind a trusted proxy) the address it was asked from."""
        peer = _address(str(environ.get("REMOTE_ADDR") or ""))
        if peer is None:
            return str(environ.get("REMOTE_ADDR") or "")[:64]
        if self.proxies and self._trusted(peer):
            hops = str(environ.get("HTTP_X_FORWARDED_FOR") or "").split(",")
            for hop in reversed(hops[-MAX_HOPS:]):
                address = _address(hop)
                if address is None:
                    break
                peer = address
                if not self._trusted(address):
                    break
        if isinstance(peer, ipaddress.IPv6Address):
            return str(ipaddress.IPv6Network((peer, 64), strict=False))
        return str(peer)

    def wait(self, budget: str, client: str) -> float:
        """0 when ``client`` may make a ``budget`` request now (and it is counted), else the seconds
        until it may."""
        rate = self.rates.get(budget)
        if rate is None:
            return 0.0
        interval = rate.seconds / rate.count
        key = (budget, client)
        with self._lock:
            now = self.clock()
            spent_until = max(self._spent.get(key, now), now) + interval
            if spent_until - now > rate.seconds + 1e-9:
                self._spent.move_to_end(key)
                return spent_until - now - rate.seconds
            self._spent[key] = spent_until
            self._spent.move_to_end(key)
            while len(self._spent) > self.max_clients:
                _key, until = self._spent.popitem(last=False)
                self.forgotten += until > now
        return 0.0


class PublicSearchApp:
    """The WSGI callable. ``origins``: the origins allowed to call it from a browser (CORS), such as
    ``https://www.example.org``; ``*`` allows any. ``limiter``: the per-client budgets (none: no limit;
    the started service always has one, see :mod:`search.public.server`)."""

    def __init__(
        self,
        bundle: PublicBundle,
        *,
        origins: Sequence[str] = (),
        events: EventLog | None = None,
        limiter: RateLimiter | None = None,
        forms: Any = None,
    ) -> None:
        self.bundle = bundle
        #: the public forms and their inbox (``members.surveys.public.PublicForms``), or None
        self.forms = forms
        self.limiter = limiter
        self.origins = frozenset(o.rstrip("/") for o in origins if o)
        self.events = events or EventLog(sys.stdout)
        # log ids: at most 9 digits (what a click's ``log`` may be), from a random start per process so
        # that two processes behind one address rarely hand out the same ids
        self._log_ids = itertools.count(secrets.randbelow(MAX_LOG_ID))

    # -- WSGI -------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "") or "/"
        cors = self._cors_headers(environ.get("HTTP_ORIGIN", ""))
        routes: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], tuple[int, Any]]]] = {
            PREFIX: (("GET", "HEAD"), self.search),
            PREFIX + "suggest/": (("GET", "HEAD"), self.suggest),
            PREFIX + "click/": (("POST",), self.click),
            "/healthz": (("GET", "HEAD"), self.health),
        }
        if self.forms is not None and path.startswith("/forms/"):
            return self._form(environ, start_response, method, cors)
        if path not in routes:
            return self._respond(start_response, 404, {"message": "Not found."}, cors)
        methods, view = routes[path]
        if method == "OPTIONS":
            headers = [*cors, ("Access-Control-Allow-Methods", ", ".join((*methods, "OPTIONS"))), ("Access-Control-Max-Age", "86400")]
            if cors:
                headers.append(("Access-Control-Allow-Headers", "Content-Type"))
            return self._respond(start_response, 204, None, headers)
        if method not in methods:
            allow = [("Allow", ", ".join(methods))]
            return self._respond(start_response, 405, {"message": f"Method {method[:10]} not allowed."}, [*cors, *allow])
        if self.limiter is not None and path in LIMITED:
            wait = self.limiter.wait(LIMITED[path], self.limiter.client(environ))
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                body = {"message": f"请求过于频繁，请 {seconds} 秒后再试。"}
                return self._respond(start_response, 429, body, [*cors, ("Retry-After", str(seconds))], head=method == "HEAD")
        try:
            status, body = view(environ)
        except params.BadParameter as exc:
            status, body = 400, {"message": str(exc)}
        except SearchError as exc:
            logger.warning("public search unavailable: %s", exc)
            status, body = 503, {"message": "Search is temporarily unavailable; try again shortly."}
            cors = [*cors, ("Retry-After", "30")]
        if method == "HEAD":
            body = None if status == 204 else body
        return self._respond(start_response, status, body, cors, head=method == "HEAD")

    def _form(self, environ: dict[str, Any], start_response: StartResponse, method: str, cors: list[tuple[str, str]]) -> list[bytes]:
        """POST /forms/<page id>/: a survey or mailbox submission (``members.surveys.public``)."""
        from members.surveys.public import ANSWER_CSP, html_page, wants_html

        if method == "OPTIONS":
            headers = [*cors, ("Access-Control-Allow-Methods", "POST, OPTIONS"), ("Access-Control-Max-Age", "86400")]
            if cors:
                headers.append(("Access-Control-Allow-Headers", "Content-Type"))
            return self._respond(start_response, 204, None, headers)
        if method != "POST":
            return self._respond(start_response, 405, {"message": f"Method {method[:10]} not allowed."}, [*cors, ("Allow", "POST")])
        client = self.limiter.client(environ) if self.limiter is not None else str(environ.get("REMOTE_ADDR") or "")
        status, body, extra, spec = self.forms.handle(environ, client)
        if status < 400:
            self.events.write("form", form=spec["id"] if spec else None)
        if wants_html(environ):
            data = html_page(status, body["message"], spec)
            phrase = f"{status} {HTTPStatus(status).phrase}"
            start_response(phrase, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data))),
                                    ("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store"),
                                    ("Content-Security-Policy", ANSWER_CSP), *cors, *extra])
            return [data]
        return self._respond(start_response, status, body, [*cors, *extra])

    def _cors_headers(self, origin: str) -> list[tuple[str, str]]:
        if not origin:
            return []
        if "*" in self.origins:
            return [("Access-Control-Allow-Origin", "*")]
        if origin.rstrip("/") in self.origins:
            return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        return [("Vary", "Origin")]

    @staticmethod
    def _respond(
        start_response: StartResponse, status: int, body: Any, headers: list[tuple[str, str]], *, head: bool = False
    ) -> list[bytes]:
        phrase = f"{status} {HTTPStatus(status).phrase}"
        out = [
            ("X-Content-Type-Options", "nosniff"),
            ("Cache-Control", "no-store"),
            *headers,
        ]
        if body is None:
            start_response(phrase, out)
            return []
        data = json.dumps(body, ensure_ascii=False).encode()
        start_response(phrase, [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data))), *out])
        return [] if head else [data]

    # -- views ------------------------------------------------------------------------------------
    def _query(self, environ: dict[str, Any]) -> dict[str, list[str]]:
        raw = environ.get("QUERY_STRING", "")
        if len(raw) > 4096:
            raise params.BadParameter("the query string is longer than 4096 characters")
        try:
            return parse_qs(raw, keep_blank_values=True, strict_parsing=False, errors="strict", max_num_fields=64)
        except (UnicodeDecodeError, ValueError) as exc:
            raise params.BadParameter(f"the query string cannot be read: {str(exc)[:60]}") from exc

    def _choices(self) -> params.Choices:
        data = self.bundle.current().manifest.get("choices", {})
        return params.Choices(
            locales=tuple(data.get("locales", ())), kinds=tuple(data.get("kinds", ())), provinces=dict(data.get("provinces", {}))
        )

    def search(self, environ: dict[str, Any]) -> tuple[int, Any]:
        asked = params.search_params(self._query(environ), self._choices())
        query = SearchQuery(
            q=asked.q,
            audiences=PUBLIC,
            locale=asked.locale,
            filters={name: list(values) for name, values in asked.filters.items()},
            facets=list(FACET_FIELDS),
            sort=asked.sort,  # type: ignore[arg-type]
            page=asked.page,
            page_size=asked.page_size,
            date_from=asked.date_from,
            date_to=asked.date_to,
        )
        results = self._run(asked, query)
        log_id = None
        if asked.q and query.page == 1:
            log_id = next(self._log_ids) % MAX_LOG_ID + 1
            self.events.write("search", log_id=log_id, q=" ".join(asked.q.split())[:200], results=results.total, locale=asked.locale or "")
        return 200, {**results.as_dict(), "query": asked.q, "sort": asked.sort, "log_id": log_id}

    def _run(self, asked: params.Search, query: SearchQuery) -> SearchResults:
        """As the CMS's search service: asking nothing, or a reversed date range, is an empty page; a
        page past the result window has the deepest page's total and facets and no hits."""
        browse = bool(asked.filters or asked.date_from or asked.date_to)
        reversed_range = bool(asked.date_from and asked.date_to and asked.date_from > asked.date_to)
        if not (asked.q or browse) or reversed_range:
            return SearchResults.empty(query)
        engine = self.bundle.current().engine
        if query.page * query.page_size <= params.MAX_RESULT_WINDOW:
            return engine.search(query)
        deepest = max(1, params.MAX_RESULT_WINDOW // query.page_size)
        results = engine.search(dataclasses.replace(query, page=deepest))
        return dataclasses.replace(results, hits=[], page=query.page)

    def suggest(self, environ: dict[str, Any]) -> tuple[int, Any]:
        prefix, locale = params.suggest_params(self._query(environ), self._choices())
        return 200, {"query": prefix, "suggestions": self.bundle.current().engine.suggest(prefix, PUBLIC, locale=locale)}

    def click(self, environ: dict[str, Any]) -> tuple[int, Any]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            raise params.BadParameter(f"the body must be form fields of at most {MAX_BODY} bytes")
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=16)
        except (UnicodeDecodeError, ValueError) as exc:
            raise params.BadParameter("the body must be form fields (log, doc, pos)") from exc
        log_id, doc, position = params.click_params(fields)
        self.events.write("click", log_id=log_id, doc=doc, pos=position)
        return 204, None

    def health(self, environ: dict[str, Any]) -> tuple[int, Any]:
        release = self.bundle.current()
        body = {"ok": True, "release": release.name, "documents": release.documents, "created": release.manifest.get("created")}
        if self.bundle.last_error:
            body["warning"] = self.bundle.last_error
        return 200, body


def create_app(
    index: str | os.PathLike[str],
    *,
    origins: Sequence[str] = (),
    log: str | None = None,
    elasticsearch_url: str | None = None,
    limiter: RateLimiter | None = None,
    forms_inbox: str | None = None,
    forms_rate: str | None = None,
) -> PublicSearchApp:
    """The app for the bundle folder ``index``; a folder that is not a bundle raises
    :class:`search.public.bundle.BundleError` here, at start-up. ``elasticsearch_url``: the cluster
    holding a bundle exported to Elasticsearch (read-only credentials in the URL).

    ``forms_inbox`` (default: ``$SHUYUAN_PUBLIC_FORMS_INBOX``): the folder accepted survey and mailbox
    submissions are written to (unset: the forms answer 503). ``forms_rate`` (default
    ``$SHUYUAN_PUBLIC_FORMS_RATE``, else 5/10m): submissions one client may make."""
    from members.surveys.public import DEFAULT_RATE, PublicForms

    es = {"URL": elasticsearch_url} if elasticsearch_url else None
    inbox = forms_inbox if forms_inbox is not None else os.environ.get("SHUYUAN_PUBLIC_FORMS_INBOX") or None
    raw_rate = forms_rate if forms_rate is not None else os.environ.get("SHUYUAN_PUBLIC_FORMS_RATE") or DEFAULT_RATE
    proxies = [str(net) for net in limiter.proxies] if limiter is not None else []
    form_limiter = RateLimiter({"form": Rate.parse(raw_rate)}, trusted_proxies=proxies)
    forms = PublicForms(index, inbox, form_limiter)
    return PublicSearchApp(
        PublicBundle(index, elasticsearch=es), origins=origins, events=EventLog.open(log), limiter=limiter, forms=forms
    )
