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
from dataclasses import dataclass, field, fields
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


@dataclass(frozen=True)
class RankingOptions:
    """How word matches are scored: OPTIONS every engine reads the same way (defaults here, once).

    TITLE_BOOST     weight of a title match, added to the body match (default 1.0)
    PHRASE_BOOST    weight of the query's words appearing close together (default 0.5)
    PHRASE_SLOP     how far apart "close together" may be, in tokens (default 3)
    PAIR_BOOST      weight of each pair of adjacent query words appearing within PAIR_SLOP tokens of
                    each other (default 0.3; the sequential-dependence idea: a long question rarely
                    matches as a whole phrase, its word pairs often do)
    PAIR_SLOP       (default 2)
    QTF_WEIGHT      extra weight of a query word for each time the query repeats it (default 0.5)
    BIGRAM_WEIGHT   weight of the character-bigram field that catches unknown words (default 1.0);
                    0 also leaves the field empty at index time, so rebuild after raising it from 0
    BIGRAM_CHARS    the bigram field covers the title and the first BIGRAM_CHARS characters of the
                    text (default 300; 0: all of it)
    CHAR_WEIGHT     weight of the single-character field (default 2.0): each CJK character of the
                    query's words (stop words left out) adds to the score of documents the words and
                    bigrams matched, never widens the match; 0 also leaves the field empty at index
                    time, so rebuild after raising it from 0
    """

    title_boost: float = 1.0
    phrase_boost: float = 0.5
    phrase_slop: int = 3
    pair_boost: float = 0.3
    pair_slop: int = 2
    qtf_weight: float = 0.5
    bigram_weight: float = 1.0
    bigram_chars: int = 300
    char_weight: float = 2.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RankingOptions:
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.name.upper()
            if name in options:
                kind = type(f.default)
                try:
                    values[f.name] = kind(options[name])
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"OPTIONS[{name!r}] must be a number, not {options[name]!r}") from exc
        return cls(**values)


@dataclass
class RankedWindow:
    """An engine's best hits for a query before their display data are read: what a re-ranking
    stage reorders (:meth:`BaseSearchBackend.ranked_window`)."""

    total: int
    facets: dict[str, list[tuple[str, int]]]
    #: (document id, engine score), best first
    candidates: list[tuple[str, float]]
    #: engine-private: what :meth:`BaseSearchBackend.window_hits` needs to build the page's hits
    context: Any = None


class BaseSearchBackend(abc.ABC):
    """Abstract engine.  Subclasses check their own OPTIONS in ``__init__``; the ranking options
    shared by every engine are read here, into :attr:`ranking`."""

    capabilities: Capabilities = Capabilities()

    def __init__(self, options: Mapping[str, Any] | None = None, *, analyzer: Analyzer | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        self.ranking = RankingOptions.from_options(self.options)
        self._analyzer = analyzer

    @property
    def analyzer(self) -> Analyzer:
        if self._analyzer is None:
            self._analyzer = Analyzer()
        return self._analyzer

    def set_analyzer(self, analyzer: Analyzer) -> None:
        """Swap in a new dictionary (custom words, synonyms).  Re-index after custom words change."""
        self._analyzer = analyzer

    @property
    def reranker(self) -> Any:
        """The semantic re-ranking stage (:class:`search.semantic.Reranker`) when this engine is
        wrapped by one (:class:`search.backends.reranked.RerankedSearchBackend`), else None.

        Read-only: re-ranking wraps an engine, it is never attached to one."""
        return None

    def ranked_window(self, query: SearchQuery, terms: QueryTerms, depth: int) -> RankedWindow | None:
        """The engine's best ``depth`` hits for a relevance-sorted ``query``, as (id, score), with
        the total and the facets ``search`` would give; None when the query can match nothing.

        What a re-ranking stage reorders: display data (snippets) are built afterwards, by
        :meth:`window_hits`, only for the hits on the page asked for.  Engines that can be
        re-ranked implement both."""
        raise NotImplementedError(f"{type(self).__name__} cannot be re-ranked (no ranked_window)")

    def window_hits(self, query: SearchQuery, terms: QueryTerms, window: RankedWindow, picks: Sequence[int]) -> list[SearchHit]:
        """The display data of ``window.candidates[i]`` for each ``i`` in ``picks``, in that order,
        with the engine's own scores and under the visibility filter of ``query``."""
        raise NotImplementedError(f"{type(self).__name__} cannot be re-ranked (no window_hits)")

    # -- hybrid retrieval: candidates by meaning (search.backends.reranked) ----------------------
    def admitted_ids(self, query: SearchQuery, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` that ``query``'s filters admit (audiences, locale, kind, facet
        selections), in the order given.  How the hybrid stage keeps vector candidates inside the
        visibility rule when the engine holds no vectors itself: the engine decides, never Python."""
        raise NotImplementedError(f"{type(self).__name__} cannot filter vector candidates (no admitted_ids)")

    def vector_window(self, query: SearchQuery, vector: Any, depth: int) -> list[tuple[str, float]] | None:
        """The ``depth`` documents nearest to ``vector`` (a unit-length numpy array) that ``query``'s
        filters admit, as (id, similarity), best first; None when this engine holds no vectors
        (the hybrid stage then uses its in-process vector index and :meth:`admitted_ids`)."""
        return None

    def put_vectors(self, rows: Sequence[tuple[str, Any]]) -> None:
        """Store (document id, vectors) beside already indexed documents, for engines that answer
        :meth:`vector_window` themselves; ``vectors`` is a 2-D array (one row per passage).
        Unknown ids are ignored.  The default engine keeps no vectors."""
        return None

    @abc.abstractmethod
    def index(self, docs: Iterable[SearchDocument]) -> int:
        """Add or replace documents (by id).  Returns how many were written."""

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    @abc.abstractmethod
    def search(self, query: SearchQuery, terms: QueryTerms | None = None) -> SearchResults:
        """Run a query with the visibility filter applied inside the engine.

        ``terms`` is ``query.q`` already analysed by this engine's analyzer (a wrapper that looked
        at it passes it on, so a query is analysed once)."""

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
