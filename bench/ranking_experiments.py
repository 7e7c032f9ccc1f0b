"""The shipped ranking beside its variants on STARD, on both query halves: word matching and the
hybrid stage (search/semantic.py: candidates by meaning, fusion, re-ranking).  The stage's own
parameters are chosen by cross-validation in ``python -m bench.search_quality``; these rows show
single changes beside them.

    python -m bench.ranking_experiments [--corpus C] [--queries Q] [--qrels R]

Every row goes through the real engine (SearchDocument -> rebuild, engine.search, with the real
re-ranker and model where the row says so) with one change of OPTIONS or input, and prints MRR@10
on all judged queries and on the even and odd query ids separately (tuning that helps one half
only is noise).  Vectors are computed once and cached on disk (bench.search_quality's cache).  Two
rows are not rankings one could ship but bounds or references:

- ``oracle (words only)`` indexes, for half of the queries, the question text itself as extra
  text of the articles judged relevant to it, then measures the other half: what perfect
  knowledge of one half's wording (learning from clicks at its best) would give word matching.
- ``plain BM25`` is the reference the issue quotes (jieba words, no bigrams, characters, phrases
  or question-word removal).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from bench.search_quality import DEFAULT_DIR, load_corpus, load_qrels, load_queries, metrics

PLAIN = {"BIGRAM_WEIGHT": 0, "CHAR_WEIGHT": 0, "PHRASE_BOOST": 0, "PAIR_BOOST": 0, "QTF_WEIGHT": 0, "_question_words": False}

#: (label, engine OPTIONS, re-ranker options or None for words only)
VARIANTS: list[tuple[str, dict, dict | None]] = [
    ("shipped (words + meaning, fused, re-ranked)", {}, {}),
    ("words only (shipped word ranking)", {}, None),
    ("re-rank in place (no candidates by meaning)", {}, {"vector_depth": 0}),
    ("plain BM25", PLAIN, None),
    ("plain BM25 + hybrid stage", PLAIN, {}),
    ("hybrid, reciprocal-rank fusion k=60", {}, {"rrf_k": 60}),
    ("hybrid, first passage only", {}, {"_first_passage": True}),
    ("hybrid, z-score fusion instead of min-max", {}, {"_fusion": "zscore"}),
    ("hybrid, question words cut before embedding", {}, {"_content": True}),
    ("no character field", {"CHAR_WEIGHT": 0}, None),
    ("character field x2", {"CHAR_WEIGHT": 4.0}, None),
    ("no bigram field", {"BIGRAM_WEIGHT": 0}, None),
    ("bigrams of the whole text", {"BIGRAM_CHARS": 0}, None),
    ("title boost 2", {"TITLE_BOOST": 2.0}, None),
    ("no phrase or pair boosts", {"PHRASE_BOOST": 0, "PAIR_BOOST": 0}, None),
    ("question words kept", {"_question_words": False}, None),
    ("STARD's own stop list", {"_stopwords": True}, None),
]


def variant(embedder, vectors, analyzer, fusion: str = "minmax", content: bool = False, **options):
    """The shipped stage with one change: z-score fusion, or the question without its question
    words (the analyzer's ``content``) embedded instead of the whole question."""
    import numpy as np

    from search.semantic import Reranker

    class Variant(Reranker):
        def query_vector(self, q):
            return super().query_vector(analyzer.query(q).content if content else q)

        def _blend(self, ids, first, sims):
            if fusion != "zscore":
                return super()._blend(ids, first, sims)

            def z(values):
                sd = float(values.std())
                return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)

            lexical = z(first.astype(np.float64))
            have = [k for k, i in enumerate(ids) if i in sims]
            semantic = lexical.copy()
            if have:
                semantic[have] = z(np.array([sims[ids[k]] for k in have], dtype=np.float64))
            blended = (1.0 - self.weight) * lexical + self.weight * semantic
            return sorted(range(len(ids)), key=lambda k: (-blended[k], -lexical[k], k))

    return Variant(embedder, vectors, **options)


def backend_for(options: dict, stopwords: Path | None):
    from search.backends.embedded import EmbeddedSearchBackend
    from search.text import DEFAULT_STOPWORDS, Analyzer, load_stopwords

    opts = {k: v for k, v in options.items() if not k.startswith("_")}
    stop = DEFAULT_STOPWORDS
    if options.get("_stopwords") and stopwords and stopwords.is_file():
        stop = stop | load_stopwords(stopwords)
    analyzer = Analyzer(stopwords=stop) if options.get("_question_words", True) else Analyzer(stopwords=stop, question_words=frozenset())
    return EmbeddedSearchBackend({"IN_MEMORY": True, **opts}, analyzer=analyzer)


def mrr(backend, queries: dict[str, str], qrels: dict[str, set[str]], qids: Iterable[str]) -> float:
    from search.backends.base import SearchQuery

    qids = list(qids)
    total = 0.0
    for qid in qids:
        ranked = [h.id for h in backend.search(SearchQuery(q=queries[qid], page_size=10)).hits]
        total += metrics(ranked, qrels[qid])[0]
    return total / (len(qids) or 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_DIR / "corpus.jsonl")
    parser.add_argument("--queries", type=Path, default=DEFAULT_DIR / "train.queries.jsonl")
    parser.add_argument("--qrels", type=Path, default=DEFAULT_DIR / "train.qrels.tsv")
    parser.add_argument("--stopwords", type=Path, default=DEFAULT_DIR / "cn_stopwords.txt")
    args = parser.parse_args(argv)
    for label, path in (("corpus", args.corpus), ("queries", args.queries), ("qrels", args.qrels)):
        if not path.is_file():
            sys.exit(f"bench.ranking_experiments: {label} file not found: {path} (see bench.search_quality)")
    docs = list(load_corpus(args.corpus))
    queries, qrels = load_queries(args.queries), load_qrels(args.qrels)
    judged = [q for q in queries if qrels.get(q)]
    halves = {parity: [q for q in judged if int(q) % 2 == parity] if all(q.isdigit() for q in judged) else [] for parity in (0, 1)}
    rows = []
    from bench.search_quality import REPO, DiskCachedEmbedder
    from search.backends.reranked import RerankedSearchBackend
    from search.semantic import E5Embedder, MemoryVectorStore, Reranker

    embedder, store, first = DiskCachedEmbedder(E5Embedder(), REPO / "var" / "vector-cache.sqlite3"), MemoryVectorStore(), MemoryVectorStore()
    Reranker(embedder, store).embed(docs, progress=lambda done, total: print(f"\r  vectors {done}/{total}", end="", file=sys.stderr), total=len(docs))
    Reranker(embedder, first, max_passages=1).embed(docs)
    print(file=sys.stderr)
    for name, options, rerank in VARIANTS:
        backend = backend_for(options, args.stopwords)
        backend.rebuild(iter(docs))
        if rerank is not None:
            rerank = dict(rerank)
            vectors = first if rerank.pop("_first_passage", False) else store
            fusion, content = rerank.pop("_fusion", "minmax"), rerank.pop("_content", False)
            stage = variant(embedder, vectors, backend.analyzer, fusion, content, **rerank)
            backend = RerankedSearchBackend(backend, stage)
        rows.append((name, mrr(backend, queries, qrels, judged), *(mrr(backend, queries, qrels, halves[p]) for p in (0, 1))))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    # oracle: one half's questions become text of their relevant articles; measure the other half
    oracle = []
    for train, test in ((0, 1), (1, 0)):
        extra: dict[str, list[str]] = {}
        for qid in halves[train]:
            for doc_id in qrels[qid]:
                extra.setdefault(doc_id, []).append(queries[qid])
        expanded = [replace(d, summary="\n".join(extra[d.id])) if d.id in extra else d for d in docs]
        backend = backend_for({}, None)
        backend.rebuild(iter(expanded))
        oracle.append(mrr(backend, queries, qrels, halves[test]))
    rows.append(("oracle (words only): other half's questions", None, oracle[1], oracle[0]))
    print(f"ranking experiments on {args.corpus} ({len(docs)} documents, {len(judged)} judged queries)")
    print(f"{'variant':<44}{'MRR@10':>9}{'even ids':>10}{'odd ids':>9}")
    print("-" * 72)
    for name, all_, even, odd in rows:
        print(f"{name:<44}{'-' if all_ is None else f'{all_:.4f}':>9}{even:>10.4f}{odd:>9.4f}")
    print("(oracle: the even column is measured on even ids with the odd half's questions indexed, and vice versa)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
