"""Fusion of the word ranking and the nearest vectors (search.semantic.Reranker.arrange / _blend),
and the cross-validation that chooses its parameters (bench.search_quality).

A fake embedder with controlled vectors (tests/search/test_hybrid.py's concepts) keeps these exact.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bench.search_quality import GRID, choose, halves
from search.backends.base import SearchQuery
from search.semantic import TUNED, MemoryVectorStore, Reranker
from tests.search.test_hybrid import EVERYONE, PUBLIC, QUESTION, FakeEmbedder, hybrid, ids


def reranker(**options) -> Reranker:
    return Reranker(FakeEmbedder(), MemoryVectorStore(), min_chars=2, **options)


# -- negative first ----------------------------------------------------------------------------------
def test_restricted_ids_never_come_in_through_the_vector_path():
    """The members' and internal documents are the nearest in meaning; the public never gets them,
    whatever the depth of the vector window or the fusion's parameters."""
    for depth, weight, rrf_k in itertools.product((1, 5, 50), (0.0, 0.5, 1.0), (0, 60)):
        _, backend = hybrid(vector_depth=depth, weight=weight, rrf_k=rrf_k)
        got = backend.search(SearchQuery(q="党员醉驾的驾驶员怎样处分", audiences=PUBLIC, page_size=100, facets=["kind"]))
        assert {"page:5", "page:6"}.isdisjoint(ids(got)), (depth, weight, rrf_k)
        assert got.total == len(got.hits)
        nearest = backend.nearest(SearchQuery(q=QUESTION, audiences=PUBLIC), backend.reranker.query_vector(QUESTION))
        assert {"page:5", "page:6"}.isdisjoint(i for i, _ in nearest)
    # the same search for everyone does reach them, so the check above can fail
    _, backend = hybrid(vector_depth=50)
    assert {"page:5", "page:6"} <= set(ids(backend.search(SearchQuery(q="党员醉驾的驾驶员怎样处分", audiences=EVERYONE, page_size=100))))


def test_candidates_by_meaning_never_displace_an_identical_word_ranking_when_weight_is_zero():
    r = reranker(weight=0.0, vector_depth=3)
    words = [("a", 9.0), ("b", 5.0), ("c", 1.0)]
    answer, extra = r.arrange(words, [("z", 0.99), ("b", 0.9)], {"a": 0.1, "b": 0.9, "c": 0.5, "z": 0.99})
    assert [i for i, _ in answer] == ["a", "b", "c", "z"]  # words first, the meaning-only candidate after
    assert extra == ["z"]


# -- what it does ------------------------------------------------------------------------------------
def test_a_document_sharing_no_word_with_the_question_is_found_by_meaning():
    engine, backend = hybrid()
    words = engine.search(SearchQuery(q=QUESTION, page_size=100))
    assert "page:1" not in ids(words)
    got = backend.search(SearchQuery(q=QUESTION, page_size=10))
    assert ids(got)[0] == "page:1"
    # with no vector window the stage only re-orders the word matches: page:1 cannot appear
    _, in_place = hybrid(vector_depth=0)
    assert "page:1" not in ids(in_place.search(SearchQuery(q=QUESTION, page_size=100)))


def test_fusion_is_deterministic_and_independent_of_the_page_asked():
    r = reranker(window=4, vector_depth=3)
    words = [("a", 3.0), ("b", 3.0), ("c", 2.0), ("d", 1.0), ("e", 0.5), ("f", 0.2)]
    vectors = [("x", 0.8), ("c", 0.7), ("y", 0.7)]
    sims = {"a": 0.2, "b": 0.2, "c": 0.7, "d": 0.1, "x": 0.8, "y": 0.7}
    first = r.arrange(words, vectors, sims)
    for _ in range(5):
        assert r.arrange(list(words), list(vectors), dict(reversed(list(sims.items())))) == first
    order = [i for i, _ in first[0]]
    assert order[:2] == ["c", "x"]  # near in meaning and (for c) in words
    assert order.index("a") < order.index("b")  # a tie keeps the engine's order
    assert order[-2:] == ["e", "f"]  # past the window: the engine's order
    assert len(order) == len(set(order)) == 8 and first[1] == ["x", "y"]


def test_the_blend_weight_moves_between_the_two_rankings():
    words = [("a", 3.0), ("b", 2.0), ("c", 1.0)]
    sims = {"a": 0.1, "b": 0.5, "c": 0.9}
    assert [i for i, _ in reranker(weight=0.0).arrange(words, [], sims)[0]] == ["a", "b", "c"]
    assert [i for i, _ in reranker(weight=1.0).arrange(words, [], sims)[0]] == ["c", "b", "a"]
    # a document without a vector keeps its word standing
    assert [i for i, _ in reranker(weight=1.0).arrange(words, [], {"b": 0.5, "c": 0.9})[0]] == ["a", "c", "b"]


# -- the cross-validation that chooses TUNED ---------------------------------------------------------
def test_the_two_halves_split_every_query_once_and_do_not_depend_on_the_order():
    qids = [str(n) for n in range(200)]
    a, b = halves(qids)
    assert set(a).isdisjoint(b) and set(a) | set(b) == set(qids)
    assert 60 < len(a) < 140
    assert halves(list(reversed(qids))) == (list(reversed(a)), list(reversed(b)))


def test_the_shipped_defaults_are_a_point_of_the_grid():
    for name, value in TUNED.items():
        assert value in GRID[name], name


def test_choose_picks_the_grid_point_that_scores_best_on_its_own_queries():
    class Scored:
        def __init__(self):
            self.seen = []

        def evaluate(self, r, qrels, qids):
            self.seen.append((r.window, r.vector_depth, r.weight, r.rrf_k))
            score = 1.0 if (r.weight, r.vector_depth) == (0.6, 40) else 0.5
            return (score, score, score)

    prepared = Scored()
    params, fit = choose(prepared, lambda **p: reranker(**p), {}, ["q"])
    assert params["weight"] == 0.6 and params["vector_depth"] == 40 and fit == (1.0, 1.0, 1.0)
    # RRF over a single ranking is the word order: never a separate point
    assert all(k == 0 for (_, depth, _, k) in prepared.seen if depth == 0)


def test_bad_fusion_options_are_refused():
    for bad in ({"weight": 1.5}, {"vector_depth": -1}, {"rrf_k": -1}, {"window": 0}):
        with pytest.raises(ValueError):
            reranker(**bad)
    assert np.isfinite(reranker().weight)
