"""Embedded engine: tantivy (BM25, top-k pruning) over rjieba-segmented text, in process.

OPTIONS:
    PATH            directory for the index (required unless IN_MEMORY is true)
    IN_MEMORY       keep the index in memory (tests, benchmarks)
    TITLE_BOOST, PHRASE_BOOST, PHRASE_SLOP, PAIR_BOOST, PAIR_SLOP, QTF_WEIGHT, BIGRAM_WEIGHT,
    BIGRAM_CHARS, CHAR_WEIGHT
                    the ranking options every engine shares (search.backends.base.RankingOptions).
                    Here, bigrams of the whole text would cost twice the indexing time of the word
                    fields (every distinct pair is a term), hence BIGRAM_CHARS; CHAR_WEIGHT rewards a
                    text that shares the characters of a word cut differently or phrased otherwise
                    (续租 / 承租, 赔钱 / 赔偿)
    WRITER_HEAP     tantivy writer heap in bytes (default 64 MB)
    WRITER_THREADS  tantivy writer threads (default 1)
    INDEX_WORKERS   processes that segment text during a rebuild (default 1: in process);
                    rjieba lets go of the GIL only while it cuts (its token lists need it):
                    threads measured no faster, so only processes add cores
    CUT_CACHE       (title, snippet) pairs a process keeps for (stored document, words), so a
                    question asked again is not cut again (default 4096; 0: none)

Indexing cost (news corpus, 19,387 items): rjieba segmentation is most of the
Python side, the word and bigram postings most of tantivy's; the two run in
parallel (tantivy indexes in its own thread while Python prepares the next
documents), so on two cores a rebuild takes about the longer of the two.
Every document's text goes through OpenCC t2s like the queries do (a zh-hans
page may quote traditional text; the conversion costs about 5% of indexing),
and the bigram field stops after BIGRAM_CHARS.

Reading a re-ranking window (the best 100 word hits) costs no stored document: each id is also a
number in the ``id_key`` fast field (:func:`id_key`); only the page's hits are read whole.  Schema
version 4 added that field: an index of version 3 answers "run `search_index rebuild`".

On disk: ``PATH/CURRENT`` names the live generation directory.  A rebuild
writes a new generation, replays the writes that arrived meanwhile (journal),
and switches ``CURRENT`` with one atomic rename, all under a file lock that
every writer takes, so no write made during a rebuild is lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import tantivy

from search.backends.base import (
    FACET_FIELDS,
    BaseSearchBackend,
    Capabilities,
    HealthStatus,
    Progress,
    RankedWindow,
    SearchDocument,
    SearchHit,
    SearchQuery,
    SearchResults,
    SearchUnavailable,
)
from search.highlight import CutCache, Snippet, best_snippet, highlight
from search.text import EXACT_ENOUGH, QueryTerms, cjk_runs, normalize, normalize_doc_number

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 4
KEYWORD_FIELDS = ("kind", "locale", "audience", "material_type", "topics", "year", "column", "issuing_body", "province", "category")
Occur = tantivy.Occur
Query = tantivy.Query


BIGRAM_TOKENIZER = "shuyuan_bigram"
CHAR_TOKENIZER = "shuyuan_char"


# Every document id is also kept as a number in a fast field (``id_key``), so a ranking reads its
# candidates' ids without their stored documents (which hold the whole text):
# * an id of the usual form ``<prefix>:<number>`` (page:12, document:3) is encoded: the prefix (up
#   to 8 of a-z and _) in base 28 above 24 bits of number, a positive key that decodes alone;
# * any other id is hashed (a negative key, 63 bits of BLAKE2b): the id behind a hash is learnt from
#   the stored document the first time it is read, then kept (ids never change; at most
#   _HASHED_LIMIT of them per process, beyond which the stored document is read each time).
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz_"
_ID_NUMBER_BITS = 24
_ID_NUMBER_MASK = (1 << _ID_NUMBER_BITS) - 1
_HASHED_LIMIT = 1_000_000
_MATCHED = "__matched"  # the aggregation counting the documents a query matches (not a facet field)
_hashed_ids: dict[int, str] = {}


def id_key(doc_id: str) -> int:
    """The number standing for ``doc_id`` in the ``id_key`` field (never 0)."""
    prefix, sep, number = doc_id.partition(":")
    if (
        sep
        and 0 < len(prefix) <= 8
        and 0 < len(number) <= 8
        and number.isascii()
        and number.isdigit()
        and number == str(int(number))
        and int(number) <= _ID_NUMBER_MASK
        and all(ch in _ID_ALPHABET for ch in prefix)
    ):
        code = 0
        for ch in prefix:
            code = code * 28 + _ID_ALPHABET.index(ch) + 1
        return code << _ID_NUMBER_BITS | int(number)
    digest = int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") >> 1
    return -(digest or 1)


def id_of_key(key: int | None) -> str | None:
    """The document id ``key`` stands for (:func:`id_key`), None when only a stored document can tell."""
    if not key:
        return None
    if key < 0:
        return _hashed_ids.get(key)
    code, letters = key >> _ID_NUMBER_BITS, []
    while code:
        code, digit = divmod(code, 28)
        letters.append(_ID_ALPHABET[digit - 1])
    return "".join(reversed(letters)) + ":" + str(key & _ID_NUMBER_MASK)


def _learn_id(key: int | None, doc_id: str) -> str:
    """Remember the id behind a hashed ``key`` (read from its stored document)."""
    if key is not None and key < 0 and len(_hashed_ids) < _HASHED_LIMIT and id_key(doc_id) == key:
        _hashed_ids[key] = doc_id
    return doc_id


def _new_index(schema: tantivy.Schema, path: Path | None = None, reuse: bool = True) -> tantivy.Index:
    index = tantivy.Index(schema, str(path), reuse=reuse) if path is not None else tantivy.Index(schema)
    index.register_tokenizer(BIGRAM_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(2, 2, False)).build())
    index.register_tokenizer(CHAR_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(1, 1, False)).build())
    return index


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in KEYWORD_FIELDS:
        sb.add_text_field(name, fast=True, tokenizer_name="raw")
    sb.add_text_field("doc_number", tokenizer_name="raw")
    sb.add_text_field("title_raw", tokenizer_name="raw")
    # Pre-segmented text: tokens are joined with spaces by search.text.Analyzer.
    sb.add_text_field("title", tokenizer_name="whitespace", index_option="position")
    sb.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    # Character bigrams, cut by tantivy itself (fast) from the CJK runs of the
    # text (search.text.cjk_runs: one field value per run), so the index holds
    # only the pairs the query side can send (search.text.cjk_bigrams).
    sb.add_text_field("bigrams", tokenizer_name=BIGRAM_TOKENIZER, index_option="freq")
    # Every CJK character of the title and the text: the CJK runs (search.text.cjk_runs, a C-speed
    # regex) joined into one value, cut into characters by tantivy (a third of the cost of its
    # regex tokenizer on the whole text, or of one value per run).
    sb.add_text_field("chars", tokenizer_name=CHAR_TOKENIZER, index_option="freq")
    sb.add_integer_field("date_key", fast=True, indexed=True)
    # the id as a number (id_key()): read by rankings instead of the stored documents
    sb.add_integer_field("id_key", fast=True, indexed=False)
    # Display data (JSON: id, kind, title, url, date, attachment sections) and the
    # original main text (UTF-8), kept apart so indexing never JSON-encodes long text.
    sb.add_bytes_field("payload", stored=True)
    sb.add_bytes_field("text", stored=True)
    return sb.build()


def _date_key(date: dt.date | None) -> int:
    return date.year * 10000 + date.month * 100 + date.day if date else 0


class EmbeddedSearchBackend(BaseSearchBackend):
    """tantivy index in a local directory (or in memory)."""

    capabilities = Capabilities(persistent=True, atomic_rebuild=True, remote=False)

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        opts = self.options
        self.in_memory = bool(opts.get("IN_MEMORY", False))
        path = opts.get("PATH")
        if not self.in_memory and not path:
            raise ValueError("The embedded search backend needs OPTIONS['PATH'] (or IN_MEMORY=True).")
        self.path = Path(path) if path else None
        self.writer_heap = int(opts.get("WRITER_HEAP", 64_000_000))
        self.writer_threads = int(opts.get("WRITER_THREADS", 1))
        self.index_workers = int(opts.get("INDEX_WORKERS", 1))
        self.schema = build_schema()
        # Opened lazily: constructing a backend has no side effects.
        self._index: tantivy.Index | None = None
        self._generation: str | None = None
        self._lock = threading.RLock()
        self._lock_file: Any = None
        # titles and snippets cut for (document, words): CUT_CACHE pairs per process (0: none)
        self._cuts = CutCache(int(opts.get("CUT_CACHE", 4096)))

    # -- storage ------------------------------------------------------------
    def _current_generation(self) -> str | None:
        assert self.path is not None
        try:
            return (self.path / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _new_generation(self) -> str:
        return f"v{SCHEMA_VERSION}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"

    def _open(self) -> tantivy.Index:
        """The live index, reopened when another process switched generations."""
        with self._lock:
            if self.in_memory:
                if self._index is None:
                    self._index = _new_index(self.schema)
                return self._index
            gen = self._current_generation()
            if gen is None:
                self.path.mkdir(parents=True, exist_ok=True)
                with self._write_lock():
                    gen = self._current_generation()
                    if gen is None:
                        gen = self._new_generation()
                        (self.path / gen).mkdir(parents=True)
                        _new_index(self.schema, self.path / gen)
                        self._switch(gen)
            if gen != self._generation or self._index is None:
                if not gen.startswith(f"v{SCHEMA_VERSION}-"):
                    raise SearchUnavailable(
                        f"Search index {self.path / gen} was built by another version; run `search_index rebuild`."
                    )
                try:
                    self._index = _new_index(self.schema, self.path / gen)
                except ValueError as exc:
                    raise SearchUnavailable(f"Cannot open search index {self.path / gen}: {exc}") from exc
                self._generation = gen
            return self._index

    def _switch(self, gen: str) -> None:
        tmp = self.path / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(gen)
        os.replace(tmp, self.path / "CURRENT")

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Cross-process lock that serialises writers with a rebuild's final switch (re-entrant per instance)."""
        with self._lock:
            if self.in_memory or self._lock_file is not None:
                yield
                return
            self.path.mkdir(parents=True, exist_ok=True)
            with open(self.path / "write.lock", "a+") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                self._lock_file = fh
                try:
                    yield
                finally:
                    self._lock_file = None
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def _writer(self, index: tantivy.Index) -> tantivy.IndexWriter:
        return index.writer(self.writer_heap, self.writer_threads)

    # -- documents ------------------------------------------------------------
    def to_tantivy(self, doc: SearchDocument) -> tantivy.Document:
        return tantivy.Document(**self.to_fields(doc))

    def to_fields(self, doc: SearchDocument) -> dict[str, Any]:
        """Field values of a document: segmentation happens here (the costly part of indexing)."""
        an = self.analyzer
        title = normalize(doc.title)
        main = "\n".join(p for p in (doc.subtitle, doc.summary, doc.body) if p)
        if doc.attachments or doc.issuing_body or doc.doc_number:
            text_parts = [main, doc.issuing_body, doc.doc_number]
            text_parts.extend(a.text for a in doc.attachments)
            text_parts.extend(a.title for a in doc.attachments)
            body = normalize("\n".join(p for p in text_parts if p))
        else:
            body = normalize(main)
        payload = {
            "id": doc.id,
            "kind": doc.kind,
            "title": doc.title,
            "url": doc.url,
            "date": doc.date.isoformat() if doc.date else None,
        }
        if doc.attachments:
            payload["attachments"] = [(a.title, a.page, a.text) for a in doc.attachments if a.text]
        fields: dict[str, Any] = {
            "id": doc.id,
            "id_key": id_key(doc.id),
            "kind": doc.kind,
            "locale": doc.locale,
            "audience": doc.audience,
            "title": an.index_text(title, normalized=True),
            "title_raw": title,
            "body": an.index_text(body, normalized=True),
            "date_key": _date_key(doc.date),
            "payload": json.dumps(payload, ensure_ascii=False).encode(),
            "text": main.encode(),
        }
        if self.ranking.bigram_weight > 0:
            lead = body[: self.ranking.bigram_chars] if self.ranking.bigram_chars > 0 else body
            fields["bigrams"] = cjk_runs(an.bigram_text(f"{title}\n{lead}", normalized=True))
        if self.ranking.char_weight > 0:
            fields["chars"] = "".join(cjk_runs(f"{title}\n{body}", 1))
        for name in ("material_type", "year", "column", "issuing_body", "province", "category"):
            value = getattr(doc, name)
            if value:
                fields[name] = str(value)
        if doc.topics:
            fields["topics"] = [str(t) for t in doc.topics if t]
        if doc.doc_number:
            fields["doc_number"] = normalize_doc_number(doc.doc_number)
        return fields

    def _apply(self, index: tantivy.Index, ops: list[tuple[str, Any]]) -> None:
        writer = self._writer(index)
        try:
            for op, value in ops:
                if op == "delete":
                    writer.delete_documents_by_term("id", value)
                else:
                    writer.delete_documents_by_term("id", value.id)
                    writer.add_document(self.to_tantivy(value))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        index.reload()

    def _write(self, ops: list[tuple[str, Any]]) -> None:
        if not ops:
            return
        with self._write_lock():
            index = self._open()
            self._apply(index, ops)
            if not self.in_memory and (self.path / "REBUILDING").exists():
                # A rebuild is running in some process: journal the write so the
                # new generation gets it before the switch.
                with open(self.path / "journal.jsonl", "a", encoding="utf-8") as fh:
                    for op, value in ops:
                        record = {"op": op, "id": value} if op == "delete" else {"op": op, "doc": _doc_to_json(value)}
                        fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def index(self, docs: Iterable[SearchDocument]) -> int:
        ops = [("index", d) for d in docs]
        self._write(ops)
        return len(ops)

    def delete(self, ids: Iterable[str]) -> None:
        self._write([("delete", i) for i in ids])

    def rebuild(self, docs: Iterable[SearchDocument], progress: Progress | None = None) -> int:
        if self.in_memory:
            index = _new_index(self.schema)
            count = self._fill(index, docs, progress)
            with self._lock:
                self._index = index
            return count
        self.path.mkdir(parents=True, exist_ok=True)
        gen = self._new_generation()
        new_dir = self.path / gen
        new_dir.mkdir()
        with self._write_lock():
            (self.path / "journal.jsonl").unlink(missing_ok=True)
            (self.path / "REBUILDING").write_text(gen)
        try:
            index = _new_index(self.schema, new_dir)
            count = self._fill(index, docs, progress)
            with self._write_lock():
                self._replay_journal(index)
                old = self._current_generation()
                self._switch(gen)
                (self.path / "REBUILDING").unlink(missing_ok=True)
                (self.path / "journal.jsonl").unlink(missing_ok=True)
        except BaseException:
            with self._write_lock():
                (self.path / "REBUILDING").unlink(missing_ok=True)
            shutil.rmtree(new_dir, ignore_errors=True)
            raise
        with self._lock:
            self._index, self._generation = None, None
        if old and old != gen:
            # Readers in other processes may still hold files open; on POSIX that is safe.
            shutil.rmtree(self.path / old, ignore_errors=True)
        return count

    def _prepared(self, docs: Iterable[SearchDocument]) -> Iterator[dict[str, Any]]:
        """Field dicts of ``docs``, segmented in INDEX_WORKERS forked processes when more than one."""
        if self.index_workers <= 1:
            for doc in docs:
                yield self.to_fields(doc)
            return
        import multiprocessing

        global _fork_backend
        _fork_backend = self  # inherited by the forked workers; nothing is pickled but docs and fields
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(self.index_workers) as pool:
            yield from pool.imap(_fields_in_worker, docs, chunksize=64)

    def _fill(self, index: tantivy.Index, docs: Iterable[SearchDocument], progress: Progress | None) -> int:
        writer = self._writer(index)
        count = 0
        try:
            for fields in self._prepared(docs):
                writer.add_document(tantivy.Document(**fields))
                count += 1
                if progress and count % 500 == 0:
                    progress(count, None)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        index.reload()
        if progress:
            progress(count, count)
        return count

    def _replay_journal(self, index: tantivy.Index) -> None:
        journal = self.path / "journal.jsonl"
        if not journal.exists():
            return
        ops: list[tuple[str, Any]] = []
        with open(journal, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                if record["op"] == "delete":
                    ops.append(("delete", record["id"]))
                else:
                    ops.append(("index", _doc_from_json(record["doc"])))
        if ops:
            self._apply(index, ops)

    # -- queries ------------------------------------------------------------
    def _term(self, field: str, value: str) -> tantivy.Query:
        return Query.term_query(self.schema, field, value)

    def _filter_clauses(self, query: SearchQuery) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        clauses = [(Occur.Must, Query.term_set_query(self.schema, "audience", sorted(query.audiences)))]
        if query.locale:
            clauses.append((Occur.Must, self._term("locale", query.locale)))
        for name, values in query.filters.items():
            clauses.append((Occur.Must, Query.term_set_query(self.schema, name, list(values))))
        if query.date_from or query.date_to:
            clauses.append(
                (
                    Occur.Must,
                    Query.range_query(
                        self.schema,
                        "date_key",
                        tantivy.FieldType.Integer,
                        _date_key(query.date_from) if query.date_from else None,
                        _date_key(query.date_to) if query.date_to else None,
                    ),
                )
            )
        return [(occ, Query.const_score_query(q, 0.0)) for occ, q in clauses]

    def _text_query(self, terms: QueryTerms) -> tantivy.Query | None:
        if terms.is_empty:
            return None
        should: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for i, group in enumerate(terms.groups):
            alternatives = []
            for term in group:
                alternatives.append(Query.boost_query(self._term("title", term), self.ranking.title_boost))
                alternatives.append(self._term("body", term))
            # synonyms of one word count once, as the best of them
            q = alternatives[0] if len(alternatives) == 1 else Query.disjunction_max_query(alternatives, 0.1)
            weight = terms.weight(i, self.ranking.qtf_weight)
            should.append((Occur.Should, q if weight == 1.0 else Query.boost_query(q, weight)))
        if self.ranking.bigram_weight > 0:
            for bigram in terms.bigrams:
                should.append((Occur.Should, Query.boost_query(self._term("bigrams", bigram), self.ranking.bigram_weight)))
        phrase = [t for t in terms.phrase if len(t) > 0]
        if len(phrase) >= 2 and self.ranking.phrase_boost > 0:
            for field, boost in (("body", self.ranking.phrase_boost), ("title", self.ranking.phrase_boost * self.ranking.title_boost)):
                should.append(
                    (Occur.Should, Query.boost_query(Query.phrase_query(self.schema, field, phrase, self.ranking.phrase_slop), boost))
                )
        if len(phrase) >= 3 and self.ranking.pair_boost > 0:
            for a, b in terms.pairs():
                pair = Query.phrase_query(self.schema, "body", [a, b], self.ranking.pair_slop)
                should.append((Occur.Should, Query.boost_query(pair, self.ranking.pair_boost)))
        if len(terms.doc_number) >= 4:
            should.append((Occur.Should, Query.boost_query(self._term("doc_number", terms.doc_number), 50.0)))
        if terms.text:
            should.append((Occur.Should, Query.boost_query(self._term("title_raw", terms.text), 10.0)))
        if not should:
            return None
        return Query.boolean_query(should)

    def _exact_first(self, query: SearchQuery, terms: QueryTerms) -> QueryTerms:
        """A short keyword query's words and phrases alone when they find EXACT_ENOUGH documents
        (search.text.QueryTerms.exact): then no partial bigram match comes in."""
        if not (terms.is_keyword and terms.bigrams and self.ranking.bigram_weight > 0):
            return terms
        exact = terms.exact()
        prepared = self._prepare(query, exact)
        if prepared is None:
            return terms
        found = self._open().searcher().search(prepared[1], 1, count=True).count
        return exact if found >= EXACT_ENOUGH else terms

    def _prepare(self, query: SearchQuery, terms: QueryTerms | None) -> tuple[Any, tantivy.Query, bool, set[str]] | None:
        """(terms, final query, sorted by date?, words to highlight); None when nothing can match."""
        terms = terms if terms is not None else self.analyzer.query(query.q)
        text_query: tantivy.Query | None
        if terms.text:
            text_query = self._text_query(terms)
            if text_query is None:
                return None
        else:
            text_query = None  # browse: everything the filters allow
        clauses = self._filter_clauses(query)
        if text_query is not None:
            clauses.append((Occur.Must, text_query))
            if self.ranking.char_weight > 0 and terms.chars:
                # score only: next to a Must clause a Should clause never adds a match
                chars = [(Occur.Should, self._term("chars", c)) for c in terms.chars]
                clauses.append((Occur.Should, Query.boost_query(Query.boolean_query(chars), self.ranking.char_weight)))
        by_date = query.sort == "date" or text_query is None
        highlight_terms = terms.all_terms() | set(terms.phrase)
        if terms.doc_number:
            highlight_terms.add(terms.doc_number)
        return terms, Query.boolean_query(clauses), by_date, highlight_terms

    def search(self, query: SearchQuery, terms: QueryTerms | None = None) -> SearchResults:
        if not query.audiences:
            return SearchResults.empty(query)
        terms = self._exact_first(query, terms if terms is not None else self.analyzer.query(query.q))
        prepared = self._prepare(query, terms)
        if prepared is None:
            return SearchResults.empty(query)
        terms, final, by_date, highlight_terms = prepared
        searcher = self._open().searcher()
        facets = self._facets(searcher, final, query.facets) if query.facets else {}
        try:
            if by_date:
                result = searcher.search(
                    final, query.page_size, count=True, order_by_field="date_key", offset=query.offset, order=tantivy.Order.Desc
                )
            else:
                result = searcher.search(final, query.page_size, count=True, offset=query.offset)
        except ValueError as exc:  # tantivy reports engine errors as ValueError
            raise SearchUnavailable(f"search failed: {exc}") from exc
        hits = []
        for key, addr in result.hits:
            doc = searcher.doc(addr)
            hits.append(self._hit(doc, key, highlight_terms, by_date))
        return SearchResults(total=result.count, hits=hits, facets=facets, page=query.page, page_size=query.page_size)

    def ranked_window(self, query: SearchQuery, terms: QueryTerms, depth: int) -> RankedWindow | None:
        if not query.audiences:
            return None
        terms = self._exact_first(query, terms)
        prepared = self._prepare(query, terms)
        if prepared is None:
            return None
        terms, final, _by_date, highlight_terms = prepared
        searcher = self._open().searcher()
        facets = self._facets(searcher, final, query.facets) if query.facets else {}
        try:
            result = searcher.search(final, depth, count=True)
        except ValueError as exc:
            raise SearchUnavailable(f"search failed: {exc}") from exc
        # ids from the fast field: the stored documents (with their whole text) are read for the page only
        addresses = [addr for _, addr in result.hits]
        ids = self._ids_at(searcher, addresses)
        candidates = [(doc_id, float(key)) for doc_id, (key, _) in zip(ids, result.hits, strict=True)]
        by_id = dict(zip(ids, addresses, strict=True))
        return RankedWindow(total=result.count, facets=facets, candidates=candidates,
                            context=(searcher, by_id, highlight_terms, final))

    @staticmethod
    def _ids_at(searcher: tantivy.Searcher, addresses: Sequence[Any]) -> list[str]:
        """The ids of the documents at ``addresses``: from the ``id_key`` fast field, else stored."""
        keys = searcher.fast_field_values("id_key", list(addresses)) if addresses else []
        return [
            id_of_key(key) or _learn_id(key, searcher.doc(addr).get_first("id"))
            for key, addr in zip(keys, addresses, strict=True)
        ]

    def window_hits(self, query: SearchQuery, terms: QueryTerms, window: RankedWindow, picks: Sequence[int]) -> list[SearchHit]:
        """The page's hits; a candidate the word window did not read (found by meaning, by a hybrid
        stage) is read by id under the visibility filter, and its snippet is the start of its text
        when no word of the question is in it.  Scores are the candidates'."""
        searcher, at, highlight_terms, _final = window.context if window.context is not None else (None, {}, None, None)
        if highlight_terms is None:
            prepared = self._prepare(query, terms)
            highlight_terms = prepared[3] if prepared is not None else set()
        page = [window.candidates[i] for i in picks]
        # stored documents (display data, with every attachment's text) only for the page's hits
        stored = {doc_id: searcher.doc(at[doc_id]) for doc_id, _ in page if doc_id in at}
        missing = [doc_id for doc_id, _ in page if doc_id not in stored]
        if missing:
            stored.update(self._by_id(query, missing))
        return [
            self._hit(stored[doc_id], score, highlight_terms, False)
            for doc_id, score in page
            if doc_id in stored
        ]

    def _id_query(self, query: SearchQuery, ids: Sequence[str]) -> tantivy.Query:
        """``ids`` AND the same filter clauses (audiences, locale, filters, dates) as the word query."""
        return Query.boolean_query([*self._filter_clauses(query), (Occur.Must, Query.term_set_query(self.schema, "id", list(ids)))])

    def _by_id(self, query: SearchQuery, ids: Sequence[str]) -> dict[str, tantivy.Document]:
        if not query.audiences or not ids:
            return {}
        searcher = self._open().searcher()
        result = searcher.search(self._id_query(query, ids), len(ids), count=False)
        docs = (searcher.doc(addr) for _, addr in result.hits)
        return {doc.get_first("id"): doc for doc in docs}

    def admitted_ids(self, query: SearchQuery, ids: Sequence[str]) -> list[str]:
        """Those of ``ids`` the query's filters admit, decided by tantivy (id terms AND the filters)."""
        if not query.audiences or not ids:
            return []
        searcher = self._open().searcher()
        result = searcher.search(self._id_query(query, ids), len(ids), count=False)
        found = set(self._ids_at(searcher, [addr for _, addr in result.hits]))
        return [doc_id for doc_id in ids if doc_id in found]

    def facet_counts(self, query: SearchQuery, ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """``query.facets`` counted over those of ``ids`` the query's filters admit (a hybrid stage
        adds the candidates it found by meaning to the word matches' facets)."""
        if not query.audiences or not ids or not query.facets:
            return {}
        return self._facets(self._open().searcher(), self._id_query(query, ids), query.facets)

    def union_counts(self, query: SearchQuery, window: RankedWindow, ids: Sequence[str]) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        """(total, facets) of the word matches of ``window`` together with those of ``ids`` the query's
        filters admit, each document once, in one aggregation (a hybrid stage adds the candidates it
        found by meaning): for a window read with no facets asked."""
        searcher, _at, _terms, final = window.context
        matched = final
        if ids:
            matched = Query.boolean_query([(Occur.Should, final), (Occur.Should, self._id_query(query, ids))])
        agg: dict[str, Any] = {name: {"terms": {"field": name, "size": 50}} for name in query.facets if name in FACET_FIELDS}
        agg[_MATCHED] = {"value_count": {"field": "date_key"}}  # every document has a date_key (0 when undated)
        raw = searcher.aggregate(matched, agg)
        facets: dict[str, list[tuple[str, int]]] = {name: [] for name in query.facets}
        for name in agg:
            if name != _MATCHED:
                buckets = raw.get(name, {}).get("buckets", [])
                facets[name] = [(str(b["key"]), int(b["doc_count"])) for b in buckets if str(b["key"])]
        return int(raw[_MATCHED]["value"] or 0), facets

    def _hit(self, stored: tantivy.Document, key: Any, terms: set[str], by_date: bool) -> SearchHit:
        raw_payload: bytes = stored.get_first("payload")
        payload = json.loads(raw_payload)
        text: bytes = stored.get_first("text") or b""
        words = frozenset(terms)

        def cut() -> tuple[str, Snippet]:
            sections = [("", None, text.decode())]
            sections.extend(tuple(s) for s in payload.get("attachments", ()))
            return highlight(payload["title"], words), best_snippet(sections, words)

        # the cut reads the stored text and the payload (title, attachments) only: their digest and the
        # words are the key, so a changed document never gets the snippet of its earlier text
        digest = hashlib.blake2b(text, digest_size=16)
        digest.update(raw_payload)
        title_html, snippet = self._cuts.get((digest.digest(), words), cut)
        return SearchHit(
            id=payload["id"],
            kind=payload["kind"],
            title=payload["title"],
            title_html=title_html,
            snippet_html=snippet.html,
            score=0.0 if by_date else float(key),
            url=payload.get("url") or "",
            date=dt.date.fromisoformat(payload["date"]) if payload.get("date") else None,
            source=snippet.source,
            page=snippet.page,
        )

    def _facets(self, searcher: tantivy.Searcher, final: tantivy.Query, names: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
        agg = {name: {"terms": {"field": name, "size": 50}} for name in names if name in FACET_FIELDS}
        if not agg:
            return {}
        raw = searcher.aggregate(final, agg)
        out: dict[str, list[tuple[str, int]]] = {}
        for name in agg:
            buckets = raw.get(name, {}).get("buckets", [])
            out[name] = [(str(b["key"]), int(b["doc_count"])) for b in buckets if str(b["key"])]
        return out

    def suggest(self, prefix: str, audiences: frozenset[str], locale: str | None = None, limit: int = 8) -> list[str]:
        prefix = normalize(prefix or "").strip()[:50]
        if not prefix or not audiences:
            return []
        filters = [(Occur.Must, Query.term_set_query(self.schema, "audience", sorted(audiences)))]
        if locale:
            filters.append((Occur.Must, self._term("locale", locale)))
        visible = Query.boolean_query(filters)
        searcher = self._open().searcher()
        # titles starting with the prefix: title_raw holds each whole normalised title as one term
        out: list[str] = []
        for term, n in searcher.terms_with_prefix("title_raw", prefix, filter_query=visible, limit=limit):
            if n <= 0:
                continue
            found = searcher.search(Query.boolean_query([*filters, (Occur.Must, self._term("title_raw", term))]), 1, count=False)
            for _score, addr in found.hits:
                title = json.loads(searcher.doc(addr).get_first("payload"))["title"]
                if title not in out:
                    out.append(title)
        # then words from visible documents' titles and bodies
        if len(out) < limit:
            counts: dict[str, int] = {}
            for field in ("title", "body"):
                for term, n in searcher.terms_with_prefix(field, prefix, filter_query=visible, limit=limit * 2):
                    if n > 0 and len(term) > 1:
                        counts[term] = counts.get(term, 0) + n
            for term, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                if term not in out:
                    out.append(term)
                if len(out) >= limit:
                    break
        return out[:limit]

    def health(self) -> HealthStatus:
        try:
            searcher = self._open().searcher()
            return HealthStatus(ok=True, engine="embedded", documents=searcher.num_docs, detail=str(self.path or "memory"))
        except (SearchUnavailable, OSError, ValueError) as exc:
            return HealthStatus(ok=False, engine="embedded", detail=str(exc))

    def document_ids(self) -> set[str]:
        """Every indexed id (for ``search_index check``)."""
        searcher = self._open().searcher()
        ids: set[str] = set()
        result = searcher.search(Query.all_query(), max(1, searcher.num_docs), count=False)
        for _score, addr in result.hits:
            ids.add(searcher.doc(addr).get_first("id"))
        return ids


_fork_backend: EmbeddedSearchBackend | None = None


def _fields_in_worker(doc: SearchDocument) -> dict[str, Any]:
    assert _fork_backend is not None
    return _fork_backend.to_fields(doc)


def _doc_to_json(doc: SearchDocument) -> dict[str, Any]:
    data = dict(doc.__dict__)
    data["attachments"] = [a.__dict__ for a in doc.attachments]
    data["date"] = doc.date.isoformat() if doc.date else None
    return data


def _doc_from_json(data: dict[str, Any]) -> SearchDocument:
    data = dict(data)
    data["date"] = dt.date.fromisoformat(data["date"]) if data.get("date") else None
    return SearchDocument(**data)


SearchBackend = EmbeddedSearchBackend
