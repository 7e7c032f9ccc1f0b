"""Retrieval quality of the search engine on a judged test set (STARD by default).

    python -m bench.search_quality [--corpus C] [--queries Q] [--qrels R] [--backend embedded] [--no-rerank]

Documents ({"id", "name", "content"} per line) go through the project's real
indexing path (SearchDocument -> engine.rebuild, then the semantic re-ranker's
``embed``, as the index jobs do; its vectors are kept in memory here instead of
the database) and queries through the real query path (engine.search with the
default analyzer and the shipped re-ranker); prints MRR@10, Recall@10 and
nDCG@10.  Nothing here is tuned to particular queries.
"""

from __future__ import annotations

import argparse
import json
import math
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
    parser.add_argument("--no-rerank", action="store_true", help="words only: no semantic re-ranking stage")
    args = parser.parse_args(argv)
    for label, path in (("corpus", args.corpus), ("queries", args.queries), ("qrels", args.qrels)):
        if not path.is_file():
            sys.exit(
                f"bench.search_quality: {label} file not found: {path}\n"
                f"Put the STARD data at {DEFAULT_DIR} (../shared/corpus/stard beside the repo) or pass --{label}."
            )

    from search.backends.base import SearchQuery

    with tempfile.TemporaryDirectory() as tmp:
        backend = make_backend(args.backend, tmp if args.backend == "embedded" else None, args.stopwords)
        t0 = time.perf_counter()
        n_docs = backend.rebuild(load_corpus(args.corpus))
        t_index = time.perf_counter() - t0
        t_vectors = None
        if not args.no_rerank:
            from search.backends.reranked import RerankedSearchBackend
            from search.semantic import E5Reranker

            backend = RerankedSearchBackend(backend, E5Reranker({"STORE": "memory"}))
            t0 = time.perf_counter()
            backend.reranker.embed(load_corpus(args.corpus))
            t_vectors = time.perf_counter() - t0
        queries = load_queries(args.queries)
        qrels = load_qrels(args.qrels)
        judged = [qid for qid in queries if qrels.get(qid)]
        if args.limit:
            judged = judged[: args.limit]
        totals = [0.0, 0.0, 0.0]
        latencies = []
        for qid in judged:
            t = time.perf_counter()
            res = backend.search(SearchQuery(q=queries[qid], page_size=10))
            latencies.append(time.perf_counter() - t)
            ranked = [h.id for h in res.hits]
            for i, v in enumerate(metrics(ranked, qrels[qid])):
                totals[i] += v
    n = len(judged) or 1
    latencies.sort()
    rows = [
        ("documents", f"{n_docs}"),
        ("queries", f"{len(judged)}"),
        ("index time", f"{t_index:.2f} s"),
        ("re-ranking", "off" if t_vectors is None else "semantic"),
        ("vectors time", "-" if t_vectors is None else f"{t_vectors:.1f} s"),
        ("MRR@10", f"{totals[0] / n:.4f}"),
        ("Recall@10", f"{totals[1] / n:.4f}"),
        ("nDCG@10", f"{totals[2] / n:.4f}"),
        ("query p50", f"{latencies[len(latencies) // 2] * 1000:.2f} ms" if latencies else "-"),
        ("query p95", f"{latencies[int(len(latencies) * 0.95)] * 1000:.2f} ms" if latencies else "-"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"search quality  backend={args.backend}  corpus={args.corpus}")
    print("-" * (width + 16))
    for k, v in rows:
        print(f"{k:<{width}}  {v:>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
