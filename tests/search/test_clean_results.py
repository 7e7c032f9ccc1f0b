"""Clean results (issue #14, item 3), as a member sees them: a dictionary word is not found through a
bigram that straddles its edge, snippets show the text a reader sees, each page is one hit in the
caller's language, and the 语言 facet says how many matches each language has.

The engine is the real embedded one (tantivy, in memory), as in the other search tests; the
engine-level tests also run on Elasticsearch when ELASTICSEARCH_URL names a server (the ``make`` fixture).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import TestCase, override_settings
from django.urls import reverse
from wagtail.models import Locale, Page

from cms import visibility
from search import indexing
from search.backends.base import SearchDocument, SearchQuery
from search.backends.embedded import EmbeddedSearchBackend
from search.documents import document_id
from search.highlight import best_snippet
from search.text import Analyzer
from tests.api.helpers import ApiClient
from tests.factories import ArticlePageFactory, build_site

IN_MEMORY = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}
URL = "/api/v2/search/"

UN_NEWS = SearchDocument(
    id="page:1",
    kind="article",
    title="多国领导人在联大谴责美国霸权行径",
    body="第七十九届联合国大会一般性辩论在纽约举行，多国领导人发言。",
)
PARTY_LIFE = SearchDocument(
    id="page:2",
    kind="article",
    title="支部组织生活",
    body="认真落实三会一课制度，按时召开支部党员大会。",
)
ONLINE_CLASS = SearchDocument(id="page:3", kind="article", title="网课制作指南", body="录制网课制作的基本步骤。")


def engine(*docs: SearchDocument) -> EmbeddedSearchBackend:
    backend = EmbeddedSearchBackend({"IN_MEMORY": True})
    backend.rebuild(list(docs))
    return backend


@pytest.fixture(params=["embedded", "elasticsearch"])
def make(request, tmp_path):
    """``make(*docs)``: an engine holding ``docs``, on each engine of the contract suite (Elasticsearch
    when ELASTICSEARCH_URL names a server, else skipped: its requests are checked in
    test_elasticsearch_requests.py, exact-first included)."""
    from tests.search.conftest import _cleanup, make_engine

    made = []

    def build(*docs: SearchDocument):
        if request.param == "embedded":
            return engine(*docs)
        backend = make_engine("elasticsearch", tmp_path, Analyzer())
        made.append(backend)
        backend.rebuild(list(docs))
        return backend

    yield build
    for backend in made:
        _cleanup(backend)


def found(backend, q: str) -> list[str]:
    return [hit.id for hit in backend.search(SearchQuery(q=q, page_size=50)).hits]


# -- a dictionary word is matched as a word ------------------------------------------------------------


def test_a_dictionary_word_does_not_find_a_bigram_across_other_words(make):
    backend = make(UN_NEWS, PARTY_LIFE)
    assert found(backend, "三会一课") == [PARTY_LIFE.id]  # not 大会一般性 through 会一
    assert found(backend, "三會一課") == [PARTY_LIFE.id]  # traditional, the same


def test_no_bigram_spans_the_edge_of_a_dictionary_word_in_the_query(make):
    backend = make(UN_NEWS, PARTY_LIFE, ONLINE_CLASS)
    hits = found(backend, "三会一课制度")
    assert ONLINE_CLASS.id not in hits  # 课制 spans the edge of 三会一课
    assert UN_NEWS.id not in hits
    assert hits[0] == PARTY_LIFE.id


def test_bigrams_still_find_words_the_dictionary_does_not_know(make):
    """The fallback keeps working outside dictionary words: a name jieba cuts differently is found."""
    backend = make(UN_NEWS, PARTY_LIFE, ONLINE_CLASS)
    assert UN_NEWS.id in found(backend, "联合国大会一般性辩论")
    assert found(backend, "网课制作")[0] == ONLINE_CLASS.id


# -- snippets: the text a reader sees ------------------------------------------------------------------


def test_snippet_says_each_line_once_and_no_word_twice_in_a_row():
    text = "央视网消息 央视网消息（新闻联播）：各地开展主题党日活动。\n各地开展主题党日活动。\n各地开展主题党日活动。"
    html = best_snippet([("", None, text)], {"主题党日"}).html
    assert html.count("央视网消息") == 1
    assert html.count("<mark>主题党日</mark>") == 1, html
    summary_then_body = "各地开展主题党日活动\n各地开展主题党日活动，党员踊跃参加。"
    assert best_snippet([("", None, summary_then_body)], {"党员"}).html.count("各地开展") == 1
    # without a match, the start of the text is shown the same way
    assert best_snippet([("", None, text)], {"无关"}).html.count("央视网消息") == 1


class ReaderTextTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=1)

    def test_page_text_leaves_out_block_labels_and_says_each_part_once(self):
        page = ArticlePageFactory(
            parent=self.tree.news,
            title="基层党建工作简报",
            summary="各支部按期召开组织生活会。",
            body=[
                ("heading", {"text": "一、工作进展", "level": "h2"}),
                ("paragraph", "<p>各支部按期召开组织生活会。</p>"),
                ("image", {"image": None, "caption": "示例配图"}),
                ("quote", {"text": "不忘初心", "attribution": "习近平"}),
                ("paragraph", "<p>各支部按期召开组织生活会。</p>"),
            ],
        )
        body = page.search_document_fields()["body"]
        assert "二级标题" not in body and "h2" not in body
        assert "示例配图" not in body
        for seen in ("一、工作进展", "不忘初心", "习近平"):
            assert seen in body
        assert body.count("各支部按期召开组织生活会") == 1, body


# -- one hit per page, in the caller's language; the 语言 facet -----------------------------------------


@override_settings(SHUYUAN_SEARCH=IN_MEMORY, SHUYUAN_SEARCH_RATE_LIMIT=None)
class OneHitPerPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.tree = build_site(n_articles=1)
        source = ArticlePageFactory(
            parent=cls.tree.news, title="党建工作要点", date=dt.date(2025, 5, 1),
            body=[("heading", {"text": "党建引领发展", "level": "h2"}), ("paragraph", "<p>党建工作要点全文。</p>")],
        )
        cls.copies = {"zh-hans": source}
        for code, title in (("zh-hant", "黨建工作要點"), ("en", "党建 work plan")):
            locale = Locale.objects.get_or_create(language_code=code)[0]
            copy = source.copy_for_translation(locale, copy_parents=True)
            copy.title = title
            copy.save_revision().publish()
            cls.copies[code] = copy
        # copy_parents makes the home and column copies aliases of the zh-hans pages: untranslated copies,
        # which hide everything below them (cms.visibility). Here they stand for translated ones.
        Page.objects.filter(alias_of__isnull=False).exclude(locale__language_code="zh-hans").update(alias_of=None)
        cls.member = get_user_model().objects.create_user("clean-member", password="pw")
        cls.member.groups.add(visibility.members_group())

    def setUp(self):
        cache.clear()
        indexing.rebuild()

    def ids(self, data) -> list[str]:
        return [hit["id"] for hit in data["results"]]

    def api(self, headers=None, **params):
        response = ApiClient().get(URL, params, headers=headers or {})
        self.assertEqual(response.status_code, 200, response.content[:300])
        return response

    def test_without_locale_each_page_is_one_hit_in_zh_hans(self):
        response = self.api(q="党建", page_size=50)
        ids = self.ids(response.json())
        self.assertEqual(len(ids), len(set(ids)))
        copies = {document_id(p.pk): code for code, p in self.copies.items()}
        self.assertEqual([copies[i] for i in ids if i in copies], ["zh-hans"])
        self.assertEqual(response.json()["facets"]["locale"], [{"value": "zh-hans", "count": len(ids)}])
        self.assertIn("Accept-Language", response.headers["Vary"])

    def test_the_request_language_then_an_explicit_locale_choose_the_copy(self):
        hant = self.ids(self.api(q="党建", headers={"accept-language": "zh-hant"}).json())
        self.assertIn(document_id(self.copies["zh-hant"].pk), hant)
        self.assertNotIn(document_id(self.copies["zh-hans"].pk), hant)
        asked = self.ids(self.api(q="党建", locale="en", headers={"accept-language": "zh-hant"}).json())
        self.assertEqual(asked, [document_id(self.copies["en"].pk)])
        # a language that is not a content language: zh-hans
        other = self.ids(self.api(q="党建", headers={"accept-language": "fr"}).json())
        self.assertIn(document_id(self.copies["zh-hans"].pk), other)

    def test_the_members_page_language_facet_has_its_heading_and_counts(self):
        self.client.force_login(self.member)
        response = self.client.get(reverse("search:study", kwargs={"lang": "zh-hans"}), {"q": "党建工作要点"})
        self.assertEqual(response.status_code, 200)
        results = response.context["outcome"].results
        self.assertEqual(dict(results.facets["locale"]), {"zh-hans": results.total, "zh-hant": 1, "en": 1})
        html = response.content.decode()
        facets = html[html.index('class="facets"') : html.index('class="results"')]
        section = facets[facets.index("<h2>语言</h2>") :]
        for code, name in (("zh-hans", "简体中文"), ("zh-hant", "繁體中文")):
            self.assertIn(f'locale={code}"', section)
            self.assertIn(name, section)
        self.assertIn('aria-current="true" lang="zh-hans"', section)
        ids = [hit.id for hit in results.hits]
        self.assertEqual(ids[0], document_id(self.copies["zh-hans"].pk))
        self.assertNotIn(document_id(self.copies["zh-hant"].pk), ids)
        self.assertNotIn("二级标题", results.hits[0].snippet_html)


def test_query_side_bigrams_skip_dictionary_words():
    analyzer = Analyzer()
    assert analyzer.query("三会一课").bigrams == ()
    assert "课制" not in analyzer.query("三会一课制度").bigrams
    assert analyzer.bigram_text("开展三会一课制度").split() == ["开展", "三会一课", "制度"]


def test_a_short_keyword_query_drops_partial_bigram_matches_when_its_words_find_enough(make):
    from search.text import EXACT_ENOUGH

    exact = [SearchDocument(id=f"page:{10 + i}", kind="article", title=f"基层工作第{i}期", body="加强党建工作。") for i in range(EXACT_ENOUGH)]
    partial = SearchDocument(id="page:99", kind="article", title="政党建设", body="各政党建设情况。")  # 党建 only across 政党|建设
    hits = found(make(*exact, partial), "党建")
    assert partial.id not in hits and len(hits) == EXACT_ENOUGH
    # fewer exact hits than that: the bigram fallback still comes in, after them
    few = make(exact[0], partial)
    assert found(few, "党建") == [exact[0].id, partial.id]
    window = few.ranked_window(SearchQuery(q="党建"), few.analyzer.query("党建"), 10)
    assert [doc_id for doc_id, _score in window.candidates] == [exact[0].id, partial.id]


def test_the_index_holds_no_bigram_across_a_dictionary_word():
    backend = engine(SearchDocument(id="page:5", kind="article", title="支部", body="开展三会一课"))
    assert backend.to_fields(SearchDocument(id="page:5", kind="article", title="支部", body="开展三会一课"))["bigrams"] == [
        "支部", "开展", "三会一课",
    ]
    assert found(backend, "展三") == []
