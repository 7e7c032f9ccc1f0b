"""Segmentation, normalisation and snippets (pure Python, no Django, no engine)."""

from __future__ import annotations

from search.highlight import best_snippet, highlight
from search.text import (
    Analyzer,
    cjk_bigrams,
    cjk_runs,
    find_doc_number,
    normalize,
    normalize_doc_number,
)


def test_normalize_traditional_fullwidth_and_case():
    assert normalize("三會一課 ＡＢＣ１２３") == "三会一课 abc123"
    assert len(normalize("黨建書苑")) == len("黨建書苑")


def test_normalize_without_t2s_keeps_characters():
    assert normalize("三會一課 ＡＢＣ", t2s=False) == "三會一課 abc"  # half-width and lower case still


def test_index_and_query_normalise_traditional_and_simplified_alike():
    analyzer = Analyzer()
    index_tokens = set(analyzer.index_text("转发《黨員學習資料彙編》").split())
    for q in ("党员学习", "黨員學習", "资料汇编", "資料彙編"):
        assert analyzer.query(q).all_terms() <= index_tokens, q


def test_query_counts_repeated_words_and_lists_adjacent_pairs():
    q = Analyzer().query("行纪合同如何成立？行纪合同何时生效？")
    counts = dict(zip((g[0] for g in q.groups), q.counts, strict=True))
    assert counts["行纪"] == 2 or counts.get("合同") == 2
    assert q.weight(q.groups.index(("合同",)), 0.5) == 1.5
    assert q.weight(len(q.groups) + 5) == 1.0  # out of range: a plain word
    pairs = q.pairs()
    assert pairs and all(a != b for a, b in pairs) and len(pairs) == len(set(pairs))
    assert all(" ".join(p) in " ".join(q.phrase) for p in pairs)


def test_custom_words_are_kept_whole_and_default_includes_party_terms():
    assert "三会一课" in Analyzer().tokens("认真落实三会一课制度")
    analyzer = Analyzer(custom_words=["书苑平台"])
    assert "书苑平台" in analyzer.tokens("欢迎使用书苑平台")


def test_index_and_query_segment_alike():
    analyzer = Analyzer()
    text = "推进两学一做学习教育常态化制度化"
    index_tokens = set(analyzer.index_text(text).split())
    assert analyzer.query(text).all_terms() <= index_tokens


def test_query_drops_stopwords_and_punctuation():
    q = Analyzer().query("三会一课 的 要求？！")
    assert q.all_terms() == {"三会一课", "要求"}
    assert Analyzer().query("的了吗").is_empty


def test_question_words_are_cut_out_of_queries_with_their_bigrams_and_characters():
    q = Analyzer().query("原承租人是否可以优先续租？")
    assert q.all_terms() >= {"承租人", "优先", "续租"}
    assert not {"是否", "可以"} & (q.all_terms() | set(q.phrase) | set(q.bigrams))
    assert not {"否", "可"} & set(q.chars)
    assert "否优" not in q.bigrams and "人是" not in q.bigrams  # no pair across a question word
    assert q.chars == ("原", "承", "租", "人", "优", "先", "续")  # stop characters (是) are left out too
    # a query made only of question words still searches for them
    assert Analyzer().query("多少").all_terms() == {"多少"}
    assert Analyzer(question_words=frozenset()).query("是否可以").all_terms() >= {"是否", "可以"}


def test_synonyms_expand_in_both_directions():
    analyzer = Analyzer(synonyms=[["党员大会", "全体党员会议"]])
    for q in ("党员大会", "全体党员会议"):
        groups = [set(g) for g in analyzer.query(q).groups]
        assert {"党员大会", "全体党员会议"} in groups


def test_doc_numbers():
    assert normalize_doc_number("国办发〔2024〕12号") == normalize_doc_number("国办发[2024] 12号") == "国办发[2024]12号"
    assert find_doc_number("三会一课 国办发（2024）12号") == "国办发[2024]12号"


def test_any_string_is_analysed_without_error():
    analyzer = Analyzer()
    for text in ["", "\x00\x01", "a" * 10000, "((", "🙂", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace")]:
        analyzer.query(text)
        analyzer.tokens(text)


def test_bigrams_only_inside_cjk_runs():
    assert cjk_bigrams("党建，学习a") == ["党建", "学习"]


def test_cjk_runs_feed_the_index_the_pairs_the_query_side_sends():
    text = "党建，学习a习近平强调。x 12 好"
    assert cjk_runs(text) == ["党建", "学习", "习近平强调"]  # single characters give no pair
    pairs = [r[i : i + 2] for r in cjk_runs(text) for i in range(len(r) - 1)]
    assert pairs == [b for b in cjk_bigrams(text) if len(b) == 2]


def test_highlight_escapes_and_marks_original_text():
    assert highlight("<b>黨建</b>", ["党建"]) == "&lt;b&gt;<mark>黨建</mark>&lt;/b&gt;"


def test_best_snippet_prefers_the_passage_with_most_terms():
    filler = "无关内容。" * 60
    text = filler + "这里同时讲三会一课和主题党日。" + filler + "只讲三会一课。"
    snippet = best_snippet([("", None, text)], ["三会一课", "主题党日"], width=60)
    assert "<mark>主题党日</mark>" in snippet.html and "<mark>三会一课</mark>" in snippet.html
    assert snippet.html.count("无关内容") < 10


def test_best_snippet_reports_attachment_page_and_falls_back_to_start():
    sections = [("", None, "正文没有关键词。"), ("手册.pdf", 3, "第三页提到组织生活会。")]
    snippet = best_snippet(sections, ["组织生活会"])
    assert (snippet.source, snippet.page) == ("手册.pdf", 3)
    assert best_snippet(sections, ["不存在"]).html.startswith("正文没有关键词")


def test_query_bigrams_never_come_from_inside_or_across_a_dictionary_word():
    analyzer = Analyzer()
    assert analyzer.query("三会一课").bigrams == ()  # matched as the word only
    q = analyzer.query("落实三会一课制度")
    assert "三会一课" in q.all_terms()
    assert not {"实三", "三会", "会一", "一课", "课制"} & set(q.bigrams)
    assert {"落实", "制度"} <= set(q.bigrams)
    # an editor's word (custom or synonym) is a dictionary word too
    assert Analyzer(custom_words=["书苑平台"]).query("书苑平台").bigrams == ()
    assert Analyzer().query("书苑平台").bigrams == ("书苑", "苑平", "平台")


def test_bigram_text_cuts_at_dictionary_word_edges():
    analyzer = Analyzer()
    runs = cjk_runs(analyzer.bigram_text("开展三会一课制度和大会一般性"))
    assert runs == ["开展", "三会一课", "制度和大会一般性"]
    assert Analyzer(custom_words=()).bigram_text("三会一课") == "三会一课"


def test_collapse_repeats_keeps_what_a_reader_reads_once():
    from search.text import collapse_repeats

    assert collapse_repeats("央视网消息 央视网消息（新闻联播）\n\n导语\n导语。正文\n正文\n视频\n视频") == (
        "央视网消息（新闻联播）\n导语。正文\n视频"
    )
    assert collapse_repeats("年份\n事件\n1921\n建党") == "年份\n事件\n1921\n建党"  # different lines stay
    assert collapse_repeats("") == ""


def test_exact_terms_and_keyword_queries():
    analyzer = Analyzer()
    q = analyzer.query("党建")
    assert q.is_keyword and q.bigrams and q.exact().bigrams == () and q.exact().groups == q.groups
    assert not analyzer.query("基层党组织如何规范召开组织生活会并做好会议记录和整改落实").is_keyword
