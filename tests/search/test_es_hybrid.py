"""Hybrid retrieval on Elasticsearch (issue #14, item 1): passage vectors in a nested ``dense_vector``
field, stored by partial updates that never create a document, and a kNN search filtered inside the
engine by exactly the word query's filters.

Requests go through the real client into the recording node (tests/search/es_fake.py), whose
:class:`Cluster` keeps the documents and answers filters and kNN on nested vectors as a server does
(best passage per document, ``_score = (1 + dot) / 2``); every request is also checked against the
published API specification.  A live server runs the same engine in the contract suite.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from search.backends.base import SearchDocument, SearchError, SearchQuery
from search.backends.elasticsearch import ElasticsearchSearchBackend
from tests.search.es_fake import default_responder

PUBLIC = frozenset({"public"})
MEMBERS = frozenset({"public", "members"})
DIMS = 4


@pytest.fixture
def node(cluster_node):
    return cluster_node


def make(node, **options) -> ElasticsearchSearchBackend:
    opts = {"URLS": ["http://es.invalid:9200"], "INDEX": "shuyuan", "VECTOR_DIMS": DIMS, "REFRESH": True,
            "CLIENT_OPTIONS": {"node_class": node, "max_retries": 0}}
    opts.update(options)
    return ElasticsearchSearchBackend(opts)


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


DOCS = [
    SearchDocument(id="page:1", kind="article", title="党员发展工作", body="发展党员的程序", date=dt.date(2024, 1, 1)),
    SearchDocument(id="page:2", kind="material", title="入党申请书范文", body="申请加入中国共产党", date=dt.date(2024, 2, 1)),
    SearchDocument(id="page:3", kind="article", title="内部：发展对象名单", body="名单", audience="members"),
    SearchDocument(id="page:4", kind="article", title="黨員發展", body="繁體", locale="zh-hant"),
    SearchDocument(id="page:5", kind="article", title="机关绝密", body="绝密", audience="internal"),
]
QUESTION = unit(1, 0, 0, 0)
VECTORS = {  # page:5 and page:3 are nearest of all, and restricted
    "page:1": np.stack([unit(0, 1, 0, 0), unit(0.8, 0.6, 0, 0)]),  # its second passage is near
    "page:2": np.stack([unit(0.5, 0.5, 0.5, 0.5)]),
    "page:3": np.stack([unit(0.99, 0.1, 0, 0)]),
    "page:4": np.stack([unit(0.9, 0, 0.4, 0)]),
    "page:5": np.stack([unit(1, 0, 0, 0)]),
}


def loaded(node, **options) -> ElasticsearchSearchBackend:
    engine = make(node, **options)
    engine.rebuild(DOCS)
    engine.put_vectors(sorted(VECTORS.items()))
    node.requests = []
    return engine


# -- refused options and writes first -------------------------------------------------------------------
def test_vector_options_are_checked_in_init():
    for bad in ({"VECTOR_DIMS": 0}, {"VECTOR_DIMS": 5000}, {"VECTOR_DIMS": "many"}, {"VECTOR_SIMILARITY": "l2_norm"},
                {"NUM_CANDIDATES": 0}, {"NUM_CANDIDATES": 20_000}):
        with pytest.raises(ValueError, match="VECTOR|NUM_CANDIDATES"):
            ElasticsearchSearchBackend({"URLS": "http://x:9200", **bad})


def test_vectors_of_unknown_documents_are_ignored_and_never_create_one(node):
    engine = loaded(node)
    cluster = node.responder
    (live,) = cluster.indices
    engine.put_vectors([("page:404", np.stack([unit(1, 1, 1, 1)])), ("page:2", np.stack([unit(0, 0, 1, 0)]))])
    assert set(cluster.sources[live]) == {d.id for d in DOCS}  # no document page:404
    assert cluster.updated[-1] == (live, "page:2")
    (bulk,) = [r for r in node.requests if r.path.startswith("/_bulk")]
    assert bulk.params["require_alias"] == "true"
    actions = bulk.ndjson[::2]
    assert actions == [{"update": {"_index": "shuyuan", "_id": "page:404"}}, {"update": {"_index": "shuyuan", "_id": "page:2"}}]
    assert all(set(line) == {"doc"} for line in bulk.ndjson[1::2])  # no upsert, no doc_as_upsert


def test_a_refused_vector_update_fails_visibly_and_a_wrong_size_is_caught_before_sending(node):
    engine = loaded(node)
    with pytest.raises(SearchError, match="3 dimensions for a field of 4"):
        engine.put_vectors([("page:1", np.ones((1, 3)))])
    with pytest.raises(SearchError, match="zero .*vector"):
        engine.put_vectors([("page:1", np.zeros((1, DIMS)))])

    def refuse(req):
        if req.path.startswith("/_bulk"):
            meta = req.ndjson[0]["update"]
            return 200, {"took": 1, "errors": True, "items": [{"update": {
                "_index": "shuyuan-1", "_id": meta["_id"], "status": 400,
                "error": {"type": "document_parsing_exception", "reason": "dims mismatch"}}}]}
        return default_responder(req)

    node.responder = refuse
    with pytest.raises(SearchError, match="update 'page:1'.*document_parsing_exception"):
        engine.put_vectors([("page:1", np.stack([unit(1, 0, 0, 0)]))])


def test_before_the_first_rebuild_vectors_are_an_error_not_a_new_index(node):
    engine = make(node)
    with pytest.raises(SearchError, match="alias 'shuyuan' does not exist"):
        engine.put_vectors([("page:1", np.stack([unit(1, 0, 0, 0)]))])
    assert node.responder.indices == {} and node.responder.auto_created == []


# -- the mapping ------------------------------------------------------------------------------------------
def test_the_new_index_maps_passage_vectors_as_a_nested_dense_vector(node):
    props = make(node).index_definition("shuyuan-1").to_dict()["mappings"]["properties"]
    assert props["passages"] == {"type": "nested", "properties": {
        "vector": {"type": "dense_vector", "dims": DIMS, "index": True, "similarity": "dot_product"}}}
    props = make(node, VECTOR_DIMS=384, VECTOR_SIMILARITY="cosine").index_definition("x").to_dict()["mappings"]["properties"]
    assert props["passages"]["properties"]["vector"] == {"type": "dense_vector", "dims": 384, "index": True, "similarity": "cosine"}
    assert "passages" not in make(node, VECTORS=False).index_definition("x").to_dict()["mappings"]["properties"]
    engine = make(node)
    engine.rebuild(DOCS)
    (created,) = [r for r in node.requests if r.method == "PUT" and r.path.startswith("/shuyuan-")]
    assert created.body["mappings"]["properties"]["passages"]["type"] == "nested"


def test_vectors_are_stored_unit_length_one_nested_object_per_passage(node):
    engine = make(node)
    engine.rebuild(DOCS)
    engine.put_vectors([("page:1", np.array([[3.0, 4.0, 0, 0], [0, 0, 0, 2.0]]))])
    (live,) = node.responder.indices
    passages = node.responder.sources[live]["page:1"]["passages"]
    assert passages == [{"vector": [0.6, 0.8, 0.0, 0.0]}, {"vector": [0.0, 0.0, 0.0, 1.0]}]


# -- the kNN search ----------------------------------------------------------------------------------------
def test_knn_is_filtered_inside_the_engine_by_exactly_the_word_querys_filters(node):
    engine = loaded(node)
    query = SearchQuery(q="发展党员", audiences=PUBLIC, locale="zh-hans", filters={"kind": ["article", "material"]},
                        facets=["kind"], date_from=dt.date(2023, 1, 1))
    found = engine.vector_window(query, QUESTION, 3)
    # page:5 (internal) and page:3 (members) are nearer, page:4 is zh-hant: none may come back
    assert [doc_id for doc_id, _ in found] == ["page:1", "page:2"]
    assert found[0][1] == pytest.approx(0.8, abs=1e-5) and found[1][1] == pytest.approx(0.5, abs=1e-5)  # best passage's cosine
    (sent,) = [r.body for r in node.requests if "knn" in (r.body or {})]
    words = engine.build_search(query).to_dict()["query"]["bool"]["filter"]
    assert sent["knn"]["filter"] == {"bool": {"filter": words}}  # the same filters, inside the kNN search
    assert sent["knn"]["field"] == "passages.vector" and sent["knn"]["k"] == 3 and sent["knn"]["num_candidates"] >= 100
    assert sent["size"] == 3 and sent["_source"] == ["id"]
    assert sent["knn"]["query_vector"] == pytest.approx(list(QUESTION), abs=1e-6)

    members = engine.vector_window(SearchQuery(q="x", audiences=MEMBERS), QUESTION, 10)
    assert [i for i, _ in members][:2] == ["page:3", "page:4"] and "page:5" not in dict(members)
    assert engine.vector_window(SearchQuery(q="x", audiences=frozenset()), QUESTION, 10) == []
    assert make(node, VECTORS=False).vector_window(query, QUESTION, 10) is None  # the hybrid stage's own index then


def test_num_candidates_follows_k_and_the_option(node):
    engine = loaded(node, NUM_CANDIDATES=500)
    engine.vector_window(SearchQuery(q="x"), QUESTION, 800)
    engine.vector_window(SearchQuery(q="x"), QUESTION, 20)
    assert [r.body["knn"]["num_candidates"] for r in node.requests if "knn" in (r.body or {})] == [800, 500]
    default = loaded(node)
    default.vector_window(SearchQuery(q="x"), QUESTION, 7000)
    assert [r.body["knn"]["num_candidates"] for r in node.requests if "knn" in (r.body or {})][-1] == 10_000


def test_admitted_ids_asks_the_engine_with_an_ids_query_and_the_same_filters(node):
    engine = loaded(node)
    query = SearchQuery(q="发展", audiences=PUBLIC, locale="zh-hans")
    assert engine.admitted_ids(query, ["page:5", "page:2", "page:3", "page:404", "page:1", "page:4"]) == ["page:2", "page:1"]
    (sent,) = [r.body for r in node.requests if r.path.startswith("/shuyuan/_search")]
    filters = sent["query"]["bool"]["filter"]
    assert filters[:-1] == engine.build_search(query).to_dict()["query"]["bool"]["filter"]
    assert filters[-1] == {"ids": {"values": ["page:5", "page:2", "page:3", "page:404", "page:1", "page:4"]}}
    assert sent["_source"] is False
    assert engine.admitted_ids(query, []) == [] and engine.admitted_ids(SearchQuery(audiences=frozenset()), ["page:1"]) == []


def test_hits_found_only_by_meaning_are_built_by_id_under_the_visibility_filter(node):
    engine = loaded(node)
    query = SearchQuery(q="入党申请", audiences=PUBLIC)
    terms = engine.analyzer.query(query.q)
    window = engine.ranked_window(query, terms, 10)  # the fake answers word queries with no hits
    assert window is not None and window.candidates == []
    window.candidates.extend([("page:1", 0.9), ("page:5", 0.8), ("page:2", 0.7)])  # what the hybrid stage adds
    hits = engine.window_hits(query, terms, window, [0, 1, 2])
    assert [(h.id, h.score) for h in hits] == [("page:1", 0.9), ("page:2", 0.7)]  # page:5 is internal: dropped
    assert hits[0].title == "党员发展工作" and hits[1].url == ""
    fetch = [r.body for r in node.requests if r.path.startswith("/shuyuan/_search")][-1]
    assert {"terms": {"audience": ["public"]}} in fetch["query"]["bool"]["filter"]


def test_no_search_returns_the_vectors(node):
    engine = loaded(node)
    query = SearchQuery(q="发展党员", facets=["kind"])
    engine.search(query)
    engine.vector_window(query, QUESTION, 5)
    engine.admitted_ids(query, ["page:1"])
    window = engine.ranked_window(query, engine.analyzer.query(query.q), 5)
    window.candidates.append(("page:1", 1.0))
    engine.window_hits(query, engine.analyzer.query(query.q), window, [0])
    engine.suggest("党员", PUBLIC)
    searches = [r for r in node.requests if r.path.split("?")[0].endswith("/_search")]
    assert len(searches) >= 6
    for req in searches:
        source = req.body.get("_source")
        assert source is False or (isinstance(source, list) and not any(f.startswith("passages") for f in source)), req.body


def test_an_index_built_before_vectors_turns_knn_off_instead_of_failing_searches_or_writes(node, caplog):
    engine = loaded(node)

    def old_index(req):
        path = req.path.split("?")[0]
        if path.endswith("/_search") and "knn" in (req.body or {}):
            return 400, {"error": {"type": "search_phase_execution_exception", "reason": "all shards failed",
                                   "caused_by": {"type": "illegal_argument_exception",
                                                 "reason": "failed to create query: field [passages.vector] does not exist"}},
                         "status": 400}
        if path == "/_bulk":
            items = [{"update": {"_index": "shuyuan-old", "_id": line["update"]["_id"], "status": 400, "error": {
                "type": "strict_dynamic_mapping_exception",
                "reason": "mapping set to strict, dynamic introduction of [passages] within [_doc] is not allowed"}}}
                for line in req.ndjson[::2]]
            return 200, {"took": 1, "errors": True, "items": items}
        return default_responder(req)

    node.responder = old_index
    assert engine.vector_window(SearchQuery(q="x"), QUESTION, 5) is None  # the hybrid stage's in-process index then
    engine.put_vectors([("page:1", np.stack([unit(1, 0, 0, 0)]))])  # no error: the job goes on
    assert "rebuild" in caplog.text

    node.responder = lambda req: (400, {"error": {"type": "parsing_exception", "reason": "unknown field [knnn]"}, "status": 400}) \
        if "knn" in (req.body or {}) else default_responder(req)
    with pytest.raises(SearchError, match="parsing_exception"):  # any other refusal is an error
        engine.vector_window(SearchQuery(q="x"), QUESTION, 5)


# -- with the hybrid stage (search/backends/reranked.py) ----------------------------------------------------
class ConceptEmbedder:
    """A tiny stand-in model: a text's vector counts the concepts whose trigger words it contains."""

    CONCEPTS = [("开车", "驾驶", "醉驾", "驾车"), ("党课", "学习教育"), ("补偿", "赔偿")]
    name, dim = "fake-concepts", len(CONCEPTS) + 1

    def _vec(self, text: str) -> np.ndarray:
        v = np.array([sum(text.count(w) for w in words) for words in self.CONCEPTS] + [0.2], dtype=np.float32)
        return v / np.linalg.norm(v)

    def query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def passages(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def test_the_hybrid_stage_finds_by_meaning_through_knn_inside_the_visibility_rule(node):
    """The fake cluster answers no word query, so every hit here came from the kNN search."""
    from search.backends.reranked import RerankedSearchBackend
    from search.semantic import MemoryVectorStore, Reranker

    docs = [
        SearchDocument(id="page:1", kind="material", title="道路交通安全法第九十一条", body="醉酒后驾驶机动车的，吊销机动车驾驶证。"),
        SearchDocument(id="page:2", kind="material", title="行政处罚法", body="行政处罚遵循公正、公开的原则。"),
        SearchDocument(id="page:3", kind="material", title="内部：醉驾案件通报", body="醉驾 驾驶 开车", audience="internal"),
    ]
    engine = make(node, VECTOR_DIMS=ConceptEmbedder.dim)
    reranker = Reranker(ConceptEmbedder(), MemoryVectorStore(), min_chars=2)
    backend = RerankedSearchBackend(engine, reranker)
    backend.rebuild(docs)
    reranker.embed(docs)  # the stage hands each stored vector to the engine (put_vectors)
    (live,) = node.responder.indices
    assert all(node.responder.sources[live][d.id].get("passages") for d in docs)
    res = backend.search(SearchQuery(q="喝多了还开车会怎么处罚呢", audiences=PUBLIC))
    assert [h.id for h in res.hits][:1] == ["page:1"] and "page:3" not in [h.id for h in res.hits]
    assert res.hits[0].title == "道路交通安全法第九十一条"
    knn = [r.body for r in node.requests if "knn" in (r.body or {})]
    assert knn and all({"terms": {"audience": ["public"]}} in b["knn"]["filter"]["bool"]["filter"] for b in knn)


def test_facet_counts_of_candidates_found_by_meaning_respect_the_filters(node):
    """A candidate found only by meaning counts in the facets, on Elasticsearch as in the embedded engine:
    one aggregation request under the query's own filters, so a restricted id never adds to a count."""
    engine = loaded(node)
    query = SearchQuery(q="发展", audiences=PUBLIC, locale="zh-hans", facets=["kind"])
    counts = engine.facet_counts(query, ["page:1", "page:2", "page:3", "page:5", "page:1"])
    assert counts == {"kind": [("article", 1), ("material", 1)]}  # page:3 members-only, page:5 internal
    (sent,) = [r.body for r in node.requests if r.path.startswith("/shuyuan/_search")]
    assert sent["size"] == 0 and sent["_source"] is False
    assert sent["query"]["bool"]["filter"][:-1] == engine.build_search(query).to_dict()["query"]["bool"]["filter"]
    assert sent["query"]["bool"]["filter"][-1] == {"ids": {"values": ["page:1", "page:2", "page:3", "page:5"]}}
    members = engine.facet_counts(SearchQuery(q="发展", audiences=MEMBERS, facets=["kind"]), ["page:3", "page:5"])
    assert members == {"kind": [("article", 1)]}
    assert engine.facet_counts(SearchQuery(q="x", audiences=frozenset(), facets=["kind"]), ["page:1"]) == {}
    assert engine.facet_counts(SearchQuery(q="x", audiences=PUBLIC), ["page:1"]) == {}
