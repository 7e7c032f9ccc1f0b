"""The contract every search engine implements.

Engines are chosen in settings (``SHUYUAN_SEARCH``) and used only through this
interface, so the embedded engine and Elasticsearch are interchangeable and one
conformance suite (``tests/search/test_contract.py``) checks both.

Promises every engine keeps:

* visibility is a filter inside the engine query: a hit, a count, a facet, a
  suggestion or a snippet never comes from a document whose ``audience`` is not
  in ``SearchQuery.audiences``;
* any query string gives results or an empty page, never an error: user input is
  analysed into words by :class:`search.text.Analyzer` and never handed to an
  engine's query parser;
* snippets are cut from the original text, with matches wrapped in ``<mark>``
  and everything else HTML-escaped.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from search.text import Analyzer, QueryTerms

AUDIENCES: tuple[str, ...] = ("public", "members", "internal")

#: Facets every engine can count.  ``year`` is derived from ``date``.
FACET_FIELDS: tuple[str, ...] = ("kind", "material_type", "topics", "year", "column", "locale")

#: Fields a filter may name (exact match; several values mean "any of").
FILTER_FIELDS: tuple[str, ...] = (
    "kind",
    "material_type",
    "topics",
    "year",
    "column",
    "locale",
    "issuing_body",
    "province",
    "category",
)

Progress = Callable[[int, int | None], None]


class SearchError(Exception):
    """The engine failed (unreachable, refused a write, corrupt index)."""


class SearchUnavailable(SearchError):
    """The engine cannot be reached right now; callers queue writes and tell users."""


@dataclass
class Attachment:
    """Text of one page (or the whole, for formats without pages) of an attached file."""

    title: str
    text: str
    page: int | None = None


@dataclass
class SearchDocument:
    """One searchable item, engine-neutral.

    ``id`` is stable and unique across kinds ("page:123").  ``audience`` is one
    of :data:`AUDIENCES`.  Text fields hold original (unsegmented) text; each
    engine analyses them itself.
    """

    id: str
    kind: str
    title: str
    audience: str = "public"
    locale: str = "zh-hans"
    subtitle: str = ""
    summary: str = ""
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    material_type: str = ""
    topics: list[str] = field(default_factory=list)
    issuing_body: str = ""
    doc_number: str = ""
    column: str = ""
    date: dt.date | None = None
    url: str = ""
    province: str = ""
    category: str = ""

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"audience must be one of {AUDIENCES}, not {self.audience!r}")
        self.attachments = [a if isinstance(a, Attachment) else Attachment(**a) for a in self.attachments]

    @property
    def year(self) -> str:
        return str(self.date.year) if self.date else ""

    def sections(self) -> list[tuple[str, int | None, str]]:
        """(source title, page, text) of every text part a snippet may come from, body first."""
        parts = [("", None, "\n".join(p for p in (self.subtitle, self.summary, self.body) if p))]
        parts.extend((a.title, a.page, a.text) for a in self.attachments if a.text)
        return parts


@dataclass
class SearchQuery:
    """What a caller asks.  ``audiences`` is decided by the caller's identity, never by input."""

    q: str = ""
    audiences: frozenset[str] = frozenset({"public"})
    locale: str | None = None
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    facets: Sequence[str] = ()
    sort: Literal["relevance", "date"] = "relevance"
    page: int = 1
    page_size: int = 10
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def __post_init__(self) -> None:
        self.audiences = frozenset(a for a in self.audiences if a in AUDIENCES)
        self.page = max(1, int(self.page))
        self.page_size = min(max(1, int(self.page_size)), 100)
        if self.sort not in ("relevance", "date"):
            self.sort = "relevance"
        self.facets = [f for f in self.facets if f in FACET_FIELDS]
        clean: dict[str, list[str]] = {}
        for name, values in (self.filters or {}).items():
            if name not in FILTER_FIELDS:
                continue
            if isinstance(values, str):
                values = [values]
            vals = [str(v) for v in values if str(v)]
            if vals:
                clean[name] = vals
        self.filters = clean

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass
class SearchHit:
    id: str
    kind: str
    title: str
    title_html: str
    snippet_html: str
    score: float
    url: str = ""
    date: dt.date | None = None
    source: str = ""  # attachment title the snippet came from, "" for the body
    page: int | None = None  # attachment page the snippet came from

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "title_html": self.title_html,
            "snippet_html": self.snippet_html,
            "score": round(self.score, 4),
            "url": self.url,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source or None,
            "page": self.page,
        }


@dataclass
class SearchResults:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[tuple[str, int]]]
    page: int
    page_size: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @classmethod
    def empty(cls, query: SearchQuery) -> SearchResults:
        return cls(total=0, hits=[], facets={f: [] for f in query.facets}, page=query.page, page_size=query.page_size)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "num_pages": self.num_pages,
            "results": [h.as_dict() for h in self.hits],
            "facets": {name: [{"value": v, "count": c} for v, c in vals] for name, vals in self.facets.items()},
        }


@dataclass
class HealthStatus:
    ok: bool
    engine: str
    documents: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do; callers ask this rather than checking class names."""

    persistent: bool = True
    atomic_rebuild: bool = True
    remote: bool = False


class BaseSearchBackend(abc.ABC):
    """Abstract engine.  Subclasses check their own OPTIONS in ``__init__``."""

    capabilities: Capabilities = Capabilities()

    def __init__(self, options: Mapping[str, Any] | None = None, *, analyzer: Analyzer | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        self._analyzer = analyzer

    @property
    def analyzer(self) -> Analyzer:
        if self._analyzer is None:
            self._analyzer = Analyzer()
        return self._analyzer

    def set_analyzer(self, analyzer: Analyzer) -> None:
        """Swap in a new dictionary (custom words, synonyms).  Re-index after custom words change."""
        self._analyzer = analyzer

    #: Optional semantic re-ranking stage (:class:`search.semantic.Reranker`), attached by
    #: :mod:`search.loader` from ``SHUYUAN_SEARCH[alias]["RERANK"]``.
    reranker: Any = None

    def reranks(self, query: SearchQuery, terms: QueryTerms) -> bool:
        """Whether this query's page comes from the re-ranked window of the engine's best hits."""
        return self.reranker is not None and self.reranker.applies(query, terms)

    def rerank_depth(self, query: SearchQuery) -> int:
        """How many of the engine's best hits a re-ranked page needs: the window, or more when the
        page runs past its end."""
        return max(self.reranker.window, query.offset + query.page_size)

    def reranked_page(self, query: SearchQuery, candidates: Sequence[tuple[str, float]]) -> list[int]:
        """Indexes into ``candidates`` (the engine's top :meth:`rerank_depth` hits: (id, score),
        best first) of the hits on the page ``query`` asks for.  The first ``window`` are in
        blended order, the rest in the engine's, so consecutive pages never repeat or skip a
        hit; reordering never changes which documents matched, so totals, facets and
        visibility stay the engine's."""
        window = self.reranker.window
        order = [*self.reranker.order(query.q, candidates[:window]), *range(window, len(candidates))]
        return order[query.offset : query.offset + query.page_size]

    @abc.abstractmethod
    def index(self, docs: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by id).  Returns how many were written."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    @abc.abstractmethod
    def search(self, query: SearchQuery) -> SearchResults:
        """Run a query with the visibility filter applied inside the engine."""

    @abc.abstractmethod
    def suggest(self, prefix: str, audiences: frozenset[str], locale: str | None = None, limit: int = 8) -> list[str]:
        """Titles and terms starting with ``prefix`` from documents the audiences may see."""

    @abc.abstractmethod
    def rebuild(self, docs: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        """Replace the whole index with ``docs``; searches keep working on the old one until the switch."""

    @abc.abstractmethod
    def health(self) -> HealthStatus:
        """Is the engine usable?  Never raises."""

    def clear(self) -> None:
        """Remove every document (tests, fresh installs)."""
        self.rebuild([])
