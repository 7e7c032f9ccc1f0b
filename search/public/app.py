"""The public search service: a WSGI app over an exported bundle, with no Django and no database.

It answers the paths of the CMS's search API, with the same JSON, so the static site's search page
works unchanged against either (``SHUYUAN_PUBLIC_SEARCH_URL`` points the page here):

    GET  /api/v2/search/?q=&locale=&page=&page_size=&sort=&kind=&type=&topic=&column=&year=...
    GET  /api/v2/search/suggest/?q=&locale=
    POST /api/v2/search/click/        form fields log, doc, pos (navigator.sendBeacon); 204
    GET  /healthz                     200 with the release and its document count

Every document in the bundle is public (the export refuses anything else), and the service still
asks its engine for the ``public`` audience only. Queries and clicks go to an event log (one JSON
object a line: a file or stdout) that the operator may carry back for the search report; a query's
``log_id`` is a number unique to this process and start, so the page's click beacons name it.
Bad parameters are a 400 ``{"message"}``, like the CMS's; CORS admits the configured origins.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
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


class PublicSearchApp:
    """The WSGI callable. ``origins``: the origins allowed to call it from a browser (CORS), such as
    ``https://www.example.org``; ``*`` allows any."""

    def __init__(self, bundle: PublicBundle, *, origins: Sequence[str] = (), events: EventLog | None = None) -> None:
        self.bundle = bundle
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
    index: str | os.PathLike[str], *, origins: Sequence[str] = (), log: str | None = None, elasticsearch_url: str | None = None
) -> PublicSearchApp:
    """The app for the bundle folder ``index``; a folder that is not a bundle raises
    :class:`search.public.bundle.BundleError` here, at start-up. ``elasticsearch_url``: the cluster
    holding a bundle exported to Elasticsearch (read-only credentials in the URL)."""
    es = {"URL": elasticsearch_url} if elasticsearch_url else None
    return PublicSearchApp(PublicBundle(index, elasticsearch=es), origins=origins, events=EventLog.open(log))
