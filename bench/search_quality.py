"""Retrieval quality of the search engine on a judged test set (STARD by default), cross-validated.

    python -m bench.search_quality [--corpus C] [--queries Q] [--qrels R] [--backend embedded] [--no-rerank]

Documents ({"id", "name", "content"} per line) go through the project's real indexing path
(SearchDocument -> engine.rebuild, then the semantic stage's ``embed``, as the index jobs do; its
vectors are kept in memory here instead of the database) and queries through the real query path
(engine.search, wrapped by :class:`search.backends.reranked.RerankedSearchBackend`).

Honest tuning: the judged queries are split in two halves, deterministically (by a hash of the query
id).  The hybrid stage's parameters (WEIGHT, WINDOW, VECTOR_DEPTH, RRF_K: :data:`GRID`) are chosen on
one half (best MRR@10 + Recall@10, computed with the stage's own :meth:`search.semantic.Reranker.arrange`
over each query's word ranking and vector similarities, computed once) and measured on the other
half through the real query path, both ways; the cross-validated figure averages every query
measured with parameters chosen without it.  It is printed beside the goal and the words-only
baseline, with the parameters chosen on all judged queries: the defaults the code ships
(search.semantic.TUNED).  Nothing here is tuned to particular queries; STARD's held-out queries are
never seen.  For reference it also prints the recall of the words' top 10 and the meaning's top 10
taken together (20 documents): what fusing the two rankings can hope to put on one page.

Vectors are cached on disk (``var/vector-cache.sqlite3``, keyed by model name and a digest of the
text), so a re-run embeds nothing it embedded before (the first run: about 2 to 5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO.parent / "shared" / "corpus" / "stard"


def load_corpus(path: Path):
    from search.backends.base import SearchDocument

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                yield SearchDocument(id=str(row["id"]), kind="statute", title=row.get("name", ""), body=row.get("content", ""))


def load_queries(path: Path) -> dict[str, str]:
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out[str(row["id"])] = row["query"]
    return out


def load_qrels(path: Path) -> dict[str, set[str]]:
    """``query_id<TAB>doc_id`` lines (a TREC-style ``qid 0 docid rel`` line also works; rel 0 is skipped)."""
    out: dict[str, set[str]] = defaultdict(set)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 2:
                out[parts[0]].add(parts[1])
            elif len(parts) == 4 and parts[3] not in ("0", "0.0"):
                out[parts[0]].add(parts[2])
    return out


def metrics(ranked: list[str], relevant: set[str], k: int = 10) -> tuple[float, float, float]:
    top = ranked[:k]
    rr = next((1.0 / (i + 1) for i, d in enumerate(top) if d in relevant), 0.0)
    recall = len(set(top) & relevant) / len(relevant)
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(top) if d in relevant)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return rr, recall, dcg / idcg if idcg else 0.0


def make_backend(name: str, path: str | None, stopwords: Path | None):
    from search.text import DEFAULT_STOPWORDS, Analyzer, load_stopwords

    stop = DEFAULT_STOPWORDS | load_stopwords(stopwords) if stopwords else DEFAULT_STOPWORDS
    analyzer = Analyzer(stopwords=stop)
    if name == "embedded":
        from search.backends.embedded import EmbeddedSearchBackend

        options = {"PATH": path} if path else {"IN_MEMORY": True}
        return EmbeddedSearchBackend(options, analyzer=analyzer)
    if name == "elasticsearch":
        import os

        from search.backends.elasticsearch import ElasticsearchSearchBackend

        url = os.environ.get("ELASTICSEARCH_URL")
        if not url:
            sys.exit("--backend elasticsearch needs ELASTICSEARCH_URL")
        return ElasticsearchSearchBackend({"URLS": [url], "INDEX": "bench-quality"}, analyzer=analyzer)
    sys.exit(f"unknown backend {name!r}")


GOAL = {"MRR@10": 0.64, "Recall@10": 0.78}

#: what two-fold cross-validation chooses from (search.semantic.Reranker keyword arguments)
GRID = {
    "window": (20, 30, 50, 100),
    "vector_depth": (0, 5, 10, 20, 40),
    "weight": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    "rrf_k": (0, 10, 60),
}


class DiskCachedEmbedder:
    """An embedder whose vectors are kept in an SQLite file, keyed by model name and text digest."""

    def __init__(self, inner, path: Path) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, kind TEXT, digest TEXT, v BLOB, PRIMARY KEY (model, kind, digest))")
        self.computed = 0

    def _key(self, text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def _get(self, kind: str, texts):
        import numpy as np

        keys = [self._key(t) for t in texts]
        found = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            rows = self.db.execute(
                f"SELECT digest, v FROM vec WHERE model=? AND kind=? AND digest IN ({','.join('?' * len(part))})",
                [self.name, kind, *part],
            )
            found.update({d: np.frombuffer(v, dtype=np.float32) for d, v in rows})
        return keys, found

    def _put(self, kind: str, pairs) -> None:
        self.db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?, ?)", [(self.name, kind, k, v.astype("float32").tobytes()) for k, v in pairs])
        self.db.commit()

    def warm_queries(self, texts, batch: int = 32) -> None:
        """Embed the questions not cached yet in batches (one model call and one commit per batch:
        single calls cost far more on a busy machine)."""
        keys, found = self._get("query", texts)
        todo = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in found]
        model = self.inner._get() if hasattr(self.inner, "_get") else None
        for start in range(0, len(todo), batch):
            part = todo[start : start + batch]
            if model is not None:
                vecs = model.query([t for _, t in part])
            else:
                vecs = [self.inner.query(t) for _, t in part]
            self._put("query", list(zip([k for k, _ in part], vecs, strict=True)))
            self.computed += len(part)

    def query(self, text: str):
        keys, found = self._get("query", [text])
        if keys[0] not in found:
            found[keys[0]] = self.inner.query(text)
            self._put("query", [(keys[0], found[keys[0]])])
            self.computed += 1
        return found[keys[0]]

    def passages(self, texts):
        import numpy as np

        keys, found = self._get("passage", texts)
        todo = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in found]
        for start in range(0, len(todo), 16):
            part = todo[start : start + 16]
            vecs = self.inner.passages([t for _, t in part])
            pairs = list(zip([k for k, _ in part], vecs, strict=True))
            self._put("passage", pairs)
            found.update(pairs)
            self.computed += len(part)
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), dtype=np.float32)


def halves(qids: list[str]) -> tuple[list[str], list[str]]:
    """The two folds: by the parity of a hash of the query id (deterministic, unrelated to content)."""
    a = [q for q in qids if hashlib.sha1(q.encode()).digest()[0] % 2 == 0]
    b = [q for q in qids if hashlib.sha1(q.encode()).digest()[0] % 2 == 1]
    return a, b


def average(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    n = len(rows) or 1
    return tuple(sum(r[i] for r in rows) / n for i in range(3))  # type: ignore[return-value]


class Prepared:
    """Per query: the engine's word ranking and every document's best-passage cosine, computed once,
    so that each point of the grid costs only the stage's own arithmetic."""

    def __init__(self, engine, reranker, queries: dict[str, str], qids: list[str], depth: int) -> None:
        import numpy as np

        from search.backends.base import SearchQuery

        self.words, self.sims, self.applies, self.widens, self.pos = {}, {}, {}, {}, {}
        for qid in qids:
            query = SearchQuery(q=queries[qid], page_size=10)
            terms = engine.analyzer.query(query.q)
            self.applies[qid] = reranker.applies(query, terms)
            self.widens[qid] = reranker.widens(terms)
            window = engine.ranked_window(query, terms, depth) if self.applies[qid] else None
            self.words[qid] = window.candidates if window is not None else [(h.id, h.score) for h in engine.search(query, terms).hits]
            if self.applies[qid]:
                docs, sims, pos = reranker.index.similarities(reranker.query_vector(query.q))
                order = np.argsort(-sims, kind="stable")
                self.sims[qid], self.pos[qid] = (docs, sims, order), pos

    def bound(self, qrels, qids: list[str], k: int = 10) -> float:
        """Recall of the words' top ``k`` and the meaning's top ``k`` together (2k documents, twice
        the room of a page): a reference for what fusing the two rankings can hope for."""
        out = []
        for qid in qids:
            top = {i for i, _ in self.words[qid][:k]}
            if qid in self.sims:
                docs, _, order = self.sims[qid]
                top |= {docs[n] for n in order[:k]}
            out.append(len(top & qrels[qid]) / len(qrels[qid]))
        return sum(out) / (len(out) or 1)

    def evaluate(self, reranker, qrels, qids: list[str]) -> tuple[float, float, float]:
        out = []
        for qid in qids:
            words = self.words[qid]
            if not self.applies[qid]:
                ranked = [i for i, _ in words[:10]]
            else:
                docs, sims, order = self.sims[qid]
                depth = reranker.vector_depth if self.widens[qid] else 0
                nearest = [(docs[n], float(sims[n])) for n in order[:depth]]
                head = {i for i, _ in words[: reranker.window]} | {i for i, _ in nearest}
                pos = self.pos[qid]
                sim = {i: float(sims[pos[i]]) for i in head if i in pos}
                ranked = [i for i, _ in reranker.arrange(words, nearest, sim)[0][:10]]
            out.append(metrics(ranked, qrels[qid]))
        return average(out)


def choose(prepared: Prepared, make, qrels, qids: list[str]) -> tuple[dict, tuple[float, float, float]]:
    """The grid point with the best MRR@10 + Recall@10 on ``qids``."""
    best, best_params, best_score = None, {}, -1.0
    for values in itertools.product(*GRID.values()):
        params = dict(zip(GRID, values, strict=True))
        if params["vector_depth"] == 0 and params["rrf_k"] != 0:
            continue  # RRF over one ranking is the word order
        got = prepared.evaluate(make(**params), qrels, qids)
        if got[0] + got[1] > best_score:
            best, best_params, best_score = got, params, got[0] + got[1]
    return best_params, best  # type: ignore[return-value]


def run_real(backend, queries, qrels, qids, per_query: dict | None = None) -> tuple[tuple[float, float, float], list[float]]:
    """The average metrics of ``qids`` through ``backend.search`` and each query's latency;
    ``per_query`` (when given) receives each query's metrics."""
    from search.backends.base import SearchQuery

    rows, latencies = [], []
    for qid in qids:
        t = time.perf_counter()
        res = backend.search(SearchQuery(q=queries[qid], page_size=10))
        latencies.append(time.perf_counter() - t)
        rows.append(metrics([h.id for h in res.hits], qrels[qid]))
        if per_query is not None:
            per_query[qid] = rows[-1]
    return average(rows), latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_DIR / "corpus.jsonl")
    parser.add_argument("--queries", type=Path, default=DEFAULT_DIR / "train.queries.jsonl")
    parser.add_argument("--qrels", type=Path, default=DEFAULT_DIR / "train.qrels.tsv")
    parser.add_argument(
        "--stopwords",
        type=Path,
        default=None,
        help="extra stop-word file merged into the analyzer's list (default: the built-in list only)",
    )
    parser.add_argument("--backend", default="embedded", choices=["embedded", "elasticsearch"])
    parser.add_argument("--limit", type=int, default=0, help="only the first N queries (0: all)")
    parser.add_argument("--no-rerank", action="store_true", help="words only: no semantic stage, no tuning")
    parser.add_argument("--cache", type=Path, default=REPO / "var" / "vector-cache.sqlite3", help="vector cache file")
    args = parser.parse_args(argv)
    for label, path in (("corpus", args.corpus), ("queries", args.queries), ("qrels", args.qrels)):
        if not path.is_file():
            sys.exit(
                f"bench.search_quality: {label} file not found: {path}\n"
                f"Put the STARD data at {DEFAULT_DIR} (../shared/corpus/stard beside the repo) or pass --{label}."
            )

    queries = load_queries(args.queries)
    qrels = load_qrels(args.qrels)
    judged = [qid for qid in queries if qrels.get(qid)]
    if args.limit:
        judged = judged[: args.limit]
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_backend(args.backend, tmp if args.backend == "embedded" else None, args.stopwords)
        t0 = time.perf_counter()
        n_docs = engine.rebuild(load_corpus(args.corpus))
        t_index = time.perf_counter() - t0
        by_query: dict[str, tuple[float, float, float]] = {}
        words, latencies = run_real(engine, queries, qrels, judged, by_query)
        rows += [("documents", f"{n_docs}"), ("queries", f"{len(judged)}"), ("index time", f"{t_index:.2f} s")]
        figures = [("words only (all queries)", words)]
        if not args.no_rerank:
            from search.backends.reranked import RerankedSearchBackend
            from search.semantic import TUNED, E5Embedder, MemoryVectorStore, Reranker

            embedder = DiskCachedEmbedder(E5Embedder(), args.cache)
            store = MemoryVectorStore()
            t0 = time.perf_counter()
            Reranker(embedder, store).embed(load_corpus(args.corpus))
            rows.append(("vectors time", f"{time.perf_counter() - t0:.1f} s ({embedder.computed} passages embedded, the rest cached)"))

            from search.text import normalize

            embedder.warm_queries([normalize(queries[q]) for q in judged])  # what Reranker.query_vector asks

            def make(**params):
                return Reranker(embedder, store, **params)

            t0 = time.perf_counter()
            prepared = Prepared(engine, make(), queries, judged, max(GRID["window"]))
            folds = halves(judged)
            measured, latencies = [], []
            for train, test in ((folds[0], folds[1]), (folds[1], folds[0])):
                params, fit = choose(prepared, make, qrels, train)
                got, lat = run_real(RerankedSearchBackend(engine, make(**params)), queries, qrels, test)
                measured += [got] * len(test)  # weighted by the half's size
                latencies += lat
                alone = average([by_query[q] for q in test])
                rows.append((
                    f"fold ({len(train)} -> {len(test)} queries)",
                    f"{params}  fit MRR {fit[0]:.4f}  held-out MRR {got[0]:.4f} R {got[1]:.4f}"
                    f"  (words only: MRR {alone[0]:.4f} R {alone[1]:.4f})",
                ))
            figures.append(("hybrid, cross-validated", average(measured)))
            rows.append(("words top 10 + meaning top 10", f"Recall {prepared.bound(qrels, judged):.4f} (20 documents: a reference for fusion)"))
            final, fit_all = choose(prepared, make, qrels, judged)
            rows.append(("chosen on all queries", f"{final}  (in-sample MRR {fit_all[0]:.4f}); shipped: {TUNED}"))
            shipped, _ = run_real(RerankedSearchBackend(engine, make()), queries, qrels, judged)
            figures.append(("shipped defaults (in-sample)", shipped))
            rows.append(("tuning time", f"{time.perf_counter() - t0:.1f} s"))
    latencies.sort()
    if latencies:
        rows.append(("query p50 / p95", f"{latencies[len(latencies) // 2] * 1000:.1f} / {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms"))
    load = os.getloadavg()
    print(f"search quality  backend={args.backend}  corpus={args.corpus}  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print()
    print(f"{'':<32}{'MRR@10':>9}{'Recall@10':>11}{'nDCG@10':>9}")
    print(f"{'goal (issue 14)':<32}{GOAL['MRR@10']:>9.2f}{GOAL['Recall@10']:>11.2f}{'':>9}")
    for label, (m, r, n) in figures:
        print(f"{label:<32}{m:>9.4f}{r:>11.4f}{n:>9.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
