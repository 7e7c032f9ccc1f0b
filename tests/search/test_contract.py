"""One conformance suite for every search engine (see conftest.ENGINES)."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest

from search.backends.base import Attachment, SearchDocument, SearchQuery

PUBLIC = frozenset({"public"})
MEMBERS = frozenset({"public", "members"})
EVERYONE = frozenset({"public", "members", "internal"})


def doc(id, title, body="", **kw) -> SearchDocument:
    return SearchDocument(id=id, kind=kw.pop("kind", "material"), title=title, body=body, **kw)


CORPUS = [
    doc("page:1", "关于严格落实三会一课制度的通知", "各党支部要按照要求认真开展三会一课，做好会议记录。",
        material_type="文件", topics=["党章党规"], date=dt.date(2024, 3, 1), doc_number="书苑党发〔2024〕3号",
        issuing_body="书苑示范党委"),
    doc("page:2", "支部工作手册", "本手册介绍支部工作。三会是指支部党员大会、支部委员会和党小组会，一课是党课。",
        material_type="图书", topics=["理论学习"], date=dt.date(2022, 5, 4)),
    doc("page:3", "主题党日活动安排", "每月固定一天开展主题党日，组织党员学习。", material_type="文件",
        topics=["党史学习"], date=dt.date(2025, 1, 10), doc_number="书苑党发〔2025〕1号"),
    doc("page:4", "两学一做学习教育常态化", "推进两学一做学习教育常态化制度化。", kind="article", column="新闻动态",
        date=dt.date(2023, 7, 1)),
    doc("page:5", "會員學習手冊", "這是繁體中文撰寫的學習資料，介紹黨員教育。", audience="members",
        material_type="图书", date=dt.date(2021, 2, 2), locale="zh-hant"),
    doc("page:6", "机关内部通知：绝密安排", "内部人员名单与绝密安排，不得外传。三会一课检查情况。", audience="internal",
        kind="article", column="通知公告", date=dt.date(2025, 6, 1)),
    doc("page:7", "会员专享：三会一课辅导", "会员才能看到的三会一课辅导材料。", audience="members",
        material_type="视频", topics=["党章党规"], date=dt.date(2024, 12, 1)),
    doc("page:8", "党员教育读本", "正文很短。", material_type="图书", date=dt.date(2020, 1, 1),
        attachments=[Attachment("读本.pdf", "第一页讲历史。", 1), Attachment("读本.pdf", "第二页讲述全体党员会议的程序与要求。", 2)]),
]
RESTRICTED_WORDS = ["绝密", "机关内部", "会员专享", "会员才能看到"]


@pytest.fixture
def loaded(engine):
    engine.rebuild(CORPUS)
    return engine


def ids(results):
    return [h.id for h in results.hits]


def test_health_and_count(loaded):
    health = loaded.health()
    assert health.ok, health.detail
    assert health.documents == len(CORPUS)


def test_custom_words_phrase_and_title_rank_first(loaded):
    res = loaded.search(SearchQuery(q="三会一课 的要求", audiences=PUBLIC))
    assert ids(res)[0] == "page:1"  # title + phrase match beats a body mention
    assert "page:2" not in ids(res)[:1]


def test_two_character_word_finds_documents(loaded):
    res = loaded.search(SearchQuery(q="手册", audiences=PUBLIC))
    assert "page:2" in ids(res)


def test_doc_number_exact_lookup_in_any_bracket_style(loaded):
    for q in ("书苑党发〔2025〕1号", "书苑党发[2025]1号", "书苑党发（2025）1号"):
        res = loaded.search(SearchQuery(q=q, audiences=PUBLIC))
        assert ids(res)[0] == "page:3", q


def test_traditional_and_simplified_find_each_other(loaded):
    assert "page:5" in ids(loaded.search(SearchQuery(q="会员学习手册", audiences=MEMBERS)))
    assert "page:1" in ids(loaded.search(SearchQuery(q="三會一課", audiences=PUBLIC)))


def test_synonyms(loaded):
    res = loaded.search(SearchQuery(q="党员大会", audiences=PUBLIC))
    assert "page:8" in ids(res)  # says 全体党员会议 in its attachment


def test_snippet_is_original_text_with_marks(loaded):
    res = loaded.search(SearchQuery(q="学习资料", audiences=MEMBERS))
    hit = next(h for h in res.hits if h.id == "page:5")
    assert "<mark>" in hit.snippet_html
    assert "繁體中文" in hit.snippet_html  # original (traditional) characters, not the normalised copy
    assert " 学习 " not in hit.snippet_html  # never the segmented copy


def test_attachment_snippet_names_file_and_page(loaded):
    res = loaded.search(SearchQuery(q="全体党员会议的程序", audiences=PUBLIC))
    hit = res.hits[0]
    assert hit.id == "page:8"
    assert hit.source == "读本.pdf" and hit.page == 2
    assert "<mark>" in hit.snippet_html


def test_html_in_text_is_escaped(engine):
    engine.rebuild([doc("page:50", "<script>alert(1)</script> 党课", "<b>党课</b> & 学习")])
    hit = engine.search(SearchQuery(q="党课", audiences=PUBLIC)).hits[0]
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<b>" not in hit.snippet_html and re.sub(r"</?mark>", "", hit.snippet_html).count("<") == 0


def test_facets_filters_and_counts(loaded):
    res = loaded.search(SearchQuery(q="", audiences=PUBLIC, facets=["material_type", "topics", "year", "kind"]))
    assert res.total == 5
    assert dict(res.facets["material_type"]) == {"文件": 2, "图书": 2}
    assert dict(res.facets["year"])["2024"] == 1
    assert dict(res.facets["kind"]) == {"material": 4, "article": 1}
    filtered = loaded.search(SearchQuery(q="", audiences=PUBLIC, filters={"material_type": ["文件"]}))
    assert sorted(ids(filtered)) == ["page:1", "page:3"]
    by_topic = loaded.search(SearchQuery(q="", audiences=PUBLIC, filters={"topics": ["党史学习"]}))
    assert ids(by_topic) == ["page:3"]


def test_locale_and_date_range_filters(loaded):
    res = loaded.search(SearchQuery(q="", audiences=MEMBERS, locale="zh-hant"))
    assert ids(res) == ["page:5"]
    res = loaded.search(SearchQuery(q="", audiences=PUBLIC, date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31)))
    assert ids(res) == ["page:1"]


def test_sort_by_date_and_pagination(loaded):
    first = loaded.search(SearchQuery(q="", audiences=PUBLIC, sort="date", page_size=2))
    assert ids(first) == ["page:3", "page:1"]
    assert first.total == 5 and first.num_pages == 3 and first.has_next
    third = loaded.search(SearchQuery(q="", audiences=PUBLIC, sort="date", page=3, page_size=2))
    assert ids(third) == ["page:8"]
    beyond = loaded.search(SearchQuery(q="", audiences=PUBLIC, page=50, page_size=2))
    assert beyond.hits == [] and beyond.total == 5


def test_suggest_titles_and_terms(loaded):
    out = loaded.suggest("主题", PUBLIC)
    assert "主题党日活动安排" in out
    assert all(not s.startswith("会员") for s in loaded.suggest("会员", PUBLIC))


HOSTILE = [
    "", " ", "\x00", "*", "?", "AND OR NOT", 'title:"x"', "(((", ")", "[2024 TO 2025]", "\\", "/.*/", "~1^2",
    "a" * 5000, "中" * 600, "<script>", "'; DROP TABLE", "+-&&||!(){}[]^\"~*?:\\/", "🙂🙂", "\u202e", "%00", "的",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_any_input_returns_results_or_an_empty_page(loaded, q):
    res = loaded.search(SearchQuery(q=q, audiences=PUBLIC, facets=["year", "topics"]))
    assert res.total >= 0
    loaded.suggest(q, PUBLIC)


def test_delete_and_update(loaded):
    loaded.delete(["page:3", "page:999"])
    assert "page:3" not in ids(loaded.search(SearchQuery(q="主题党日", audiences=PUBLIC)))
    loaded.index([doc("page:2", "支部工作手册（修订版）", "全新内容：组织生活会。")])
    res = loaded.search(SearchQuery(q="组织生活会", audiences=PUBLIC))
    assert ids(res) == ["page:2"]
    assert loaded.health().documents == len(CORPUS) - 1


def test_rebuild_replaces_everything(loaded):
    loaded.rebuild([doc("page:100", "新索引", "只有这一篇")])
    assert ids(loaded.search(SearchQuery(q="", audiences=PUBLIC))) == ["page:100"]


def test_visibility_invariant(engine):
    """No restricted id in any result, count, facet, suggestion or snippet, over random documents and queries."""
    rng = random.Random(42)
    words = ["党建", "学习", "三会一课", "主题党日", "支部", "理论", "绝密", "内部", "会员", "教育", "组织", "档案"]
    audiences = ["public", "members", "internal"]
    docs = []
    for i in range(120):
        audience = audiences[i % 3]
        marker = {"public": "", "members": "会员专属词甲", "internal": "内部专属词乙"}[audience]
        docs.append(
            SearchDocument(
                id=f"page:{i}",
                kind=rng.choice(["material", "article"]),
                title="".join(rng.choices(words, k=3)) + marker,
                body="".join(rng.choices(words, k=30)) + marker,
                audience=audience,
                topics=[f"{audience}专题"],
                material_type=f"{audience}类型",
                date=dt.date(2000 + (i % 20), 1, 1) if audience == "public" else dt.date(1990, 1, 1),
            )
        )
    engine.rebuild(docs)
    allowed_by_scope = {PUBLIC: {"public"}, MEMBERS: {"public", "members"}}
    by_id = {d.id: d for d in docs}
    queries = ["", "会员专属词甲", "内部专属词乙", "绝密", "内部", "党建 学习", "三会一课", "*", "专题"] + words
    for scope, allowed in allowed_by_scope.items():
        expected_total = sum(1 for d in docs if d.audience in allowed)
        for q in queries:
            for sort in ("relevance", "date"):
                res = engine.search(SearchQuery(q=q, audiences=scope, facets=["topics", "material_type", "year", "kind"], sort=sort, page_size=100))
                assert all(by_id[h.id].audience in allowed for h in res.hits), (scope, q)
                assert res.total <= expected_total
                if q == "":
                    assert res.total == expected_total
                for name, values in res.facets.items():
                    for value, _count in values:
                        assert not any(a in value for a in ({"members", "internal"} - allowed)), (name, value)
                        if name == "year":
                            assert value != "1990" or "members" in allowed
                html = " ".join(h.snippet_html + h.title_html for h in res.hits)
                assert "内部专属词乙" not in html
                if "members" not in allowed:
                    assert "会员专属词甲" not in html
            for prefix in ("会员", "内部", "党建", "三会", "专"):
                suggestions = " ".join(engine.suggest(prefix, scope, limit=20))
                assert "内部专属" not in suggestions
                if "members" not in allowed:
                    assert "会员专属" not in suggestions
    assert engine.search(SearchQuery(q="", audiences=frozenset())).total == 0
