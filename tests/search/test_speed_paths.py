"""The fast paths of a search request (issue #14, item 5) keep the answers of the slow ones.

* snippets are cut from a bounded region around the first matches (search/highlight.py): they still
  mark the query's words, in the text a reader sees, wherever in a long text the words are;
* a ranking reads its candidates' ids from the ``id_key`` fast field, not from the stored documents
  (search/backends/embedded.py): the same ids, order, hits and visibility as reading the documents;
* numpy's BLAS thread pool is limited with the embedding threads (search/workers.py).

Real components: the embedded engine (tantivy, in memory), threadpoolctl on numpy's OpenBLAS.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from search import highlight
from search.backends import embedded
from search.backends.base import SearchDocument, SearchQuery
from search.backends.embedded import EmbeddedSearchBackend, id_key, id_of_key
from search.highlight import SCAN_CHARS, best_snippet

REPO = Path(__file__).resolve().parents[2]
PUBLIC = frozenset({"public"})
MEMBERS = frozenset({"public", "members"})
FILLER = "各地认真做好秋冬季节农业生产工作。\n"  # none of the query's words


def lines(n: int, start: int = 0) -> str:
    """``n`` distinct lines of filler (a reader's text says each line once: repeats are dropped)."""
    return "".join(f"第{i}条{FILLER}" for i in range(start, start + n))


# -- snippets -------------------------------------------------------------------------------------------
def test_a_word_that_is_nowhere_gives_the_start_of_the_text_and_no_mark():
    text = FILLER * 400 + "尾部"
    snippet = best_snippet([("", None, text)], {"三会一课"})
    assert "<mark>" not in snippet.html
    assert snippet.html.startswith("各地认真做好")


def test_a_word_past_the_scanned_length_of_a_section_is_not_sought():
    text = FILLER * (highlight.MAX_SECTION_CHARS // len(FILLER) + 10) + "三会一课"
    assert "<mark>" not in best_snippet([("", None, text)], {"三会一课"}).html


def test_a_word_far_into_a_long_text_is_found_and_marked():
    text = lines(700) + "支部认真落实三会一课制度。\n" + lines(200, 700)
    assert len(text) > 4 * SCAN_CHARS
    snippet = best_snippet([("", None, text)], {"三会一课"})
    assert "<mark>三会一课</mark>" in snippet.html
    assert snippet.html.endswith("…")
    assert snippet.html.startswith("支部认真落实")  # from the start of its line


@pytest.mark.parametrize("shift", range(-6, 7))
def test_a_word_across_a_chunk_boundary_is_still_found(shift):
    """The text is searched chunk by chunk after the head: a word cut by any chunk edge is found."""
    word = "主题党日活动"
    for edge in (SCAN_CHARS, SCAN_CHARS + highlight._CHUNK - len(word)):
        at = edge + shift
        text = "甲" * at + word + "乙" * 5000
        snippet = best_snippet([("", None, text)], {word})
        assert f"<mark>{word}</mark>" in snippet.html, (edge, shift)


def test_a_traditional_text_is_matched_and_shown_as_written():
    text = lines(400) + "黨員大會在禮堂召開。\n"
    snippet = best_snippet([("", None, text)], {"党员大会"})
    assert "<mark>黨員大會</mark>" in snippet.html


def test_a_far_snippet_shows_reader_text_once_and_escaped():
    text = lines(400) + "央视网消息 央视网消息：<b>主题党日</b>开展。\n" + "<b>主题党日</b>开展。\n" * 3
    html = best_snippet([("", None, text)], {"主题党日"}).html
    assert html.count("央视网消息") == 1
    assert html.count("<mark>主题党日</mark>") == 1, html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_the_passage_with_most_distinct_words_wins_in_the_head():
    text = "只讲三会一课。" + "无关内容。" * 20 + "既讲三会一课又讲主题党日。" + "无关内容。" * 20
    snippet = best_snippet([("", None, text)], ["三会一课", "主题党日"], width=40)
    assert "<mark>主题党日</mark>" in snippet.html and "<mark>三会一课</mark>" in snippet.html


def test_an_attachment_page_with_the_words_is_named():
    sections = [("", None, lines(300)), ("手册.pdf", 7, lines(300) + "第七页讲组织生活会。")]
    snippet = best_snippet(sections, {"组织生活会"})
    assert (snippet.source, snippet.page) == ("手册.pdf", 7)
    assert "<mark>组织生活会</mark>" in snippet.html


def test_the_pattern_is_compiled_once_per_set_of_terms():
    highlight._compiled.cache_clear()
    for _ in range(5):
        best_snippet([("", None, "三会一课")], ["三会一课", "党日"])
        best_snippet([("", None, "三会一课")], {"党日", "三会一课"})
    assert highlight._compiled.cache_info().misses == 1


# -- ids from the fast field ---------------------------------------------------------------------------
@pytest.mark.parametrize("doc_id", ["page:1", "page:0", "document:16777215", "news:42", "a_b:7"])
def test_usual_ids_decode_from_their_key_alone(doc_id):
    assert id_key(doc_id) > 0 and id_of_key(id_key(doc_id)) == doc_id


@pytest.mark.parametrize("doc_id", ["page:01", "page:16777216", "PAGE:1", "page:²", "page:", "toolongprefix:1",
                                    "news:20220924-00", "a", ":1", "页面:1", "page:" + "9" * 5000])
def test_other_ids_are_hashed_and_never_decoded_by_guess(doc_id):
    key = id_key(doc_id)
    assert key < 0
    embedded._hashed_ids.pop(key, None)
    assert id_of_key(key) is None  # only a stored document can tell, until learnt
    assert embedded._learn_id(key, doc_id) == doc_id and id_of_key(key) == doc_id
    assert embedded._learn_id(id_key("other"), doc_id) == doc_id and id_of_key(id_key("other")) != doc_id


def _docs() -> list[SearchDocument]:
    ids = ["page:1", "page:2", "document:3", "news:20220924-00", "news:20220924-01", "x", "page:007", "page:8"]
    out = []
    for n, doc_id in enumerate(ids):
        out.append(SearchDocument(
            id=doc_id, kind="article", title=f"支部党建工作第{n}期", body=("党建 " * (n + 1)) + FILLER * (n + 1) + "组织生活会。",
            audience="members" if n % 3 == 2 else "public",
        ))
    return out


def _stored_ids(backend: EmbeddedSearchBackend, query: SearchQuery, depth: int) -> list[tuple[str, float]]:
    """The ranking as the engine read it before: each candidate's stored document."""
    terms = backend._exact_first(query, backend.analyzer.query(query.q))
    _terms, final, _by_date, _hl = backend._prepare(query, terms)
    searcher = backend._open().searcher()
    return [(searcher.doc(addr).get_first("id"), float(score)) for score, addr in searcher.search(final, depth).hits]


@pytest.mark.parametrize("audiences", [PUBLIC, MEMBERS])
def test_the_ranked_window_reads_the_same_ids_in_the_same_order(tmp_path, audiences):
    backend = EmbeddedSearchBackend({"PATH": str(tmp_path / "index")})
    backend.rebuild(_docs())
    embedded._hashed_ids.clear()  # a fresh process: hashed ids are learnt from stored documents
    query = SearchQuery(q="党建", audiences=audiences, page_size=3)
    terms = backend.analyzer.query(query.q)
    for _ in range(2):  # once learning the hashed ids, once from the fast field alone
        window = backend.ranked_window(query, terms, 50)
        assert window.candidates == _stored_ids(backend, query, 50)
    visible = {d.id for d in _docs() if d.audience in audiences}
    assert {i for i, _ in window.candidates} == visible
    # the page's hits are the plain search's, snippets and all
    plain = backend.search(query)
    hits = backend.window_hits(query, terms, window, range(0, 3))
    assert [(h.id, h.title_html, h.snippet_html) for h in hits] == [(h.id, h.title_html, h.snippet_html) for h in plain.hits]
    assert window.total == plain.total
    assert backend.admitted_ids(query, ["page:007", "x", "document:3", "nothere", "news:20220924-01"]) == [
        i for i in ["page:007", "x", "document:3", "news:20220924-01"] if i in visible
    ]


def test_a_write_keeps_fast_ids_right(tmp_path):
    backend = EmbeddedSearchBackend({"PATH": str(tmp_path / "index")})
    backend.rebuild(_docs())
    backend.delete(["page:2", "x"])
    backend.index([SearchDocument(id="page:2", kind="article", title="党建新篇", body="党建。")])
    query = SearchQuery(q="党建", audiences=MEMBERS)
    window = backend.ranked_window(query, backend.analyzer.query("党建"), 50)
    assert window.candidates == _stored_ids(backend, query, 50)
    assert "x" not in dict(window.candidates) and "page:2" in dict(window.candidates)


def test_an_index_of_the_previous_schema_asks_for_a_rebuild(tmp_path):
    backend = EmbeddedSearchBackend({"PATH": str(tmp_path / "index")})
    backend.rebuild(_docs())
    old = f"v{embedded.SCHEMA_VERSION - 1}-20240101000000-1-1"
    (tmp_path / "index" / old).mkdir()
    (tmp_path / "index" / "CURRENT").write_text(old)
    health = EmbeddedSearchBackend({"PATH": str(tmp_path / "index")}).health()
    assert not health.ok and "rebuild" in health.detail


# -- numpy's BLAS threads ------------------------------------------------------------------------------
def _blas_threads_after_policy(extra_env: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "OPENBLAS_", "SHUYUAN_EMBED"))}
    env.update({"DJANGO_SETTINGS_MODULE": "cms.settings.test", "GRANIAN_WORKERS": "1", **extra_env})
    code = ("import numpy, threadpoolctl, search.workers as w; w.apply_thread_policy(cores=4); "
            "print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_an_operators_blas_thread_count_is_kept():
    assert _blas_threads_after_policy({"OPENBLAS_NUM_THREADS": "2"}) == "[2]"


def test_the_policy_gives_numpys_blas_one_thread():
    pytest.importorskip("threadpoolctl")
    assert _blas_threads_after_policy({}) == "[1]"


# -- facets and total counted once ------------------------------------------------------------------------
def test_candidates_by_meaning_that_match_the_words_deeper_are_counted_once():
    """The word window (2 deep) leaves most word matches out; the candidates found by meaning include
    some of those: each is one hit, one in ``total`` and one in the facets (an exact last page)."""
    from tests.search.test_hybrid import all_pages, doc, hybrid, ids

    topics = ["党课", "学习教育", "驾驶", "档案", "补偿", "支部"]
    docs = [doc(f"page:{i}", f"{topics[i % 6]}通知{i}", f"关于{topics[i % 6]}的通知，请认真落实第{i}项要求。" + ("支部" if i % 4 else ""),
                audience="members" if i % 7 == 0 else "public", kind="article" if i % 2 else "material") for i in range(60)]
    engine, backend = hybrid(docs, window=2, vector_depth=8)
    q = "支部怎样组织党员学习教育和开车培训"
    words = {h.id for h in engine.search(SearchQuery(q=q, audiences=PUBLIC, page_size=100)).hits}
    whole = backend.search(SearchQuery(q=q, audiences=PUBLIC, page_size=100, facets=["kind", "year"]))
    shown = ids(whole)
    assert len(shown) == len(set(shown)) == whole.total
    assert set(shown) - words and set(shown[2:]) & words  # found by meaning; and word matches past the window
    kinds = {d.id: d.kind for d in docs}
    assert dict(whole.facets["kind"]) == {k: [kinds[i] for i in shown].count(k) for k in {kinds[i] for i in shown}}
    assert whole.facets["year"] == []
    for size in (3, 7):
        first = backend.search(SearchQuery(q=q, audiences=PUBLIC, page_size=size, facets=["kind"]))
        assert (first.total, first.facets["kind"]) == (whole.total, whole.facets["kind"])
        seen, last = all_pages(backend, q, PUBLIC, page_size=size, facets=["kind"])
        assert seen == shown and last.total == len(seen)
    assert all(int(i.split(":")[1]) % 7 for i in shown)  # members-only never counted for the public
