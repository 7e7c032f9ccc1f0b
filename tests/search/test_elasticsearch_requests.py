"""What the Elasticsearch engine sends, checked without a server.

Requests go through the real elasticsearch-py client and bulk helpers into a
recording node (es_fake.RecordingNode), so these are the exact headers, mappings and
bodies a server would receive.  Every test runs against the header rules of an
Elasticsearch 8 and of an Elasticsearch 9 server (the node refuses what that version
refuses).  This is NOT a substitute for the contract suite against a real server (it
runs when ELASTICSEARCH_URL is set).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import TestCase, override_settings

from search.backends.base import SearchDocument, SearchError, SearchQuery, SearchUnavailable
from search.backends.elasticsearch import ElasticsearchSearchBackend
from search.documents import document_id
from tests.search.es_fake import (
    SERVER_VERSIONS,
    Cluster,
    RecordingNode,
    default_responder,
    error,
    header_error,
)


@pytest.fixture(params=SERVER_VERSIONS, ids=lambda v: f"es{v}")
def node(request):
    """The recording node, answering with the header rules of an Elasticsearch 8 or 9 server."""
    RecordingNode.requests = []
    RecordingNode.responder = None
    RecordingNode.server_version = request.param
    yield RecordingNode
    refused = [r for r in RecordingNode.requests if header_error(request.param, r.headers, r.body is not None)]
    RecordingNode.requests = []
    RecordingNode.responder = None
    RecordingNode.server_version = 8
    assert not refused, f"Elasticsearch {request.param} refuses the headers of {refused[0].method} {refused[0].path}: {refused[0].headers}"


def make(node, **options) -> ElasticsearchSearchBackend:
    opts = {"URLS": ["http://es.invalid:9200"], "INDEX": "shuyuan", "CHUNK_SIZE": 3, "CLIENT_OPTIONS": {"node_class": node}}
    opts.update(options)
    return ElasticsearchSearchBackend(opts)


def docs(n: int, audience: str = "public") -> list[SearchDocument]:
    return [SearchDocument(id=f"page:{i}", kind="material", title=f"三会一课制度{i}", body="党支部 学习", audience=audience) for i in range(n)]


def requests_to(node, suffix: str, method: str | None = None):
    return [r for r in node.requests if r.path.split("?")[0].endswith(suffix) and (method is None or r.method == method)]


def test_required_options_are_checked_in_init():
    with pytest.raises(ValueError, match="URLS"):
        ElasticsearchSearchBackend({})
    with pytest.raises(ValueError, match="ANALYZER"):
        ElasticsearchSearchBackend({"URLS": "http://x:9200", "ANALYZER": "smartcn"})
    with pytest.raises(ValueError, match="INDEX"):
        ElasticsearchSearchBackend({"URLS": "http://x:9200", "INDEX": "Bad Name"})


def test_mapping_on_a_stock_server_uses_whitespace_analysis(node):
    body = make(node).index_definition("shuyuan-1").to_dict()
    analysis = body["settings"]["analysis"]
    assert analysis["analyzer"]["shuyuan_whitespace"] == {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase"]}
    assert analysis["tokenizer"]["shuyuan_bigram_tokenizer"]["type"] == "ngram"
    props = body["mappings"]["properties"]
    assert body["mappings"]["dynamic"] == "strict"
    assert props["title"] == {"type": "text", "analyzer": "shuyuan_whitespace", "copy_to": "chars"}
    assert props["body"] == {"type": "text", "analyzer": "shuyuan_whitespace", "copy_to": "chars"}
    assert props["audience"] == {"type": "keyword"}
    assert props["payload"] == {"type": "object", "enabled": False}
    assert "ik" not in json.dumps(body)


def test_mapping_with_ik_plugin(node):
    body = make(node, ANALYZER="ik").index_definition("shuyuan-1").to_dict()
    assert body["mappings"]["properties"]["body"] == {
        "type": "text", "analyzer": "ik_max_word", "search_analyzer": "ik_smart", "copy_to": "chars"
    }


def test_presegmented_text_is_sent(node):
    source = make(node).to_source(SearchDocument(id="page:1", kind="material", title="三会一課的要求", body="兩學一做"))
    assert source["title"] == "三会一课 的 要求"  # simplified, segmented, custom word kept whole
    assert source["title_raw"] == "三会一课的要求"
    assert source["payload"]["title"] == "三会一課的要求"  # original kept for display and snippets


def test_bulk_indexing_in_bounded_chunks(node):
    make(node).index(docs(7))
    bulks = requests_to(node, "/_bulk")
    assert [len(b.ndjson) // 2 for b in bulks] == [3, 3, 1]
    assert all(line["index"]["_index"] == "shuyuan" for b in bulks for line in b.ndjson[::2])


def test_rebuild_creates_new_index_then_switches_alias_atomically(node):
    def responder(req):
        if req.method == "GET" and req.path.startswith("/_alias/shuyuan") and "rebuilding" not in req.path:
            return 200, {"shuyuan-old": {"aliases": {"shuyuan": {}}}}
        return default_responder(req)

    node.responder = responder
    make(node).rebuild(docs(4))
    created = [r for r in node.requests if r.method == "PUT" and r.path.startswith("/shuyuan-")]
    assert len(created) == 1
    new_index = created[0].path.strip("/").split("?")[0]
    assert created[0].body["aliases"] == {"shuyuan-rebuilding": {}}
    bulk_ops = [line for b in requests_to(node, "/_bulk") for line in b.ndjson[::2]]
    assert all(op["create"]["_index"] == new_index for op in bulk_ops)  # create: never overwrite dual-written docs
    (switch,) = requests_to(node, "/_aliases", "POST")
    assert switch.body["actions"] == [
        {"remove": {"index": "shuyuan-old", "alias": "shuyuan"}},
        {"add": {"index": new_index, "alias": "shuyuan"}},
        {"remove": {"index": new_index, "alias": "shuyuan-rebuilding"}},
    ]
    deletes = [r for r in node.requests if r.method == "DELETE"]
    assert [r.path.split("?")[0] for r in deletes] == ["/shuyuan-old"]
    order = [r.path.split("?")[0] for r in node.requests]
    assert order.index("/_aliases") > max(i for i, p in enumerate(order) if p == "/_bulk")


def test_writes_during_a_rebuild_go_to_both_aliases(node):
    def responder(req):
        if req.method == "GET" and req.path.startswith("/_alias/shuyuan-rebuilding"):
            return 200, {"shuyuan-new": {"aliases": {"shuyuan-rebuilding": {}}}}
        return default_responder(req)

    node.responder = responder
    engine = make(node)
    engine.index(docs(1))
    engine.delete(["page:0"])
    ops = [line for b in requests_to(node, "/_bulk") for line in b.ndjson if "index" in line or "delete" in line]
    targets = sorted((next(iter(op)), op[next(iter(op))]["_index"]) for op in ops)
    # by the rebuild's alias, not the index behind it: a vanished index is an error, never re-created
    assert targets == [("delete", "shuyuan"), ("delete", "shuyuan-rebuilding"), ("index", "shuyuan"), ("index", "shuyuan-rebuilding")]
    assert all(b.params.get("require_alias") == "true" for b in requests_to(node, "/_bulk"))


def test_search_request_filters_audience_inside_the_query_and_never_parses_syntax(node):
    engine = make(node)
    query = SearchQuery(q='三会一课 AND title:"x" OR *', audiences=frozenset({"public"}), facets=["year", "topics"],
                        filters={"material_type": ["文件"]}, page=2, page_size=5)
    body = engine.build_search(query).to_dict()
    assert body["query"]["bool"]["filter"][0] == {"terms": {"audience": ["public"]}}
    assert {"terms": {"material_type": ["文件"]}} in body["query"]["bool"]["filter"]
    text = json.dumps(body, ensure_ascii=False)
    assert "query_string" not in text and "simple_query_string" not in text
    assert body["from"] == 5 and body["size"] == 5 and body["track_total_hits"] is True
    assert body["aggs"] == {"year": {"terms": {"field": "year", "size": 50}}, "topics": {"terms": {"field": "topics", "size": 50}}}
    should = body["query"]["bool"]["must"][0]["bool"]["should"]
    assert {"dis_max": {"queries": [{"term": {"title": {"value": "三会一课", "boost": 1.0}}}, {"term": {"body": {"value": "三会一课"}}}], "tie_breaker": 0.1}} in should
    engine.search(query)
    (sent,) = requests_to(node, "/shuyuan/_search")
    assert sent.body == body


def test_suggest_aggregates_only_visible_documents(node):
    body = make(node).build_suggest("三会", frozenset({"public", "members"}), "zh-hans", 8).to_dict()
    assert body["query"] == {"bool": {"filter": [{"terms": {"audience": ["members", "public"]}}, {"term": {"locale": {"value": "zh-hans"}}}]}}
    assert body["post_filter"] == {"prefix": {"title_raw": {"value": "三会"}}}
    assert body["aggs"]["words"]["terms"]["include"] == "三会.*"


def test_unreachable_server_raises_search_unavailable(node):
    node.responder = lambda req: (0, None)
    engine = make(node, CLIENT_OPTIONS={"node_class": node, "max_retries": 0})
    with pytest.raises(SearchUnavailable):
        engine.index(docs(1))
    with pytest.raises(SearchUnavailable):
        engine.search(SearchQuery(q="党建"))
    assert engine.health().ok is False


def test_search_response_is_read_into_hits_snippets_and_facets(node):
    engine = make(node)
    source = engine.to_source(
        SearchDocument(id="page:9", kind="material", title="三會一課制度", body="各支部按時開展三會一課。", material_type="文件")
    )

    def responder(req):
        if req.path.split("?")[0].endswith("/_search"):
            return 200, {
                "took": 1,
                "timed_out": False,
                "hits": {"total": {"value": 1, "relation": "eq"}, "max_score": 3.5,
                         "hits": [{"_index": "shuyuan-1", "_id": "page:9", "_score": 3.5,
                                   "_source": {"id": "page:9", "kind": "material", "payload": source["payload"]}}]},
                "aggregations": {"material_type": {"buckets": [{"key": "文件", "doc_count": 1}]}},
            }
        return default_responder(req)

    node.responder = responder
    res = engine.search(SearchQuery(q="三会一课", facets=["material_type"]))
    assert res.total == 1 and res.facets == {"material_type": [("文件", 1)]}
    hit = res.hits[0]
    assert hit.id == "page:9" and hit.score == 3.5
    assert hit.title_html == "<mark>三會一課</mark>制度"  # original traditional text, highlighted
    assert "<mark>三會一課</mark>" in hit.snippet_html


def test_bigrams_cover_the_title_and_the_lead_and_the_query_weighs_repeats_and_pairs(node):
    engine = make(node, BIGRAM_CHARS=10)
    source = engine.to_source(SearchDocument(id="page:1", kind="material", title="通知", body="开头一段话" * 10))
    assert source["bigrams"] == "通知\n" + "开头一段话" * 2
    hant = engine.to_source(SearchDocument(id="page:2", kind="material", title="通知", body="黨員", locale="zh-hant"))
    assert hant["body"] == "党员"  # traditional locales are converted at index time, like the embedded engine
    body = engine.build_search(SearchQuery(q="行纪合同如何成立？行纪合同何时生效？")).to_dict()
    should = body["query"]["bool"]["must"][0]["bool"]["should"]
    assert any(c.get("dis_max", {}).get("boost") == 1.5 for c in should)  # a repeated word weighs more
    pairs = [c["match_phrase"]["body"] for c in should if c.get("match_phrase", {}).get("body", {}).get("slop") == 2]
    assert pairs and all(p["boost"] == 0.3 and len(p["query"].split()) == 2 for p in pairs)


def test_traditional_characters_are_simplified_at_index_time_in_every_locale(node):
    engine = make(node)
    for locale in ("zh-hans", "zh-hant", "en"):
        source = engine.to_source(SearchDocument(id="page:1", kind="material", title="黨建", body="黨員學習資料彙編", locale=locale))
        assert source["title_raw"] == "党建"
        assert "党员" in source["body"].split() and "汇编" in source["body"].split(), locale
        assert "黨" not in source["bigrams"]
        query_terms = engine.analyzer.query("黨員學習").all_terms()
        assert query_terms <= set(source["body"].split())


def test_character_field_is_copied_from_title_and_body_and_only_adds_to_the_score(node):
    from search.text import CJK_CHAR_PATTERN

    engine = make(node)
    body = engine.index_definition("shuyuan-1").to_dict()
    analysis = body["settings"]["analysis"]
    assert analysis["analyzer"]["shuyuan_char"] == {"type": "custom", "tokenizer": "shuyuan_char_tokenizer"}
    assert analysis["tokenizer"]["shuyuan_char_tokenizer"] == {"type": "pattern", "pattern": CJK_CHAR_PATTERN, "group": 0}
    assert body["mappings"]["properties"]["chars"] == {"type": "text", "analyzer": "shuyuan_char", "index_options": "freqs"}
    source = engine.to_source(SearchDocument(id="page:1", kind="material", title="通知", body="承租人"))
    assert "chars" not in source  # filled by copy_to on the server: no extra text is sent

    query = engine.build_search(SearchQuery(q="原承租人可以优先续租吗？")).to_dict()["query"]["bool"]
    assert query["filter"][0] == {"terms": {"audience": ["public"]}}
    # the characters sit beside the must clause, so they rank what the words matched and never match alone
    assert query["should"] == [
        {"bool": {"should": [{"term": {"chars": {"value": c}}} for c in "原承租人优先续"], "boost": 2.0}}
    ]
    clauses = query["must"][0]["bool"]["should"]
    text = json.dumps([c for c in clauses if not ({"title_raw", "doc_number"} & set(c.get("term", {})))], ensure_ascii=False)
    assert "可以" not in text and "chars" not in text  # question words are not searched for (only the whole-title match sees them)
    assert "续租" in text and "承租人" in text

    none = make(node, CHAR_WEIGHT=0)
    props = none.index_definition("shuyuan-1").to_dict()["mappings"]["properties"]
    assert "chars" not in props and "copy_to" not in props["body"]
    assert "should" not in none.build_search(SearchQuery(q="优先续租")).to_dict()["query"]["bool"]
    ik = make(node, ANALYZER="ik").build_search(SearchQuery(q="原承租人可以优先续租吗？")).to_dict()["query"]["bool"]
    ik_clauses = ik["must"][0]["bool"]["should"]
    assert {"match": {"body": {"query": "原承租人 优先续租 ？"}}} in ik_clauses  # the server's analyzer gets no question words
    assert ik["should"] == query["should"]
    browse = engine.build_search(SearchQuery(q="")).to_dict()["query"]["bool"]
    assert "should" not in browse and not browse.get("must")


def test_browsing_by_filter_without_words_lists_newest_first(node):
    """The search API's browse mode (a filter, no words) asks Elasticsearch for the filtered set by date."""
    engine = make(node)
    query = SearchQuery(q="", audiences=frozenset({"public"}), filters={"kind": ["article"]}, facets=["year"],
                        date_from=dt.date(2024, 1, 1))
    body = engine.build_search(query).to_dict()
    assert body["query"] == {"bool": {"filter": [
        {"terms": {"audience": ["public"]}},
        {"terms": {"kind": ["article"]}},
        {"range": {"date": {"gte": "2024-01-01"}}},
    ]}}
    assert body["sort"] == [{"date": {"order": "desc", "missing": "_last"}}, "_score"]
    assert body["aggs"] == {"year": {"terms": {"field": "year", "size": 50}}}


# -- headers: Elasticsearch 8 and 9 ------------------------------------------------------------
def send(version: int, accept: str, content_type: str | None = None):
    """One request with these headers, through the transport (the client would rewrite them)."""
    import elasticsearch

    RecordingNode.requests, RecordingNode.responder, RecordingNode.server_version = [], None, version
    try:
        client = elasticsearch.Elasticsearch("http://es.invalid:9200", node_class=RecordingNode)
        headers = {"accept": accept, **({"content-type": content_type} if content_type else {})}
        meta, body = client.transport.perform_request("POST", "/shuyuan/_count", headers=headers,
                                                      body={"query": {"match_all": {}}} if content_type else None)
        return meta.status, body
    finally:
        RecordingNode.requests, RecordingNode.server_version = [], 8


def test_a_server_refuses_a_compatibility_version_it_does_not_speak():
    v9 = "application/vnd.elasticsearch+json; compatible-with=9"
    v8 = "application/vnd.elasticsearch+json; compatible-with=8"
    status, body = send(8, v9, v9)  # the 9.x client against an 8.x server (elasticsearch-py #2927)
    assert status == 400 and body["error"]["type"] == "media_type_header_exception"
    assert "must be either version 8 or 7, but found 9" in body["error"]["caused_by"]["reason"]
    status, body = send(9, "application/vnd.elasticsearch+json; compatible-with=7")
    assert status == 400 and "version 9 or 8, but found 7" in body["error"]["caused_by"]["reason"]
    status, body = send(9, v8, "application/json")  # Accept and Content-Type must ask for the same version
    assert status == 400 and "must match" in body["error"]["caused_by"]["reason"]
    for version in (8, 9):
        assert send(version, v8, v8)[0] == 200
        assert send(version, "application/json", "application/json")[0] == 200
    assert send(9, v9, v9)[0] == 200


def test_every_request_is_labelled_compatible_with_8(node):
    node.responder = Cluster()
    engine = make(node)
    engine.rebuild(docs(4))
    engine.index(docs(2))
    engine.delete(["page:1"])
    engine.search(SearchQuery(q="三会一课", facets=["year"]))
    engine.suggest("三会", frozenset({"public"}))
    assert engine.health().ok
    assert len(node.requests) >= 10
    for req in node.requests:
        assert req.headers["accept"] == "application/vnd.elasticsearch+json; compatible-with=8", req.path
        if req.body is not None:
            kind = "x-ndjson" if req.path.split("?")[0].endswith("_bulk") else "json"
            assert req.headers["content-type"] == f"application/vnd.elasticsearch+{kind}; compatible-with=8", req.path
        answered = req.status is not None and (req.status < 300 or (req.status == 404 and "/_alias/" in req.path))
        assert answered, (req.method, req.path, req.status)  # only "no such alias" (no rebuild running) is not a 2xx


def test_a_refused_request_fails_the_write_with_the_request_named_not_a_raw_client_error(node):
    engine = make(node, CLIENT_OPTIONS={"node_class": node, "max_retries": 0})
    node.server_version = 7  # by the same rule, takes compatible-with=7 or 6 only: refuses what this client sends
    for write in (lambda: engine.index(docs(1)), lambda: engine.delete(["page:0"]), lambda: engine.rebuild(docs(1))):
        with pytest.raises(SearchError) as caught:
            write()
        assert type(caught.value) is SearchError  # not SearchUnavailable: a retry alone would not help
        message = str(caught.value)
        assert re.search(r"refused (GET /_alias/shuyuan-rebuilding|PUT /shuyuan-\d+-\d+): HTTP 400 media_type_header_exception", message)
        assert "must be either version 7 or 6, but found 8" in message
    node.server_version = 8

    def refuse(method, path_part, status, type_):
        def responder(req):
            if req.method == method and path_part in req.path:
                return error(status, type_, "refused by the test")
            return default_responder(req)
        return responder

    node.responder = refuse("PUT", "/_bulk", 400, "mapper_parsing_exception")
    for write in (lambda: engine.index(docs(1)), lambda: engine.delete(["page:0"])):
        with pytest.raises(SearchError, match=r"refused PUT /_bulk: HTTP 400 mapper_parsing_exception") as caught:
            write()
        assert type(caught.value) is SearchError
    node.responder = refuse("PUT", "/shuyuan-", 400, "illegal_argument_exception")
    with pytest.raises(SearchError, match=r"refused PUT /shuyuan-\d+-\d+: HTTP 400 illegal_argument_exception"):
        engine.rebuild(docs(2))
    node.responder = refuse("PUT", "/_bulk", 500, "null_pointer_exception")
    with pytest.raises(SearchError, match="HTTP 500") as caught:
        engine.index(docs(1))
    assert type(caught.value) is SearchError
    node.responder = refuse("POST", "/_search", 400, "parsing_exception")
    with pytest.raises(SearchError, match=r"refused POST /shuyuan/_search: HTTP 400 parsing_exception"):
        engine.search(SearchQuery(q="党建"))


def test_an_operation_refused_inside_a_bulk_request_names_the_document(node):
    engine = make(node)

    def responder(req):
        if req.path.split("?")[0].endswith("/_bulk"):
            meta = req.ndjson[0]["index"]
            return 200, {"took": 1, "errors": True, "items": [{"index": {
                "_index": "shuyuan-1", "_id": meta["_id"], "status": 400,
                "error": {"type": "document_parsing_exception", "reason": "[1:2] failed to parse field [date]"}}}]}
        return default_responder(req)

    node.responder = responder
    with pytest.raises(SearchError, match=r"index 'page:0' in 'shuyuan-1': HTTP 400 document_parsing_exception") as caught:
        engine.index(docs(1))
    assert type(caught.value) is SearchError


def test_a_busy_or_unreachable_server_is_unavailable_and_retried_later(node):
    engine = make(node, CLIENT_OPTIONS={"node_class": node, "max_retries": 0})
    for status, type_ in ((503, "unavailable_shards_exception"), (429, "es_rejected_execution_exception"), (504, "gateway")):
        node.responder = lambda req, status=status, type_=type_: (
            error(status, type_, "busy") if "_bulk" in req.path else default_responder(req))
        with pytest.raises(SearchUnavailable, match=f"HTTP {status}"):
            engine.index(docs(1))
    node.responder = lambda req: (-1, None) if "_bulk" in req.path else default_responder(req)
    with pytest.raises(SearchUnavailable, match="unreachable"):
        engine.delete(["page:1"])

    def rejected(req):
        if req.path.split("?")[0].endswith("/_bulk"):
            return 200, {"took": 1, "errors": True, "items": [{"index": {
                "_index": "shuyuan-1", "_id": "page:0", "status": 429,
                "error": {"type": "es_rejected_execution_exception", "reason": "queue full"}}}]}
        return default_responder(req)

    node.responder = rejected
    with pytest.raises(SearchUnavailable, match="es_rejected_execution_exception"):
        engine.index(docs(1))


# -- writes never create an index ----------------------------------------------------------------
def test_the_fake_cluster_auto_creates_an_index_for_a_write_without_require_alias(node):
    """What a real server does, and what the engine must never let happen (the fake is checked too)."""
    cluster = node.responder = Cluster()
    client = make(node).client
    client.bulk(operations=[{"index": {"_index": "shuyuan", "_id": "page:1"}}, {"title": "x"}])
    assert cluster.auto_created == ["shuyuan"] and "shuyuan" in cluster.indices
    resp = client.bulk(operations=[{"index": {"_index": "other", "_id": "page:1"}}, {"title": "x"}], require_alias=True)
    assert resp["errors"] and resp["items"][0]["index"]["error"]["type"] == "index_not_found_exception"
    assert cluster.auto_created == ["shuyuan"]


def test_a_write_before_the_first_rebuild_fails_and_creates_nothing(node):
    cluster = node.responder = Cluster()
    engine = make(node)
    with pytest.raises(SearchError, match="alias 'shuyuan' does not exist") as caught:
        engine.index(docs(2))
    assert type(caught.value) is SearchError
    with pytest.raises(SearchError, match="alias 'shuyuan' does not exist"):
        engine.delete(["page:1"])
    assert cluster.indices == {} and cluster.auto_created == []
    assert all(b.params.get("require_alias") == "true" for b in requests_to(node, "/_bulk"))
    health = engine.health()
    assert not health.ok and "missing" in health.detail

    engine.rebuild(docs(3))
    (live,) = cluster.indices
    assert cluster.indices[live] == {"shuyuan"} and engine.health().documents == 3
    engine.index(docs(5))
    engine.delete(["page:0", "page:99"])  # a document that is not there is no error
    assert cluster.docs[live] == {"page:1", "page:2", "page:3", "page:4"}
    engine.rebuild(docs(2))
    assert list(cluster.indices) != [live] and len(cluster.indices) == 1 and cluster.auto_created == []
    assert engine.indices() == list(cluster.indices)


def test_a_real_index_named_like_the_alias_is_reported_not_kept(node):
    """Left by an older version's write before the first rebuild: health says so and the rebuild says why it stops."""
    cluster = node.responder = Cluster()
    cluster._create("shuyuan")
    engine = make(node)
    assert not engine.health().ok
    with pytest.raises(SearchError, match="real index named 'shuyuan'"):
        engine.rebuild(docs(2))
    assert list(cluster.indices) == ["shuyuan"]  # the half-built index is gone again


def test_contract_cleanup_deletes_the_indices_it_created_by_name(node):
    from tests.search.conftest import _cleanup

    cluster = node.responder = Cluster()  # action.destructive_requires_name: true, the default since 8.0
    other = make(node, INDEX="someone-else")
    other.rebuild(docs(1))
    engine = make(node, INDEX="shuyuan-test-0a1b2c3d")
    with pytest.raises(Exception, match="Wildcard expressions"):
        engine.client.indices.delete(index=f"{engine.alias}-*")
    engine.rebuild(docs(2))
    engine.rebuild(docs(2))
    assert len(cluster.indices) == 2
    _cleanup(engine)
    assert [set(a) for a in cluster.indices.values()] == [{"someone-else"}]
    _cleanup(engine)  # nothing left: no error


# -- in the index job: a refused write fails it and the change stays queued ----------------------
ES_FAKE = {"default": {"BACKEND": "search.backends.elasticsearch", "RERANK": None, "OPTIONS": {
    "URLS": ["http://es.invalid:9200"], "INDEX": "shuyuan", "CLIENT_OPTIONS": {"node_class": RecordingNode}}}}


@override_settings(SHUYUAN_SEARCH=ES_FAKE)
class RefusedWriteInTheJobTests(TestCase):
    def setUp(self):
        RecordingNode.requests, RecordingNode.server_version = [], 8
        self.cluster = RecordingNode.responder = Cluster()  # no index yet: nothing was ever rebuilt

    def tearDown(self):
        RecordingNode.requests, RecordingNode.responder = [], None

    def test_the_cursor_stays_before_a_change_the_server_refused(self):
        from search import indexing, tasks
        from tests.factories import ArticlePageFactory, build_site, publish

        tree = build_site(n_articles=1)
        waiting = indexing.backlog()
        self.assertGreater(waiting, 0)
        with self.assertRaisesRegex(SearchError, "alias 'shuyuan' does not exist"):
            indexing.catch_up()
        self.assertEqual(indexing.backlog(), waiting)  # nothing acknowledged: a later catch-up replays it
        with self.assertRaises(SearchError):
            tasks.update_search_index.call()  # the job fails (visible in its result), it does not report "ok"
        self.assertEqual(indexing.backlog(), waiting)
        self.assertEqual((self.cluster.indices, self.cluster.auto_created), ({}, []))

        indexing.rebuild()
        self.assertEqual(indexing.backlog(), 0)
        (live,) = self.cluster.indices
        self.assertIn(document_id(tree.articles[0].pk), self.cluster.docs[live])
        page = publish(ArticlePageFactory(parent=tree.news))
        self.assertEqual(tasks.update_search_index.call()["status"], "ok")
        self.assertEqual(indexing.backlog(), 0)
        self.assertIn(document_id(page.pk), self.cluster.docs[live])


# -- clean results: exact first, as the embedded engine answers ------------------------------------------
def _bigram_clauses(body) -> list:
    return [c for c in json.dumps(body, ensure_ascii=False).split('{"term": ') if c.startswith('{"bigrams"')]


@pytest.mark.parametrize("count, exact", [(10, True), (3, False)])
def test_a_short_keyword_query_counts_its_exact_hits_first_and_drops_bigrams_when_enough(node, count, exact):
    from search.text import EXACT_ENOUGH

    assert EXACT_ENOUGH == 10

    def responder(req):
        if req.path.split("?")[0].endswith("/_count"):
            return 200, {"count": count, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}
        return default_responder(req)

    node.responder = responder
    engine = make(node)
    query = SearchQuery(q="党建", audiences=frozenset({"public"}), filters={"kind": ["article"]})
    assert engine.analyzer.query("党建").bigrams  # a keyword query with a bigram fallback
    engine.search(query)
    engine.ranked_window(query, engine.analyzer.query(query.q), 30)
    counts = requests_to(node, "/shuyuan/_count")
    searches = requests_to(node, "/shuyuan/_search")
    assert len(counts) == 2 and len(searches) == 2
    counted = counts[0].body["query"]["bool"]
    assert counted["filter"] == engine.build_search(query).to_dict()["query"]["bool"]["filter"]  # under the same filters
    assert not _bigram_clauses(counts[0].body)  # words and phrases only
    for sent in searches:
        assert bool(_bigram_clauses(sent.body)) is not exact, sent.body


def test_a_long_question_or_a_dictionary_word_sends_no_count(node):
    engine = make(node)
    engine.search(SearchQuery(q="行纪合同如何成立？行纪合同何时生效？"))
    engine.search(SearchQuery(q="三会一课"))  # no bigram fallback to drop
    engine.search(SearchQuery(q=""))
    assert requests_to(node, "/_count") == []
    none = make(node, BIGRAM_WEIGHT=0)
    none.search(SearchQuery(q="党建"))
    assert requests_to(node, "/_count") == []


def test_the_bigram_field_holds_no_bigram_across_a_dictionary_word(node):
    source = make(node).to_source(SearchDocument(id="page:5", kind="article", title="支部", body="开展三会一课"))
    assert source["bigrams"].split() == ["支部", "开展", "三会一课"]
