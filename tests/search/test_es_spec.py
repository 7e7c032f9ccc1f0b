"""Every body the Elasticsearch engine sends, checked against Elastic's published API specification.

The specification (../shared/specs/elasticsearch-serverless-openapi.json, OpenAPI 3.0.3) is converted
once a session into JSON Schema 2020-12 with every object closed (tests/search/es_fake.py:
SpecValidator), and the recording node checks each request the engine sends through the real client,
so a misspelled clause or mapping parameter fails here rather than on a server.  The first tests
prove that the check bites; the last drives every kind of request the engine makes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from search.backends.base import SearchDocument, SearchQuery
from search.backends.elasticsearch import ElasticsearchSearchBackend
from tests.search.es_fake import SpecRefused, spec_validator

if spec_validator() is None:  # pragma: no cover - depends on the machine
    pytest.skip("../shared/specs/elasticsearch-serverless-openapi.json is absent (the team's shared files): "
                "the Elasticsearch request bodies cannot be checked against the published specification",
                allow_module_level=True)


@pytest.fixture
def spec():
    return spec_validator()


@pytest.fixture
def node(cluster_node):
    return cluster_node


def make(node, **options) -> ElasticsearchSearchBackend:
    opts = {"URLS": ["http://es.invalid:9200"], "INDEX": "shuyuan", "CHUNK_SIZE": 3, "REFRESH": True,
            "CLIENT_OPTIONS": {"node_class": node, "max_retries": 0}}
    opts.update(options)
    return ElasticsearchSearchBackend(opts)


# -- the check bites -----------------------------------------------------------------------------------
def test_a_misspelled_query_clause_is_refused(spec):
    assert any("'matchh' was unexpected" in e for e in spec.errors("POST", "/shuyuan/_search", {"query": {"matchh": {"title": "x"}}}))
    deep = {"query": {"bool": {"filter": [{"terms": {"audience": ["public"]}}],
                               "must": [{"dis_max": {"queries": [{"term": {"title": {"value": "x"}}}], "tie_breakr": 0.1}}]}}}
    (problem,) = spec.errors("POST", "/shuyuan/_search", deep)
    assert "query/bool/must/0/dis_max" in problem and "'tie_breakr' was unexpected" in problem
    assert spec.errors("POST", "/shuyuan/_search", {"query": {"term": {"title": {"value": "x", "boots": 2}}}})
    assert spec.errors("POST", "/shuyuan/_search", {"sizee": 10})
    assert spec.errors("POST", "/shuyuan/_count", {"query": {"match_all": {}}, "size": 1})  # _count takes no size


def test_an_unknown_mapping_or_settings_parameter_is_refused(spec):
    good = {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {"dynamic": "strict", "properties": {"title": {"type": "text", "analyzer": "standard"}}}}
    assert spec.errors("PUT", "/shuyuan-1", good) == []  # shards and replicas: allowed explicitly (self-managed)
    bad_param = {"mappings": {"properties": {"title": {"type": "text", "analyzr": "standard"}}}}
    assert any("'analyzr' was unexpected" in e for e in spec.errors("PUT", "/shuyuan-1", bad_param))
    bad_type = {"mappings": {"properties": {"title": {"type": "texxt"}}}}
    assert any("'texxt' is not one of" in e for e in spec.errors("PUT", "/shuyuan-1", bad_type))
    wrong_place = {"mappings": {"properties": {"v": {"type": "dense_vector", "dims": 384, "similarity": "cosine", "m": 16}}}}
    assert spec.errors("PUT", "/shuyuan-1", wrong_place)  # m belongs in index_options
    assert spec.errors("PUT", "/shuyuan-1", {"settings": {"number_of_shard": 1}})
    assert spec.errors("PUT", "/shuyuan-1", {"settings": {"analysis": {"tokenizer": {"t": {"type": "ngram", "min_gramm": 2}}}}})


def test_a_bad_knn_body_is_refused(spec):
    good = {"knn": {"field": "passages.vector", "query_vector": [0.6, 0.8], "k": 5, "num_candidates": 50,
                    "filter": {"bool": {"filter": [{"terms": {"audience": ["public"]}}]}}}, "_source": ["id"], "size": 5}
    assert spec.errors("POST", "/shuyuan/_search", good) == []
    for bad in ({**good["knn"], "query_vectr": [0.6, 0.8]}, {**good["knn"], "k": "five"},
                {**good["knn"], "filter": {"bool": {"filtr": []}}}, {**good["knn"], "query_vector": "0.6,0.8"}):
        assert spec.errors("POST", "/shuyuan/_search", {**good, "knn": bad}), bad


def test_bulk_lines_aliases_and_query_parameters_are_checked(spec):
    ok = [{"update": {"_index": "shuyuan", "_id": "page:1"}}, {"doc": {"passages": [{"vector": [1.0]}]}},
          {"index": {"_index": "shuyuan", "_id": "page:2"}}, {"any": "document"}, {"delete": {"_index": "shuyuan", "_id": "page:3"}}]
    assert spec.errors("PUT", "/_bulk?require_alias=true&refresh=wait_for", ok) == []
    assert spec.errors("PUT", "/_bulk", [{"update": {"_index": "shuyuan", "_id": "1"}}, {"dok": {}}])
    assert spec.errors("PUT", "/_bulk", [{"upsert": {"_index": "shuyuan", "_id": "1"}}, {}])
    assert spec.errors("PUT", "/_bulk", [{"delete": {"_index": "shuyuan", "_idd": "1"}}])
    assert spec.errors("PUT", "/_bulk?require_aliases=true", ok)
    assert spec.errors("POST", "/_aliases", {"actions": [{"ad": {"index": "a", "alias": "b"}}]})
    assert spec.errors("POST", "/_aliases", {"actions": [{"add": {"index": "a", "alias": "b"}}]}) == []


def test_a_request_the_specification_refuses_fails_the_test_through_the_node(node):
    engine = make(node)
    with pytest.raises(SpecRefused, match="'matchh' was unexpected"):
        engine.client.search(index="shuyuan", query={"matchh": {"title": "x"}})
    assert node.refused and node.refused[0][0].path.startswith("/shuyuan/_search")
    node.refused = []  # seen: the fixture checks that nothing else was refused


# -- every body the engine sends is admitted -------------------------------------------------------------
DOCS = [
    SearchDocument(id=f"page:{i}", kind="article" if i % 2 else "material", title=f"党建工作{i}", body="三会一课 党员 学习",
                   audience=("public", "members", "internal")[i % 3], date=dt.date(2024, 1, 1 + i), material_type="文件",
                   topics=["党章党规"], doc_number="书苑党发〔2024〕3号" if i == 1 else "")
    for i in range(8)
]


@pytest.mark.parametrize("options", [{}, {"ANALYZER": "ik"}, {"CHAR_WEIGHT": 0, "BIGRAM_WEIGHT": 0}, {"VECTORS": False},
                                     {"VECTOR_SIMILARITY": "cosine", "VECTOR_DIMS": 8}], ids=["default", "ik", "words-only",
                                                                                              "no-vectors", "cosine-8"])
def test_every_kind_of_request_the_engine_sends_is_admitted(node, options):
    engine = make(node, **options)
    dims = engine.vector_dims
    engine.rebuild(DOCS)
    engine.index(DOCS[:2])
    engine.delete(["page:7", "page:99"])
    rng = np.random.default_rng(3)
    engine.put_vectors([(d.id, rng.normal(size=(2, dims))) for d in DOCS[:4]] + [("page:404", rng.normal(size=(1, dims)))])
    queries = [
        SearchQuery(q="三会一课", facets=["year", "topics", "kind", "locale"]),
        SearchQuery(q="党建", audiences=frozenset({"public", "members"}), locale="zh-hans", filters={"kind": ["article"]},
                    date_from=dt.date(2024, 1, 2), date_to=dt.date(2024, 12, 31), sort="date", page=2, page_size=3),
        SearchQuery(q="行纪合同如何成立？行纪合同何时生效？"),
        SearchQuery(q="书苑党发[2024]3号"),
        SearchQuery(q="", filters={"material_type": ["文件"]}, facets=["material_type"]),
        SearchQuery(q='AND OR * "title:x" \\'),
    ]
    for query in queries:
        engine.search(query)
        terms = engine.analyzer.query(query.q)
        window = engine.ranked_window(query, terms, 20)
        if window is not None:
            window.candidates.append(("page:3", 0.5))  # a vector-only candidate: fetched by id under the filters
            engine.window_hits(query, terms, window, range(len(window.candidates)))
        engine.admitted_ids(query, ["page:0", "page:1", "page:5"])
        engine.vector_window(query, rng.normal(size=dims), 15)
    engine.suggest("党建", frozenset({"public"}), "zh-hans")
    assert engine.health().ok
    assert engine.document_ids()
    paths = {(r.method, r.path.split("?")[0].replace(next(iter(node.responder.indices)), "{index}")) for r in node.requests}
    expected = {("PUT", "/{index}"), ("PUT", "/_bulk"), ("POST", "/_aliases"), ("POST", "/shuyuan/_search"),
                ("POST", "/shuyuan/_count"), ("POST", "/{index}/_refresh"), ("HEAD", "/_alias/shuyuan")}
    assert expected <= paths, expected - paths
    bodies = [r.body for r in node.requests if r.path.split("?")[0] == "/shuyuan/_search"]
    assert any("knn" in b for b in bodies) == engine.vectors
    assert all("update" not in line or line["update"].keys() == {"_index", "_id"}
               for r in node.requests if r.path.startswith("/_bulk") for line in r.ndjson)


def _questions() -> list[str]:
    """The load benchmark's 200 queries and the first 100 STARD questions (when ../shared has them)."""
    import json
    from pathlib import Path

    from tests.search.es_fake import spec_path

    root = Path(__file__).resolve().parents[2]
    queries = [line.strip() for line in (root / "bench" / "data" / "search_load_queries.txt").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    stard = spec_path().parents[1] / "corpus" / "stard" / "train.queries.jsonl"
    if stard.is_file():
        with stard.open(encoding="utf-8") as f:
            for _, line in zip(range(100), f, strict=False):
                row = json.loads(line)
                queries.append(row.get("text") or row.get("query") or "")
    return [q for q in queries if q]


def test_the_bodies_of_three_hundred_real_queries_are_admitted(spec):
    """What members and the benchmarks ask, as word search, exact-first count and kNN."""
    engine = ElasticsearchSearchBackend({"URLS": "http://es.invalid:9200", "VECTOR_DIMS": 8})
    questions = _questions()
    assert len(questions) >= 200
    checked = 0
    for i, q in enumerate(questions):
        query = SearchQuery(q=q, audiences=frozenset({"public", "members"}) if i % 2 else frozenset({"public"}),
                            locale="zh-hans" if i % 3 else None, facets=["kind", "year"] if i % 4 == 0 else [],
                            filters={"kind": ["article"]} if i % 5 == 0 else {}, sort="date" if i % 7 == 0 else "relevance")
        terms = engine.analyzer.query(q)
        bodies = [("/shuyuan/_search", engine.build_knn(query, [1.0] * 8, 50).to_dict())]
        search = engine.build_search(query, terms)
        if search is not None:
            bodies.append(("/shuyuan/_search", search.to_dict()))
            bodies.append(("/shuyuan/_count", engine.build_count(query, terms.exact())))
        for path, body in bodies:
            assert spec.errors("POST", path, body) == [], (q, body)
            checked += 1
    assert checked > 2 * len(questions)


def test_against_a_live_server_each_request_is_checked_before_it_is_sent():
    """The contract suite's node class (tests/search/conftest.py) when ELASTICSEARCH_URL is set."""
    import elasticsearch

    from tests.search.es_fake import validating_node_class

    client = elasticsearch.Elasticsearch("http://127.0.0.1:9", node_class=validating_node_class(), max_retries=0,
                                         request_timeout=2)
    with pytest.raises(SpecRefused, match="'matchh' was unexpected"):
        client.search(index="shuyuan", query={"matchh": {"title": "x"}})
    with pytest.raises(elasticsearch.ConnectionError):  # admitted, so sent (nobody listens on port 9)
        client.search(index="shuyuan", query={"match": {"title": {"query": "x"}}})
