"""Elasticsearch engine, built with ``elasticsearch.dsl``.

OPTIONS:
    URLS / URL      node URL(s) (required), e.g. "http://localhost:9200"
    INDEX / INDEX_PREFIX  alias searched and written (default "shuyuan"); real indices
                    are "<INDEX>-<timestamp>" behind it
    ANALYZER        "whitespace" or "presegmented" (default: text is segmented here by rjieba and the server
                    only splits on spaces; works on a stock server) or "ik" (the server's
                    IK plugin segments: ik_max_word at index time, ik_smart at query time)
    CHUNK_SIZE      documents per bulk request (default 500)
    MAX_CHUNK_BYTES bytes per bulk request (default 10 MB)
    TIMEOUT         request timeout in seconds (default 10)
    REFRESH         true: writes return only once searchable (tests); default false
    TITLE_BOOST, PHRASE_BOOST, PHRASE_SLOP, PAIR_BOOST, PAIR_SLOP, QTF_WEIGHT, BIGRAM_WEIGHT,
    BIGRAM_CHARS, CHAR_WEIGHT  the ranking options every engine shares
                    (search.backends.base.RankingOptions; the ``chars`` field is filled by
                    ``copy_to`` from title and body and cut into CJK characters by a pattern
                    tokenizer, so no extra text is sent)
    CLIENT_OPTIONS  extra keyword arguments for ``elasticsearch.Elasticsearch``
                    (api_key, basic_auth, ca_certs, node_class, ...)
    VECTORS         true (default): the index keeps passage vectors for hybrid retrieval (kNN);
                    false: no vector field, and the hybrid stage keeps its vectors in process
    VECTOR_DIMS     dimensions of a passage vector (default 384: multilingual-e5-small)
    VECTOR_SIMILARITY  "dot_product" (default: vectors are scaled to unit length before they are
                    sent, where it equals cosine and is the fastest) or "cosine"
    NUM_CANDIDATES  kNN candidates per shard, at least k (default: max(100, 2 * k), at most 10,000)

Hybrid retrieval: each document holds its passage vectors in a ``nested`` field
(``passages.vector``, a ``dense_vector``), so one kNN search (Elasticsearch 8.11 or later) ranks
documents by their nearest passage and the search's ``filter`` (the word query's filters: audience,
locale, kind, facet selections) is applied inside the engine.  The hybrid stage stores the vectors
(:meth:`put_vectors`: bulk partial updates through the aliases, never creating a document); no
search returns them (every request names the ``_source`` fields it reads).

Rebuilds write a new index, then move the alias with one atomic
``_aliases`` request.  While a rebuild runs, the new index also carries the
``<INDEX>-rebuilding`` alias; every writer (in any process) sends its
operations to the live alias and to that alias, so nothing written during the
rebuild is lost.  The rebuild itself uses ``create`` operations, so a newer
document written meanwhile is never overwritten by the rebuild's older copy.

Servers: Elasticsearch 8 and 9, through the 8.x client (``elasticsearch>=8.18,<9``, which has
``elasticsearch.dsl``): it labels every request ``compatible-with=8``, which an 8.x server takes
as its own version and a 9.x server as the previous major's (REST API compatibility); the 9.x
client's ``compatible-with=9`` is refused by 8.x servers (400 ``media_type_header_exception``).

Writes never create an index: they target aliases only, with ``require_alias=true``, so a write
before the first rebuild fails (and stays queued) instead of auto-creating a real index named like
the alias.  Failures are sorted in two: the server cannot answer now (unreachable, timeout, HTTP
408/429/502/503/504) raises ``SearchUnavailable`` (the job retries later); any other refusal
raises ``SearchError`` naming the request and the server's reason (never a raw client exception).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from search.backends.base import (
    FACET_FIELDS,
    BaseSearchBackend,
    Capabilities,
    HealthStatus,
    Progress,
    RankedWindow,
    SearchDocument,
    SearchError,
    SearchHit,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
)
from search.highlight import best_snippet, highlight
from search.text import CJK_CHAR_PATTERN, EXACT_ENOUGH, QueryTerms, normalize, normalize_doc_number

logger = logging.getLogger(__name__)

#: the nested field holding a document's passage vectors (``passages.vector``)
VECTOR_FIELD = "passages"

KEYWORD_FIELDS = ("id", "kind", "locale", "audience", "material_type", "topics", "year", "column", "issuing_body", "province", "category")

#: HTTP statuses that mean "not now" (overloaded, restarting, behind a proxy that timed out): retried later
UNAVAILABLE_STATUSES = frozenset({408, 429, 502, 503, 504})


class ElasticsearchSearchBackend(BaseSearchBackend):
    capabilities = Capabilities(persistent=True, atomic_rebuild=True, remote=True)

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        opts = self.options
        urls = opts.get("URLS") or opts.get("URL")
        if not urls:
            raise ValueError("The Elasticsearch search backend needs OPTIONS['URLS'] (e.g. from ELASTICSEARCH_URL).")
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        self.alias = str(opts.get("INDEX") or opts.get("INDEX_PREFIX") or "shuyuan")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", self.alias):
            raise ValueError(f"OPTIONS['INDEX'] must be a lower-case Elasticsearch index name, not {self.alias!r}.")
        mode = str(opts.get("ANALYZER", "whitespace"))
        self.analyzer_mode = "whitespace" if mode == "presegmented" else mode
        if self.analyzer_mode not in ("whitespace", "ik"):
            raise ValueError("OPTIONS['ANALYZER'] must be 'whitespace' (alias 'presegmented') or 'ik'.")
        self.chunk_size = int(opts.get("CHUNK_SIZE", 500))
        self.max_chunk_bytes = int(opts.get("MAX_CHUNK_BYTES", 10 * 1024 * 1024))
        self.timeout = float(opts.get("TIMEOUT", 10))
        # "wait_for": a write returns once searchable (tests, tiny sites); default: ES's refresh interval
        self.refresh = "wait_for" if opts.get("REFRESH") else None
        self.vectors = str(opts.get("VECTORS", True)).lower() not in ("false", "0", "no", "off", "")
        try:
            self.vector_dims = int(opts.get("VECTOR_DIMS", 384))
            self.num_candidates = int(opts["NUM_CANDIDATES"]) if opts.get("NUM_CANDIDATES") is not None else None
        except (TypeError, ValueError) as exc:
            raise ValueError("OPTIONS['VECTOR_DIMS'] and OPTIONS['NUM_CANDIDATES'] must be whole numbers.") from exc
        if not 1 <= self.vector_dims <= 4096:
            raise ValueError("OPTIONS['VECTOR_DIMS'] must be between 1 and 4096 (Elasticsearch's dense_vector limit).")
        if self.num_candidates is not None and not 1 <= self.num_candidates <= 10_000:
            raise ValueError("OPTIONS['NUM_CANDIDATES'] must be between 1 and 10000.")
        self.vector_similarity = str(opts.get("VECTOR_SIMILARITY", "dot_product"))
        if self.vector_similarity not in ("dot_product", "cosine"):
            raise ValueError("OPTIONS['VECTOR_SIMILARITY'] must be 'dot_product' or 'cosine'.")
        # The SDK is imported here, not at module level, so projects without
        # Elasticsearch configured never import it.  Creating the client opens no connection.
        import elasticsearch
        from elasticsearch import dsl

        self._es = elasticsearch
        self._dsl = dsl
        self.client = elasticsearch.Elasticsearch(
            self.urls, request_timeout=self.timeout, **dict(opts.get("CLIENT_OPTIONS") or {})
        )

    @property
    def rebuild_alias(self) -> str:
        return f"{self.alias}-rebuilding"

    # -- mapping --------------------------------------------------------------
    def index_definition(self, name: str):  # -> elasticsearch.dsl.Index
        """The settings, analysis and mappings of a new index, as a DSL ``Index``."""
        dsl = self._dsl
        index = dsl.Index(name)
        index.settings(number_of_shards=1, number_of_replicas=1 if len(self.urls) > 1 else 0)
        bigram = dsl.analyzer(
            "shuyuan_bigram",
            tokenizer=dsl.tokenizer("shuyuan_bigram_tokenizer", "ngram", min_gram=2, max_gram=2, token_chars=["letter", "digit"]),
        )
        if self.analyzer_mode == "ik":
            text_kwargs: dict[str, Any] = {"analyzer": "ik_max_word", "search_analyzer": "ik_smart"}
        else:
            ws = dsl.analyzer("shuyuan_whitespace", tokenizer="whitespace", filter=["lowercase"])
            text_kwargs = {"analyzer": ws}
        mapping = dsl.Mapping()
        mapping.meta("dynamic", "strict")
        for field in KEYWORD_FIELDS:
            mapping.field(field, dsl.Keyword())
        mapping.field("doc_number", dsl.Keyword())
        mapping.field("title_raw", dsl.Keyword(ignore_above=512))
        mapping.field("title_terms", dsl.Keyword())
        if self.ranking.char_weight > 0:
            # every CJK character of title and body (search.text.CJK_CHAR_PATTERN), like the embedded engine's field
            char = dsl.analyzer(
                "shuyuan_char", tokenizer=dsl.tokenizer("shuyuan_char_tokenizer", "pattern", pattern=CJK_CHAR_PATTERN, group=0)
            )
            text_kwargs = {**text_kwargs, "copy_to": "chars"}
            mapping.field("chars", dsl.Text(analyzer=char, index_options="freqs"))
        mapping.field("title", dsl.Text(**text_kwargs))
        mapping.field("body", dsl.Text(**text_kwargs))
        mapping.field("bigrams", dsl.Text(analyzer=bigram, index_options="freqs"))
        mapping.field("date", dsl.Date())
        mapping.field("payload", dsl.Object(enabled=False))
        if self.vectors:
            # one nested object per passage: kNN on a nested vector ranks each document by its nearest passage
            mapping.field(VECTOR_FIELD, dsl.Nested(properties={
                "vector": dsl.DenseVector(dims=self.vector_dims, index=True, similarity=self.vector_similarity),
            }))
        index.mapping(mapping)
        return index

    # -- documents ------------------------------------------------------------
    def to_source(self, doc: SearchDocument) -> dict[str, Any]:
        an = self.analyzer
        title = normalize(doc.title)
        parts = [doc.subtitle, doc.summary, doc.body, doc.issuing_body, doc.doc_number]
        parts.extend(a.text for a in doc.attachments)
        parts.extend(a.title for a in doc.attachments)
        body = normalize("\n".join(p for p in parts if p))  # t2s in every locale, as queries are
        if self.analyzer_mode == "ik":
            title_text, body_text = title, body
        else:
            title_text, body_text = an.index_text(title, normalized=True), an.index_text(body, normalized=True)
        source: dict[str, Any] = {
            "id": doc.id,
            "kind": doc.kind,
            "locale": doc.locale,
            "audience": doc.audience,
            "title": title_text,
            "title_raw": title,
            "title_terms": sorted(set(an.tokens(title, normalized=True))),
            "body": body_text,
            "bigrams": an.bigram_text(
                title + "\n" + (body[: self.ranking.bigram_chars] if self.ranking.bigram_chars > 0 else body), normalized=True
            ),
            "date": doc.date.isoformat() if doc.date else None,
            "payload": {
                "title": doc.title,
                "url": doc.url,
                "date": doc.date.isoformat() if doc.date else None,
                "sections": [list(s) for s in doc.sections()],
            },
        }
        for name in ("material_type", "year", "column", "issuing_body", "province", "category"):
            value = getattr(doc, name)
            if value:
                source[name] = str(value)
        if doc.topics:
            source["topics"] = [str(t) for t in doc.topics if t]
        if doc.doc_number:
            source["doc_number"] = normalize_doc_number(doc.doc_number)
        return source

    # -- errors ---------------------------------------------------------------
    def _failure(self, exc: Exception, request: str) -> SearchError:
        """The engine's error for a client exception raised by ``request`` ("PUT /shuyuan-…")."""
        es = self._es
        if isinstance(exc, es.ApiError):
            status = exc.meta.status
            if status in UNAVAILABLE_STATUSES:
                return SearchUnavailable(f"Elasticsearch unavailable ({request}: HTTP {status}): {_reason(exc.body)}")
            return SearchError(f"Elasticsearch refused {request}: HTTP {status} {_reason(exc.body)}")
        if isinstance(exc, (es.ConnectionError, es.ConnectionTimeout)):
            return SearchUnavailable(f"Elasticsearch unreachable ({request}): {exc}")
        return SearchError(f"Elasticsearch request {request} failed: {exc}")

    def _call(self, request: str, fn, /, **kwargs: Any):
        """``fn(**kwargs)``, with client exceptions turned into the engine's (see :meth:`_failure`)."""
        try:
            return fn(**kwargs)
        except (self._es.ApiError, self._es.TransportError) as exc:
            raise self._failure(exc, request) from exc

    def _targets(self) -> list[str]:
        """Where writes go: the live alias, plus the rebuild's alias while a rebuild runs (aliases only)."""
        try:
            self.client.indices.get_alias(name=self.rebuild_alias)
        except self._es.NotFoundError:
            return [self.alias]
        except (self._es.ApiError, self._es.TransportError) as exc:
            raise self._failure(exc, f"GET /_alias/{self.rebuild_alias}") from exc
        return [self.alias, self.rebuild_alias]

    def _bulk(self, actions: Iterable[dict[str, Any]], *, ignore_conflicts: bool = False, refresh: bool = True,
              require_alias: bool = True, tolerate=None) -> int:
        """Send ``actions`` in bounded ``_bulk`` requests; every failed operation is an error (a delete
        of a document that is not there excepted), reported with the first one's reason."""
        from elasticsearch.helpers import streaming_bulk

        extra: dict[str, Any] = {"refresh": self.refresh} if refresh and self.refresh else {}
        if require_alias:
            extra["require_alias"] = True  # an index/create to a missing alias fails instead of creating an index
        count = 0
        errors: list[Any] = []
        try:
            for ok, item in streaming_bulk(
                self.client,
                actions,
                chunk_size=self.chunk_size,
                max_chunk_bytes=self.max_chunk_bytes,
                raise_on_error=False,
                raise_on_exception=True,
                **extra,
            ):
                if ok:
                    count += 1
                    continue
                op, info = next(iter(item.items()))
                status = info.get("status")
                if op == "delete" and status == 404 and "error" not in info:
                    continue  # the document was not there: nothing to delete (a missing index has an error)
                if tolerate is not None and tolerate(op, info):
                    continue
                if ignore_conflicts and status == 409:
                    continue
                errors.append(item)
        except (self._es.ApiError, self._es.TransportError) as exc:
            raise self._failure(exc, "PUT /_bulk") from exc
        if errors:
            raise self._bulk_failure(errors)
        return count

    def _bulk_failure(self, errors: list[dict[str, Any]]) -> SearchError:
        op, info = next(iter(errors[0].items()))
        target, doc_id, status = info.get("_index"), info.get("_id"), info.get("status")
        error = info.get("error") or {}
        what = f"{len(errors)} operation(s) of a _bulk request failed, first: {op} {doc_id!r} in {target!r}: HTTP {status} {_reason({'error': error})}"
        if all(next(iter(e.values())).get("status") in UNAVAILABLE_STATUSES for e in errors):
            return SearchUnavailable(f"Elasticsearch unavailable: {what}")
        if isinstance(error, dict) and error.get("type") == "index_not_found_exception":
            if target == self.alias:
                return SearchError(
                    f"Elasticsearch index alias {target!r} does not exist (no rebuild yet?): nothing was written; "
                    f"run `manage.py search_index rebuild`. {what}"
                )
            if target == self.rebuild_alias:  # the rebuild ended between the look-up and the write
                return SearchError(f"Elasticsearch alias {target!r} went away during the write; try again. {what}")
        return SearchError(f"Elasticsearch refused {what}")

    def index(self, docs: Iterable[SearchDocument]) -> int:
        docs = list(docs)
        if not docs:
            return 0
        targets = self._targets()

        def actions() -> Iterator[dict[str, Any]]:
            for doc in docs:
                source = self.to_source(doc)
                for target in targets:
                    yield {"_op_type": "index", "_index": target, "_id": doc.id, "_source": source}

        self._bulk(actions())
        return len(docs)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if not ids:
            return
        targets = self._targets()
        self._bulk({"_op_type": "delete", "_index": t, "_id": i} for i in ids for t in targets)

    def rebuild(self, docs: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        name = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 10**6}"
        body = self.index_definition(name).to_dict()
        body.setdefault("aliases", {})[self.rebuild_alias] = {}
        self._call(f"PUT /{name}", self.client.indices.create, index=name, **body)
        count = 0

        def actions() -> Iterator[dict[str, Any]]:
            nonlocal count
            for doc in docs:
                count += 1
                if progress and count % self.chunk_size == 0:
                    progress(count, None)
                yield {"_op_type": "create", "_index": name, "_id": doc.id, "_source": self.to_source(doc)}

        try:
            # the new index by its own name (created just above); should it vanish meanwhile, the switch
            # below fails (it removes the rebuild alias from it), so an index a write re-created never goes live
            self._bulk(actions(), ignore_conflicts=True, refresh=False, require_alias=False)
            self._call(f"POST /{name}/_refresh", self.client.indices.refresh, index=name)
            try:
                old = sorted(self.client.indices.get_alias(name=self.alias).body)
            except self._es.NotFoundError:
                old = []
            except (self._es.ApiError, self._es.TransportError) as exc:
                raise self._failure(exc, f"GET /_alias/{self.alias}") from exc
            switch = [{"remove": {"index": i, "alias": self.alias}} for i in old]
            switch.append({"add": {"index": name, "alias": self.alias}})
            switch.append({"remove": {"index": name, "alias": self.rebuild_alias}})
            try:
                self.client.indices.update_aliases(actions=switch)
            except self._es.ApiError as exc:
                if isinstance(exc.body, dict) and (exc.body.get("error") or {}).get("type") == "invalid_alias_name_exception":
                    raise SearchError(
                        f"Elasticsearch refused POST /_aliases: a real index named {self.alias!r} (not an alias) blocks "
                        f"the alias, probably created by a write before the first rebuild; delete that index, then rebuild "
                        f"({_reason(exc.body)})"
                    ) from exc
                raise self._failure(exc, "POST /_aliases") from exc
            except self._es.TransportError as exc:
                raise self._failure(exc, "POST /_aliases") from exc
        except BaseException:
            try:
                self.client.indices.delete(index=name)
            except (self._es.ApiError, self._es.TransportError) as exc:  # pragma: no cover - best effort cleanup
                logger.warning("could not delete half-built index %s: %s", name, exc)
            raise
        for stale in old:
            try:
                self.client.indices.delete(index=stale)
            except (self._es.ApiError, self._es.TransportError) as exc:
                logger.warning("could not delete old index %s: %s", stale, exc)
        if progress:
            progress(count, count)
        return count

    def indices(self) -> list[str]:
        """The concrete indices behind the live alias and the rebuild's alias (what a cleanup deletes by name)."""
        names: set[str] = set()
        for alias in (self.alias, self.rebuild_alias):
            try:  # one alias a request: a server answers 404 to a list in which one alias is missing
                names.update(self.client.indices.get_alias(name=alias).body)
            except self._es.NotFoundError:
                pass
            except (self._es.ApiError, self._es.TransportError) as exc:
                raise self._failure(exc, f"GET /_alias/{alias}") from exc
        return sorted(names)

    # -- queries ------------------------------------------------------------
    def _filters(self, query: SearchQuery) -> list[Any]:
        Q = self._dsl.Q
        filters = [Q("terms", audience=sorted(query.audiences))]
        if query.locale:
            filters.append(Q("term", locale={"value": query.locale}))
        for name, values in query.filters.items():
            filters.append(Q("terms", **{name: list(values)}))
        if query.date_from or query.date_to:
            rng: dict[str, str] = {}
            if query.date_from:
                rng["gte"] = query.date_from.isoformat()
            if query.date_to:
                rng["lte"] = query.date_to.isoformat()
            filters.append(Q("range", date=rng))
        return filters

    def text_query(self, terms: QueryTerms) -> Any | None:
        """The scoring part of a query, made of term/match clauses only (no query-string syntax)."""
        Q = self._dsl.Q
        if terms.is_empty:
            return None
        should: list[Any] = []
        if self.analyzer_mode == "ik":
            text = terms.content or terms.text  # the server segments it: question words left out, as for the word terms
            if text:
                should.append(Q("match", title={"query": text, "boost": self.ranking.title_boost}))
                should.append(Q("match", body={"query": text}))
                should.append(Q("match_phrase", body={"query": text, "slop": self.ranking.phrase_slop, "boost": self.ranking.phrase_boost}))
        else:
            for i, group in enumerate(terms.groups):
                alternatives = []
                for term in group:
                    alternatives.append(Q("term", title={"value": term, "boost": self.ranking.title_boost}))
                    alternatives.append(Q("term", body={"value": term}))
                weight = terms.weight(i, self.ranking.qtf_weight)
                if weight == 1.0:
                    should.append(Q("dis_max", queries=alternatives, tie_breaker=0.1))
                else:
                    should.append(Q("dis_max", queries=alternatives, tie_breaker=0.1, boost=weight))
            if len(terms.phrase) >= 2 and self.ranking.phrase_boost > 0:
                phrase = " ".join(terms.phrase)
                should.append(Q("match_phrase", body={"query": phrase, "slop": self.ranking.phrase_slop, "boost": self.ranking.phrase_boost}))
                should.append(
                    Q("match_phrase", title={"query": phrase, "slop": self.ranking.phrase_slop, "boost": self.ranking.phrase_boost * self.ranking.title_boost})
                )
            if len(terms.phrase) >= 3 and self.ranking.pair_boost > 0:
                for a, b in terms.pairs():
                    should.append(Q("match_phrase", body={"query": f"{a} {b}", "slop": self.ranking.pair_slop, "boost": self.ranking.pair_boost}))
        if self.ranking.bigram_weight > 0:
            for bigram in terms.bigrams:
                should.append(Q("term", bigrams={"value": bigram, "boost": self.ranking.bigram_weight}))
        if len(terms.doc_number) >= 4:
            should.append(Q("term", doc_number={"value": terms.doc_number, "boost": 50.0}))
        if terms.text:
            should.append(Q("term", title_raw={"value": terms.text, "boost": 10.0}))
        if not should:
            return None
        return Q("bool", should=should, minimum_should_match=1)

    def char_query(self, terms: QueryTerms) -> Any | None:
        """Score-only clause: one term per CJK character of the query's words (see QueryTerms.chars)."""
        if self.ranking.char_weight <= 0 or not terms.chars:
            return None
        Q = self._dsl.Q
        return Q("bool", should=[Q("term", chars={"value": c}) for c in terms.chars], boost=self.ranking.char_weight)

    def build_search(self, query: SearchQuery, terms: QueryTerms | None = None):  # -> dsl.Search | None
        """The DSL ``Search`` for ``query``; None when the query cannot match anything."""
        dsl = self._dsl
        terms = terms if terms is not None else self.analyzer.query(query.q)
        must = []
        should = []
        if terms.text:
            text_q = self.text_query(terms)
            if text_q is None:
                return None
            must.append(text_q)
            char_q = self.char_query(terms)
            if char_q is not None:
                should.append(char_q)
        search = dsl.Search(using=self.client, index=self.alias)
        if should:
            # next to must, should clauses only add to the score: characters never widen the match
            search = search.query(dsl.Q("bool", filter=self._filters(query), must=must, should=should))
        else:
            search = search.query(dsl.Q("bool", filter=self._filters(query), must=must))
        if query.sort == "date" or not terms.text:
            search = search.sort({"date": {"order": "desc", "missing": "_last"}}, "_score")
        search = self._source(search, ["id", "kind", "payload"])
        search = search.extra(from_=query.offset, size=query.page_size, track_total_hits=True)
        for name in query.facets:
            if name in FACET_FIELDS:
                search.aggs.bucket(name, "terms", field=name, size=50)
        return search

    def _source(self, search, fields: list[str]):
        """``search`` returning only ``fields`` of each hit's source: never the passage vectors."""
        if any(f == VECTOR_FIELD or f.startswith(VECTOR_FIELD + ".") for f in fields):
            raise ValueError(f"search hits never carry the {VECTOR_FIELD} vectors")
        return search.source(list(fields))

    def build_fetch(self, query: SearchQuery, ids: list[str]):  # -> dsl.Search
        """The display data of re-ranked hits, by id, under the same visibility filters as the query
        (also the hits only the vector search found: the word query never returned them)."""
        dsl = self._dsl
        search = dsl.Search(using=self.client, index=self.alias)
        search = search.query(dsl.Q("bool", filter=[*self._filters(query), dsl.Q("terms", id=list(ids))]))
        return self._source(search, ["id", "kind", "payload"]).extra(size=len(ids))

    def build_admitted(self, query: SearchQuery, ids: Sequence[str]):  # -> dsl.Search
        """Which of ``ids`` the query's filters admit: an ids query under the same filters, ids only."""
        dsl = self._dsl
        search = dsl.Search(using=self.client, index=self.alias)
        search = search.query(dsl.Q("bool", filter=[*self._filters(query), dsl.Q("ids", values=list(ids))]))
        return search.source(False).extra(size=len(ids))

    def build_facet_counts(self, query: SearchQuery, ids: Sequence[str]):  # -> dsl.Search | None
        """``query.facets`` counted over those of ``ids`` the query's filters admit: no hits, the same
        terms aggregations as the word query's (a hybrid stage adds its candidates found by meaning)."""
        names = [name for name in query.facets if name in FACET_FIELDS]
        if not names:
            return None
        dsl = self._dsl
        search = dsl.Search(using=self.client, index=self.alias)
        search = search.query(dsl.Q("bool", filter=[*self._filters(query), dsl.Q("ids", values=list(ids))]))
        for name in names:
            search.aggs.bucket(name, "terms", field=name, size=50)
        return search.source(False).extra(size=0)

    def build_knn(self, query: SearchQuery, vector: Sequence[float], depth: int):  # -> dsl.Search
        """The ``depth`` documents whose nearest passage is nearest to ``vector``, filtered inside the
        kNN search by exactly the filters of the word query (visibility, locale, facet selections)."""
        dsl = self._dsl
        k = max(1, int(depth))
        candidates = self.num_candidates or min(10_000, max(100, 2 * k))
        search = dsl.Search(using=self.client, index=self.alias)
        search = search.knn(
            field=f"{VECTOR_FIELD}.vector", k=k, num_candidates=max(k, candidates), query_vector=list(vector),
            filter=dsl.Q("bool", filter=self._filters(query)),
        )
        return self._source(search, ["id"]).extra(size=k)

    def build_count(self, query: SearchQuery, terms: QueryTerms) -> dict[str, Any] | None:
        """The body of a ``_count`` of what ``terms`` match under the query's filters; None: nothing can match."""
        search = self.build_search(query, terms)
        return None if search is None else {"query": search.to_dict()["query"]}

    def _exact_first(self, query: SearchQuery, terms: QueryTerms) -> QueryTerms:
        """A short keyword query's words and phrases alone when they find EXACT_ENOUGH documents
        (search.text.QueryTerms.exact), as the embedded engine answers: then no partial bigram match
        comes in.  One ``_count`` request decides."""
        if not (terms.is_keyword and terms.bigrams and self.ranking.bigram_weight > 0):
            return terms
        exact = terms.exact()
        body = self.build_count(query, exact)
        if body is None:
            return terms
        try:
            found = int(self.client.count(index=self.alias, **body).body.get("count", 0))
        except self._es.NotFoundError:
            return terms  # nothing indexed yet: the search says so
        except (self._es.ApiError, self._es.TransportError) as exc:
            raise self._failure(exc, f"POST /{self.alias}/_count") from exc
        return exact if found >= EXACT_ENOUGH else terms

    def _execute(self, search) -> dict[str, Any] | None:
        """The response as a dict; None when the index does not exist yet."""
        try:
            return search.execute().to_dict()
        except self._es.NotFoundError:
            return None
        except (self._es.ApiError, self._es.TransportError) as exc:
            raise self._failure(exc, f"POST /{self.alias}/_search") from exc

    def search(self, query: SearchQuery, terms: QueryTerms | None = None) -> SearchResults:
        if not query.audiences:
            return SearchResults.empty(query)
        terms = self._exact_first(query, terms if terms is not None else self.analyzer.query(query.q))
        search = self.build_search(query, terms)
        if search is None:
            return SearchResults.empty(query)
        data = self._execute(search)
        if data is None:
            return SearchResults.empty(query)  # nothing indexed yet
        by_date = query.sort == "date" or not terms.text
        hits = self._hits(data.get("hits", {}).get("hits", []), terms, by_date)
        return SearchResults(total=_total(data), hits=hits, facets=_facets(data, query), page=query.page, page_size=query.page_size)

    def ranked_window(self, query: SearchQuery, terms: QueryTerms, depth: int) -> RankedWindow | None:
        if not query.audiences:
            return None
        terms = self._exact_first(query, terms)
        search = self.build_search(query, terms)
        if search is None:
            return None
        # the window's ids and scores only; the page's display data come in a second request
        data = self._execute(self._source(search, ["id"]).extra(from_=0, size=depth))
        if data is None:
            return None  # nothing indexed yet
        candidates = [(raw["_source"]["id"], float(raw.get("_score") or 0.0)) for raw in data.get("hits", {}).get("hits", [])]
        return RankedWindow(total=_total(data), facets=_facets(data, query), candidates=candidates)

    def window_hits(self, query: SearchQuery, terms: QueryTerms, window: RankedWindow, picks: Sequence[int]) -> list[SearchHit]:
        page = [window.candidates[i] for i in picks]
        if not page:
            return []
        fetched = self._execute(self.build_fetch(query, [doc_id for doc_id, _ in page])) or {}
        by_id = {raw["_source"]["id"]: raw for raw in fetched.get("hits", {}).get("hits", [])}
        # scores stay the engine's; a document deleted between the two requests drops out
        return self._hits([{**by_id[doc_id], "_score": score} for doc_id, score in page if doc_id in by_id], terms, False)

    # -- hybrid retrieval (search.backends.reranked) --------------------------------------------------
    def admitted_ids(self, query: SearchQuery, ids: Sequence[str]) -> list[str]:
        ids = list(dict.fromkeys(ids))
        if not ids or not query.audiences:
            return []
        data = self._execute(self.build_admitted(query, ids))
        if data is None:
            return []
        found = {raw["_id"] for raw in data.get("hits", {}).get("hits", [])}
        return [i for i in ids if i in found]

    def facet_counts(self, query: SearchQuery, ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        ids = list(dict.fromkeys(ids))
        if not ids or not query.audiences or not query.facets:
            return {}
        search = self.build_facet_counts(query, ids)
        data = self._execute(search) if search is not None else None
        return _facets(data, query) if data is not None else {}

    def vector_window(self, query: SearchQuery, vector: Any, depth: int) -> list[tuple[str, float]] | None:
        if not self.vectors:
            return None  # the hybrid stage's in-process index answers, filtered by admitted_ids
        if not query.audiences or depth <= 0:
            return []
        try:
            data = self._execute(self.build_knn(query, _unit(vector, self.vector_dims), depth))
        except SearchError as exc:
            if type(exc) is SearchError and "HTTP 400" in str(exc) and VECTOR_FIELD in str(exc):
                # the live index predates the vector field: the hybrid stage's own index answers
                logger.warning("kNN refused (index built before vectors? rebuild it): %s", exc)
                return None
            raise
        if data is None:
            return []  # nothing indexed yet
        # dot_product and cosine: _score = (1 + similarity) / 2
        return [(raw["_source"]["id"], 2.0 * float(raw.get("_score") or 0.0) - 1.0) for raw in data.get("hits", {}).get("hits", [])]

    def put_vectors(self, rows: Sequence[tuple[str, Any]]) -> None:
        """Partial updates (``update`` without upsert) through the aliases, ``require_alias`` set: a
        document that is not there is left out (404 per item), never created."""
        if not self.vectors:
            return
        prepared = []
        for doc_id, vectors in rows:
            passages = [{"vector": _unit(v, self.vector_dims)} for v in _rows(vectors)]
            prepared.append((str(doc_id), passages))
        if not prepared:
            return
        targets = self._targets()
        unmapped: list[str] = []

        def tolerate(op: str, info: dict[str, Any]) -> bool:
            kind = (info.get("error") or {}).get("type")
            if op == "update" and info.get("status") == 404 and kind == "document_missing_exception":
                return True  # vectors of a document that is not (or no longer) indexed
            if op == "update" and kind == "strict_dynamic_mapping_exception":
                unmapped.append(str(info.get("_index")))  # an index built before vectors: kept by the hybrid stage
                return True
            return False

        self._bulk(
            ({"_op_type": "update", "_index": t, "_id": doc_id, "doc": {VECTOR_FIELD: passages}}
             for doc_id, passages in prepared for t in targets),
            tolerate=tolerate,
        )
        if unmapped:
            logger.warning("Elasticsearch index %s has no %s field (built before vectors): kNN is off until "
                           "`manage.py search_index rebuild`", sorted(set(unmapped))[0], VECTOR_FIELD)

    def _hits(self, raw_hits: list[dict[str, Any]], terms: QueryTerms, by_date: bool) -> list[SearchHit]:
        highlight_terms = terms.all_terms() | set(terms.phrase)
        if terms.doc_number:
            highlight_terms.add(terms.doc_number)
        hits = []
        for raw in raw_hits:
            src = raw["_source"]
            payload = src["payload"]
            snippet = best_snippet([tuple(s) for s in payload.get("sections", [])], highlight_terms)
            hits.append(
                SearchHit(
                    id=src["id"],
                    kind=src["kind"],
                    title=payload["title"],
                    title_html=highlight(payload["title"], highlight_terms),
                    snippet_html=snippet.html,
                    score=0.0 if by_date else float(raw.get("_score") or 0.0),
                    url=payload.get("url") or "",
                    date=dt.date.fromisoformat(payload["date"]) if payload.get("date") else None,
                    source=snippet.source,
                    page=snippet.page,
                )
            )
        return hits

    def build_suggest(self, prefix: str, audiences: frozenset[str], locale: str | None, limit: int):
        """One request: titles starting with ``prefix`` (post_filter) and words of visible titles (aggregation).

        The query itself is only the visibility filter, so the aggregation never
        sees a document the caller may not see.
        """
        dsl = self._dsl
        Q = dsl.Q
        filters = [Q("terms", audience=sorted(audiences))]
        if locale:
            filters.append(Q("term", locale={"value": locale}))
        search = dsl.Search(using=self.client, index=self.alias)
        search = search.query(Q("bool", filter=filters))
        search = search.post_filter(Q("prefix", title_raw={"value": prefix}))
        search = self._source(search, ["payload.title"]).extra(size=limit)
        search.aggs.bucket("words", "terms", field="title_terms", include=_lucene_regex_escape(prefix) + ".*", size=limit)
        return search

    def suggest(self, prefix: str, audiences: frozenset[str], locale: str | None = None, limit: int = 8) -> list[str]:
        prefix = normalize(prefix or "").strip()[:50]
        if not prefix or not audiences:
            return []
        try:
            response = self.build_suggest(prefix, audiences, locale, limit).execute()
        except self._es.NotFoundError:
            return []
        except (self._es.ApiError, self._es.TransportError) as exc:
            raise self._failure(exc, f"POST /{self.alias}/_search (suggest)") from exc
        data = response.to_dict()
        out: list[str] = []
        for hit in data.get("hits", {}).get("hits", []):
            title = hit["_source"]["payload"]["title"]
            if title not in out:
                out.append(title)
        for bucket in data.get("aggregations", {}).get("words", {}).get("buckets", []):
            if bucket["key"] not in out and len(bucket["key"]) > 1:
                out.append(bucket["key"])
        return out[:limit]

    def health(self) -> HealthStatus:
        missing = HealthStatus(ok=False, engine="elasticsearch", detail=f"index alias {self.alias!r} missing: run a rebuild")
        request = f"HEAD /_alias/{self.alias}"
        try:
            # an alias, not a real index of that name (which a write could once auto-create)
            if not self.client.indices.exists_alias(name=self.alias):
                return missing
            request = f"POST /{self.alias}/_count"
            count = self.client.count(index=self.alias).body["count"]
            return HealthStatus(ok=True, engine="elasticsearch", documents=int(count), detail=self.alias)
        except self._es.NotFoundError:
            return missing
        except (self._es.ApiError, self._es.TransportError) as exc:
            return HealthStatus(ok=False, engine="elasticsearch", detail=str(self._failure(exc, request)))

    def document_ids(self) -> set[str]:
        from elasticsearch.helpers import scan

        try:
            return {hit["_id"] for hit in scan(self.client, index=self.alias, query={"query": {"match_all": {}}}, _source=False)}
        except (self._es.ApiError, self._es.TransportError) as exc:
            raise self._failure(exc, f"POST /{self.alias}/_search (scroll)") from exc


def _rows(vectors: Any) -> list[Any]:
    """The rows of a 2-D array (or a list of vectors); a single vector is one row."""
    import numpy as np

    array = np.asarray(vectors, dtype=np.float64)
    return [array] if array.ndim == 1 else list(array)


def _unit(vector: Any, dims: int) -> list[float]:
    """``vector`` as a list of floats scaled to unit length (dot_product needs it; cosine ignores it),
    rounded to 7 decimals (float32 precision: the length stays within the server's 1e-4 check)."""
    import numpy as np

    values = np.asarray(vector, dtype=np.float64).ravel()
    if values.shape[0] != dims:
        raise SearchError(f"a vector of {values.shape[0]} dimensions for a field of {dims} (OPTIONS['VECTOR_DIMS'])")
    norm = float(np.linalg.norm(values))
    if not norm or not np.isfinite(norm):
        raise SearchError("a zero (or not finite) vector has no direction: it cannot be compared")
    return np.round(values / norm, 7).tolist()


def _reason(body: Any) -> str:
    """``type: reason (caused by: …)`` of an Elasticsearch error body, or the body itself."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return str(error if error is not None else body)[:500]
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        text += f" (caused by {cause.get('type', 'error')}: {cause['reason']})"
    return text[:1000]


def _total(data: dict[str, Any]) -> int:
    total = data.get("hits", {}).get("total", {})
    return int(total.get("value", 0) if isinstance(total, dict) else int(total or 0))


def _facets(data: dict[str, Any], query: SearchQuery) -> dict[str, list[tuple[str, int]]]:
    aggs = data.get("aggregations", {})
    return {name: [(str(b["key"]), int(b["doc_count"])) for b in aggs.get(name, {}).get("buckets", [])] for name in query.facets}


_LUCENE_REGEX_SPECIAL = set(r'.?+*|{}[]()"\\#@&<>~')


def _lucene_regex_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _LUCENE_REGEX_SPECIAL else ch for ch in text)


SearchBackend = ElasticsearchSearchBackend
