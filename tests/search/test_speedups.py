"""Speed-ups of a search request under load (issue #14, item 5) keep every answer as it was.

* the embedded engine keeps the title and snippet it cut for (stored document, words)
  (search/highlight.py CutCache): an edited document never shows its earlier text, other words are
  cut anew, and the answers equal those of an engine that cuts every time;
* the question vectors are shared between worker processes through the Django cache
  (search/semantic.py): the same vector as embedding it, keyed by the model and the question.

Real components: the embedded engine (tantivy, on disk in a temporary folder), Django's local-memory
and database caches.
"""

from __future__ import annotations

import pytest

from search.backends.base import Attachment, SearchDocument, SearchQuery
from search.backends.embedded import EmbeddedSearchBackend
from search.highlight import CutCache

PUBLIC = frozenset({"public"})
MEMBERS = frozenset({"public", "members"})


def _engine(tmp_path, **options) -> EmbeddedSearchBackend:
    return EmbeddedSearchBackend({"PATH": str(tmp_path / "index"), **options})


def _hit(engine, q: str, audiences=PUBLIC):
    found = engine.search(SearchQuery(q=q, audiences=audiences))
    return {hit.id: hit for hit in found.hits}


# -- negative first: what a cache must never do ----------------------------------------------------------
def test_an_edited_document_never_shows_its_earlier_snippet_or_title(tmp_path):
    engine = _engine(tmp_path)
    engine.index([SearchDocument(id="page:1", kind="article", title="支部组织生活会", body="第一稿：支部召开组织生活会。")])
    before = _hit(engine, "组织生活会")["page:1"]
    assert "第一稿" in before.snippet_html
    engine.index([SearchDocument(id="page:1", kind="article", title="党支部组织生活会纪要", body="第二稿：党支部召开组织生活会。")])
    after = _hit(engine, "组织生活会")["page:1"]
    assert "第一稿" not in after.snippet_html and "第二稿" in after.snippet_html
    assert after.title == "党支部组织生活会纪要" and after.title_html.startswith("党支部")


def test_an_edited_attachment_never_shows_its_earlier_text(tmp_path):
    engine = _engine(tmp_path)
    doc = dict(id="page:2", kind="article", title="学习材料", body="正文。")
    engine.index([SearchDocument(**doc, attachments=[Attachment(title="附件.pdf", text="旧版三会一课制度。", page=3)])])
    assert _hit(engine, "三会一课")["page:2"].page == 3
    engine.index([SearchDocument(**doc, attachments=[Attachment(title="附件.pdf", text="新版三会一课制度。", page=7)])])
    hit = _hit(engine, "三会一课")["page:2"]
    assert hit.page == 7 and "新版" in hit.snippet_html and "旧版" not in hit.snippet_html


def test_other_words_are_cut_anew(tmp_path):
    engine = _engine(tmp_path)
    engine.index([SearchDocument(id="page:3", kind="article", title="通知",
                                 body="开头一段别的文字。" * 30 + "支部开展主题党日活动。" + "中间的文字。" * 30 + "党员发展工作。")])
    first = _hit(engine, "主题党日")["page:3"].snippet_html
    second = _hit(engine, "党员发展")["page:3"].snippet_html
    assert "<mark>主题党日</mark>" in first and "<mark>" + "党员" in second
    assert first != second


def test_a_members_hit_cut_for_a_member_never_reaches_the_public(tmp_path):
    engine = _engine(tmp_path)
    engine.index([SearchDocument(id="page:4", kind="article", title="内部学习", body="仅会员可见的组织生活会材料。", audience="members"),
                  SearchDocument(id="page:5", kind="article", title="公开学习", body="公开的组织生活会材料。")])
    assert set(_hit(engine, "组织生活会", MEMBERS)) == {"page:4", "page:5"}
    found = engine.search(SearchQuery(q="组织生活会", audiences=PUBLIC))
    assert [h.id for h in found.hits] == ["page:5"] and found.total == 1


def test_the_cache_holds_at_most_its_size():
    cache = CutCache(size=3)
    made = []
    for i in range(5):
        cache.get(i, lambda i=i: made.append(i) or i)
    assert len(cache) == 3 and made == [0, 1, 2, 3, 4]
    assert cache.get(0, lambda: "again") == "again"  # evicted: made anew
    assert cache.get(4, lambda: "never") == 4  # kept
    off = CutCache(size=0)
    assert off.get("k", lambda: 1) == 1 and len(off) == 0


# -- the same answers -------------------------------------------------------------------------------------
def _news() -> list[SearchDocument]:
    lines = ["各地认真做好秋冬季节农业生产工作。", "支部召开组织生活会，开展批评与自我批评。", "党员发展工作要坚持标准、严格程序。",
             "央视网消息 央视网消息：主题党日活动在社区举行。", "黨員大會在禮堂召開。", "<b>三会一课</b>制度落实情况通报。"]
    docs = []
    for n in range(40):
        body = "\n".join(lines[(n + k) % len(lines)] for k in range(n % 5 + 2)) * (1 + n % 4)
        docs.append(SearchDocument(id=f"page:{n}", kind="article", title=f"第{n}期 {lines[n % len(lines)][:8]}", body=body,
                                   audience="members" if n % 4 == 3 else "public",
                                   attachments=[Attachment(title="附件", text=lines[(n + 3) % len(lines)], page=n % 3 + 1)] if n % 2 else []))
    return docs


@pytest.mark.parametrize("audiences", [PUBLIC, MEMBERS])
def test_answers_equal_those_of_an_engine_that_cuts_every_time(tmp_path, audiences):
    cached, plain = _engine(tmp_path / "a"), _engine(tmp_path / "b", CUT_CACHE=0)
    for engine in (cached, plain):
        engine.rebuild(_news())
    questions = ["组织生活会", "党员大会", "三会一课", "主题党日 社区", "农业生产", "党员发展工作标准", "央视网消息"]
    for _round in range(2):  # the second round comes from the cache
        for q in questions:
            query = SearchQuery(q=q, audiences=audiences, facets=["kind"])
            assert cached.search(query).as_dict() == plain.search(query).as_dict(), q
    assert cached._cuts.hits > 0 and len(plain._cuts) == 0


# -- question vectors shared by the worker processes ------------------------------------------------------
QUESTION = "被公司辞退能拿到补偿吗"


@pytest.fixture
def shared():
    from django.core.cache import caches

    from search.semantic import E5Embedder

    reason = E5Embedder.available()
    if reason:
        pytest.skip(f"semantic re-ranking model unavailable: {reason}")
    caches["search"].clear()
    yield caches["search"]
    caches["search"].clear()


def test_another_models_vector_is_never_taken(shared):
    import numpy as np

    from search.semantic import E5Embedder

    other = E5Embedder(shared_cache="search")
    other.name = "another-model"
    other._shared_set(QUESTION, np.ones(other.dim, dtype=np.float32))
    mine = E5Embedder(shared_cache="search").query(QUESTION)
    assert not np.allclose(mine, 1.0)
    assert np.allclose(mine, E5Embedder().query(QUESTION), atol=1e-6)


def test_a_malformed_or_unreachable_shared_cache_is_embedding_as_before(shared, monkeypatch):
    import numpy as np

    from search.semantic import E5Embedder

    alone = E5Embedder().query(QUESTION)
    embedder = E5Embedder(shared_cache="search")
    shared.set(embedder._shared_key(QUESTION), b"\x00" * 12)  # not a vector of this model
    assert np.allclose(embedder.query(QUESTION), alone, atol=1e-6)

    def broken(_self):
        raise ConnectionError("cache server down")

    monkeypatch.setattr(E5Embedder, "_shared", broken)
    assert np.allclose(E5Embedder(shared_cache="search").query(QUESTION), alone, atol=1e-6)


def test_an_unknown_cache_alias_fails_at_start_up():
    from search.semantic import E5Embedder, E5Reranker

    if E5Embedder.available():
        pytest.skip("semantic re-ranking model unavailable")
    with pytest.raises(ValueError, match="QUERY_CACHE"):
        E5Reranker({"STORE": "memory", "QUERY_CACHE": "no-such-cache"})


def test_a_second_worker_takes_the_vector_without_embedding(shared):
    import numpy as np

    from search.semantic import E5Embedder

    first = E5Embedder(shared_cache="search").query(QUESTION)
    second = E5Embedder(shared_cache="search")  # another process: nothing cached of its own
    assert np.array_equal(second.query(QUESTION), first)
    assert second._model is None  # the model was not even loaded
    assert second.query(QUESTION) is second.query(QUESTION)  # then from its own cache
