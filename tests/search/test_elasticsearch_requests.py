"""What the Elasticsearch engine sends, checked without a server.

Requests go through the real elasticsearch-py client and bulk helpers into a
recording node (es_fake.RecordingNode), so these are the exact mappings and
bodies a server would receive.  This is NOT a substitute for the contract
suite against a real server (it runs when ELASTICSEARCH_URL is set).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from search.backends.base import SearchDocument, SearchQuery, SearchUnavailable
from search.backends.elasticsearch import ElasticsearchSearchBackend
from tests.search.es_fake import RecordingNode, default_responder


@pytest.fixture
def node():
    RecordingNode.requests = []
    RecordingNode.responder = None
    yield RecordingNode
    RecordingNode.requests = []
    RecordingNode.responder = None


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


def test_writes_during_a_rebuild_go_to_both_indices(node):
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
    assert targets == [("delete", "shuyuan"), ("delete", "shuyuan-new"), ("index", "shuyuan"), ("index", "shuyuan-new")]


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
    assert body["query"] == {"bool": {"filter": [{"terms": {"audience": ["members", "public"]}}, {"term": {"locale": "zh-hans"}}]}}
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
