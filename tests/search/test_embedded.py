"""Embedded-engine specifics: on-disk generations, atomic rebuild, writes during a rebuild."""

from __future__ import annotations

from search.backends.base import SearchDocument, SearchQuery
from search.backends.embedded import EmbeddedSearchBackend

PUBLIC = frozenset({"public"})


def d(i: int, title: str = "学习资料", body: str = "党建") -> SearchDocument:
    return SearchDocument(id=f"page:{i}", kind="material", title=f"{title}{i}", body=body)


def ids(engine, q=""):
    return sorted(h.id for h in engine.search(SearchQuery(q=q, audiences=PUBLIC, page_size=100)).hits)


def test_index_persists_and_other_processes_see_rebuilds(tmp_path):
    a = EmbeddedSearchBackend({"PATH": str(tmp_path)})
    b = EmbeddedSearchBackend({"PATH": str(tmp_path)})  # stands in for another process
    a.index([d(1)])
    assert ids(b) == ["page:1"]
    a.rebuild([d(2), d(3)])
    assert ids(b) == ["page:2", "page:3"]
    generations = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    assert len(generations) == 1  # the old generation was removed after the switch


def test_writes_made_during_a_rebuild_are_not_lost(tmp_path):
    engine = EmbeddedSearchBackend({"PATH": str(tmp_path)})
    other = EmbeddedSearchBackend({"PATH": str(tmp_path)})
    engine.rebuild([d(1), d(2)])

    def source():
        yield d(1)
        # an editor publishes and deletes while the rebuild is half-way
        other.index([d(7, title="新发布")])
        other.delete(["page:2"])
        assert "page:7" in ids(other)  # searches keep working on the old generation meanwhile
        yield d(2)  # the rebuild's stale copy of page 2 ...
        yield d(3)

    engine.rebuild(source())
    assert ids(engine) == ["page:1", "page:3", "page:7"]  # ... is deleted again by the journal replay
    assert not (tmp_path / "REBUILDING").exists()
    assert not (tmp_path / "journal.jsonl").exists()


def test_failed_rebuild_keeps_the_old_index(tmp_path):
    engine = EmbeddedSearchBackend({"PATH": str(tmp_path)})
    engine.rebuild([d(1)])

    def broken():
        yield d(5)
        raise RuntimeError("database went away")

    try:
        engine.rebuild(broken())
    except RuntimeError:
        pass
    assert ids(engine) == ["page:1"]
    assert not (tmp_path / "REBUILDING").exists()


def test_index_from_another_version_reports_unhealthy(tmp_path):
    (tmp_path / "v0-old").mkdir()
    (tmp_path / "CURRENT").write_text("v0-old")
    engine = EmbeddedSearchBackend({"PATH": str(tmp_path)})
    health = engine.health()
    assert not health.ok and "rebuild" in health.detail


def test_in_memory_engine(tmp_path):
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.index([d(1)])
    assert ids(engine, "学习") == ["page:1"]
    engine.rebuild([d(2)])
    assert ids(engine) == ["page:2"]
    assert engine.document_ids() == {"page:2"}


def test_rebuild_with_worker_processes_gives_the_same_index(tmp_path):
    engine = EmbeddedSearchBackend({"PATH": str(tmp_path), "INDEX_WORKERS": 2})
    engine.rebuild(d(i) for i in range(150))
    assert len(ids(engine, "学习资料")) == 100  # page_size cap
    assert engine.health().documents == 150


def test_bigram_field_holds_only_cjk_pairs_and_finds_unknown_words():
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild([d(1, title="通知", body="张三丰说，李四光好。ab12"), d(2, body="丰说李")])
    fields = engine.to_fields(d(1, title="通知", body="张三丰说，李四光好。ab12"))
    assert fields["bigrams"] == ["通知", "张三丰说", "李四光好"]
    searcher = engine._open().searcher()
    from search.backends.embedded import Query

    def count(term: str) -> int:
        return searcher.search(Query.term_query(engine.schema, "bigrams", term), 10, count=True).count

    assert count("三丰") == 1 and count("四光") == 1
    assert count("说，") == 0 and count("说李") == 1  # no pair across punctuation: only page 2 has 丰说李
    assert ids(engine, "三丰") == ["page:1"]


def test_bigram_weight_zero_skips_the_bigram_field():
    engine = EmbeddedSearchBackend({"IN_MEMORY": True, "BIGRAM_WEIGHT": 0})
    assert "bigrams" not in engine.to_fields(d(1, body="张三丰说"))
    engine.rebuild([d(1, body="张三丰说")])
    assert ids(engine, "张三丰") == ["page:1"]  # the word fields still match


def test_bigram_field_covers_the_title_and_the_lead_of_the_text():
    body = "开头一段。" + "甲" * 400 + "。结尾新词"
    engine = EmbeddedSearchBackend({"IN_MEMORY": True, "BIGRAM_CHARS": 100})
    pairs = "".join(engine.to_fields(d(1, title="通知", body=body))["bigrams"])
    assert pairs.startswith("通知开头一段") and "结尾" not in pairs
    engine.rebuild([d(1, title="通知", body=body)])
    assert ids(engine, "结尾新词") == ["page:1"]  # the word fields still cover the whole text
    whole = EmbeddedSearchBackend({"IN_MEMORY": True, "BIGRAM_CHARS": 0})
    assert "结尾新词" in whole.to_fields(d(1, body=body))["bigrams"]


def test_only_traditional_locales_are_converted_at_index_time_and_queries_always_are():
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    hant = SearchDocument(id="page:1", kind="article", title="通知", body="黨員學習資料", locale="zh-hant")
    hans = SearchDocument(id="page:2", kind="article", title="通知", body="党员学习资料")
    assert "党员" in engine.to_fields(hant)["body"].split()
    engine.rebuild([hant, hans])
    assert ids(engine, "黨員學習") == ["page:1", "page:2"]
    assert ids(engine, "党员学习") == ["page:1", "page:2"]
    hit = next(h for h in engine.search(SearchQuery(q="学习资料", audiences=PUBLIC)).hits if h.id == "page:1")
    assert "學習資料" in hit.snippet_html  # snippets are cut from the original text


def test_repeated_query_words_and_word_pairs_shape_the_ranking():
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild([
        d(1, title="甲", body="支部 换届 选举 程序 说明"),  # the two words side by side
        d(2, title="乙", body="支部 活动 安排 以及 年度 工作 计划 和 选举 换届"),  # far apart
    ])
    assert ids(engine, "支部换届选举")[:1] == ["page:1"]
    res = engine.search(SearchQuery(q="支部换届选举", audiences=PUBLIC))
    assert [h.id for h in res.hits][0] == "page:1"


def test_traditional_characters_in_a_simplified_page_are_found_by_both_forms():
    # a zh-hans page quoting a traditional title: index and query normalisation must agree in every locale
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    quoted = SearchDocument(id="page:1", kind="material", title="通知", body="转发《黨員學習資料彙編》的通知", locale="zh-hans")
    hant = SearchDocument(id="page:2", kind="material", title="通知", body="党员学习资料汇编", locale="zh-hant")
    engine.rebuild([quoted, hant])
    for q in ("党员学习", "黨員學習", "资料汇编", "資料彙編"):
        assert ids(engine, q) == ["page:1", "page:2"], q
    hit = next(h for h in engine.search(SearchQuery(q="资料汇编", audiences=PUBLIC)).hits if h.id == "page:1")
    assert "<mark>資料彙編</mark>" in hit.snippet_html  # snippets still show the original characters


def test_character_field_ranks_what_the_words_matched_but_never_widens_the_match():
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    fields = engine.to_fields(d(1, title="通知", body="承租人享有（优先）承租的权利ab12"))
    assert fields["chars"] == "通知承租人享有优先承租的权利"  # CJK characters only, cut one by one by tantivy
    engine.rebuild([
        d(1, title="甲", body="房屋承租人享有以同等条件优先承租的权利"),  # shares 承 租 with 续租
        d(2, title="乙", body="申请人享有优先受理的权利"),
        d(3, title="丙", body="续期 租金 另行约定"),  # characters only, no word of the query
    ])
    searcher = engine._open().searcher()
    from search.backends.embedded import Query

    assert searcher.search(Query.term_query(engine.schema, "chars", "租"), 10, count=True).count == 2
    assert ids(engine, "优先续租") == ["page:1", "page:2"]  # page 3 has 续 and 租 but no word or bigram
    res = engine.search(SearchQuery(q="承租人可以优先续租吗", audiences=PUBLIC))
    assert [h.id for h in res.hits][0] == "page:1"
    without = EmbeddedSearchBackend({"IN_MEMORY": True, "CHAR_WEIGHT": 0})
    assert "chars" not in without.to_fields(d(1))
