"""One way to declare a backend (cms/backends.py): every kind is declared, loaded and refused alike.

Search engines, the re-ranker, text extractors and the publish target are all
``{"BACKEND": "dotted.path", "OPTIONS": {...}}``; a bad declaration is an ImproperlyConfigured that
names the setting, raised by the system checks at start-up; a built backend is kept per process and
forgotten when its setting changes.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from cms.backends import build_backend, load_backend
from media.extractors.base import BaseTextExtractor
from media.extractors.default import DefaultTextExtractor
from media.extractors.loader import get_text_extractor
from search.backends.base import SearchDocument, SearchQuery
from search.backends.elasticsearch import ElasticsearchSearchBackend
from search.backends.embedded import EmbeddedSearchBackend
from search.backends.reranked import RerankedSearchBackend
from search.checks import check_search_backends, check_text_extractors
from search.loader import build_search_backend
from tests.search.es_fake import RecordingNode, default_responder

IN_MEMORY = {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}


# -- the loader ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("search", "message"),
    [
        ({"default": {"BACKEND": "search.backends.nope"}}, 'SHUYUAN_SEARCH["default"]: BACKEND \'search.backends.nope\' cannot be imported'),
        ({"default": {"OPTIONS": {}}}, 'SHUYUAN_SEARCH["default"] needs a BACKEND'),
        ({"default": {"BACKEND": "search.semantic.E5Reranker"}}, "is not a search engine (a search.backends.base.BaseSearchBackend subclass)"),
        ({"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {}}}, "OPTIONS['PATH']"),
        ({"default": {"BACKEND": "search.backends.embedded", "OPTIONS": ["IN_MEMORY"]}}, "OPTIONS must be a dict"),
        ({"default": {"BACKEND": "search.backends.embedded", "OPTION": {"IN_MEMORY": True}}}, "unknown keys ['OPTION']"),
        ({"default": {**IN_MEMORY, "OPTIONS": {"IN_MEMORY": True, "TITLE_BOOST": "high"}}}, "OPTIONS['TITLE_BOOST'] must be a number"),
        ({"default": {**IN_MEMORY, "RERANK": {"BACKEND": "search.semantic.MemoryVectorStore"}}}, 'SHUYUAN_SEARCH["default"]["RERANK"]: BACKEND'),
        ({"other": IN_MEMORY}, 'SHUYUAN_SEARCH must be a dict with a "default" entry'),
    ],
)
def test_a_bad_search_declaration_names_the_setting_at_start_up(search, message):
    with override_settings(SHUYUAN_SEARCH=search):
        with pytest.raises(ImproperlyConfigured) as error:
            build_search_backend()
        assert message in str(error.value)
        [problem] = check_search_backends()
        assert message in problem.msg and problem.id in ("search.E001", "search.E002")


@pytest.mark.parametrize(
    ("extractors", "message"),
    [
        ({"default": {"BACKEND": "media.extractors.nope"}}, 'SHUYUAN_TEXT_EXTRACTORS["default"]: BACKEND \'media.extractors.nope\' cannot be imported'),
        ({"default": {"BACKEND": "search.backends.embedded.EmbeddedSearchBackend"}}, "is not a text extractor"),
        ({"default": {"BACKEND": "media.extractors.default", "OPTIONS": {"MAX_PAGES": "many"}}}, 'SHUYUAN_TEXT_EXTRACTORS["default"] (media.extractors.default)'),
        ({"pdf": {"BACKEND": "media.extractors.pdf.PdfTextExtractor"}}, '"default" entry'),
    ],
)
def test_a_bad_extractor_declaration_names_the_setting_at_start_up(extractors, message):
    with override_settings(SHUYUAN_TEXT_EXTRACTORS=extractors):
        with pytest.raises(ImproperlyConfigured) as error:
            get_text_extractor()
        assert message in str(error.value)
        [problem] = check_text_extractors()
        assert message in problem.msg and problem.id == "search.E003"


def test_the_shipped_settings_pass_the_checks():
    assert check_search_backends() == []
    assert check_text_extractors() == []


def test_a_module_or_a_class_may_be_named():
    by_module = build_backend({"BACKEND": "media.extractors.text"}, BaseTextExtractor, "X", kind="text extractor", module_attr="TextExtractor")
    by_class = build_backend({"BACKEND": "media.extractors.text.PlainTextExtractor", "OPTIONS": None}, BaseTextExtractor, "X",
                             kind="text extractor", module_attr="TextExtractor")
    assert type(by_module) is type(by_class)


def test_a_backend_is_built_once_and_again_when_its_setting_changes():
    declared = {"default": {"BACKEND": "media.extractors.default", "OPTIONS": {"MAX_PAGES": 7}}}
    with override_settings(SHUYUAN_TEXT_EXTRACTORS=declared):
        first = get_text_extractor()
        assert isinstance(first, DefaultTextExtractor) and first.limits.max_pages == 7
        assert get_text_extractor() is first
        with override_settings(SHUYUAN_TEXT_EXTRACTORS={"default": {"BACKEND": "media.extractors.default", "OPTIONS": {"MAX_PAGES": 9}}}):
            assert get_text_extractor().limits.max_pages == 9
        assert get_text_extractor().limits.max_pages == 7  # the restored setting, built anew
        # another setting changing leaves it alone
        with override_settings(SHUYUAN_SEARCH={"default": IN_MEMORY}):
            again = get_text_extractor()
        assert again is get_text_extractor()


def test_load_backend_builds_under_a_lock_once():
    calls = []

    def build():
        calls.append(1)
        return object()

    with override_settings(SHUYUAN_TEST_BACKEND={"BACKEND": "x"}):
        one = load_backend("SHUYUAN_TEST_BACKEND", "a", build=build)
        assert load_backend("SHUYUAN_TEST_BACKEND", "a", build=build) is one
        assert load_backend("SHUYUAN_TEST_BACKEND", "b", build=build) is not one
    assert len(calls) == 2
    with override_settings(SHUYUAN_TEST_BACKEND={}):
        assert load_backend("SHUYUAN_TEST_BACKEND", "a", build=build) is not one


def test_option_defaults_are_the_backend_classes():
    """Settings set what differs from a default, never the default again (each default written once)."""
    from django.conf import settings

    from deploy.conf import DEFAULTS

    for alias, entry in settings.SHUYUAN_TEXT_EXTRACTORS.items():
        assert not {"MAX_BYTES", "MAX_PAGES", "TIMEOUT", "MAX_CHARS"} & set(entry.get("OPTIONS", {})), alias
    for name, value in settings.SHUYUAN_PUBLISH.items():
        assert DEFAULTS[name] != value, name


# -- ranking options: read once, by the engine base class ---------------------------------------------
def test_every_engine_reads_the_shared_ranking_options_alike():
    options = {"TITLE_BOOST": "2.5", "PHRASE_SLOP": 5, "CHAR_WEIGHT": 0}
    embedded = EmbeddedSearchBackend({"IN_MEMORY": True, **options})
    es = ElasticsearchSearchBackend({"URLS": ["http://es.invalid:9200"], **options})
    assert embedded.ranking == es.ranking
    assert (embedded.ranking.title_boost, embedded.ranking.phrase_slop, embedded.ranking.char_weight) == (2.5, 5, 0.0)
    assert embedded.ranking.bigram_weight == 1.0  # an unset option keeps its default


# -- re-ranking wraps any engine -----------------------------------------------------------------------
class ReversingReranker:
    """A stand-in for the hybrid stage (no model, no vectors): reverses the window of word hits, for
    questions of 2 letters or more."""

    window = 3
    vector_depth = 0

    def __init__(self):
        self.listeners = []

    def applies(self, query, terms):
        return query.sort == "relevance" and bool(terms.text) and query.offset < self.window

    def query_vector(self, q):
        return None

    def widens(self, terms):
        return False

    def arrange(self, words, vectors, sims):
        return [*reversed(words[: self.window]), *words[self.window :]], []


DOCS = [
    SearchDocument(id=f"page:{i}", kind="material", title=f"党员教育{'学习' * (5 - i)}", body="党员教育" * (5 - i))
    for i in range(5)
]


def ids(results):
    return [h.id for h in results.hits]


def test_the_wrapper_reorders_the_window_of_the_embedded_engine():
    engine = EmbeddedSearchBackend({"IN_MEMORY": True})
    engine.rebuild(DOCS)
    wrapped = RerankedSearchBackend(engine, ReversingReranker())
    plain = engine.search(SearchQuery(q="党员教育学习", page_size=10, facets=["kind"]))
    reranked = wrapped.search(SearchQuery(q="党员教育学习", page_size=10, facets=["kind"]))
    assert ids(reranked) == [*reversed(ids(plain)[:3]), *ids(plain)[3:]]
    assert (reranked.total, reranked.facets) == (plain.total, plain.facets)
    # paging: the window's second page, then the engine's order
    assert ids(wrapped.search(SearchQuery(q="党员教育学习", page_size=2, page=2))) == [ids(plain)[0], ids(plain)[3]]
    # what it does not apply to is the engine's own answer
    assert ids(wrapped.search(SearchQuery(q="党员教育学习", sort="date"))) == ids(engine.search(SearchQuery(q="党员教育学习", sort="date")))
    # writes, health and what only this engine has go to the engine
    wrapped.delete(["page:0"])
    assert wrapped.health().documents == 4 and wrapped.document_ids() == {d.id for d in DOCS[1:]}


def test_the_wrapper_reorders_the_window_of_the_elasticsearch_engine():
    RecordingNode.requests = []
    engine = ElasticsearchSearchBackend({"URLS": ["http://es.invalid:9200"], "INDEX": "shuyuan", "CLIENT_OPTIONS": {"node_class": RecordingNode}})
    scores = {"page:1": 9.0, "page:2": 8.0, "page:3": 7.0, "page:4": 6.0}

    def responder(req):
        if not req.path.split("?")[0].endswith("/_search"):
            return default_responder(req)
        wanted = next((f["terms"]["id"] for f in req.body["query"]["bool"]["filter"] if "id" in f.get("terms", {})), None)
        if wanted is None:
            hits = [{"_id": i, "_score": s, "_source": {"id": i}} for i, s in scores.items()]
            return 200, {"hits": {"total": {"value": 4, "relation": "eq"}, "hits": hits}}
        hits = [{"_id": d.id, "_score": 1.0, "_source": engine.to_source(d)} for d in DOCS if d.id in wanted]
        return 200, {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}

    RecordingNode.responder = responder
    try:
        res = RerankedSearchBackend(engine, ReversingReranker()).search(SearchQuery(q="党员教育学习", page_size=2))
    finally:
        RecordingNode.responder = None
    assert ids(res) == ["page:3", "page:2"] and [h.score for h in res.hits] == [7.0, 8.0]
    assert res.total == 4
    window, page = [r.body for r in RecordingNode.requests if r.path.split("?")[0].endswith("/_search")]
    assert window["size"] == 3 and window["_source"] == ["id"]


def test_the_loader_wraps_the_declared_engine_and_never_attaches_a_reranker():
    from unittest import mock

    from search.semantic import TUNED, E5Embedder

    declared = {"default": {**IN_MEMORY, "RERANK": {"BACKEND": "search.semantic.E5Reranker", "OPTIONS": {"STORE": "memory", "WINDOW": 7}}}}
    with mock.patch.object(E5Embedder, "available", staticmethod(lambda: "")), override_settings(SHUYUAN_SEARCH=declared):
        backend = build_search_backend()
    assert isinstance(backend, RerankedSearchBackend) and isinstance(backend.engine, EmbeddedSearchBackend)
    assert backend.reranker.window == 7 and backend.reranker.weight == TUNED["weight"]  # the unset options keep the tuned defaults
    assert backend.capabilities == backend.engine.capabilities and backend.engine.reranker is None
    with pytest.raises(AttributeError):
        backend.engine.reranker = backend.reranker  # re-ranking wraps an engine; it is never attached to one
    with override_settings(SHUYUAN_SEARCH={"default": {**IN_MEMORY, "RERANK": None}}):
        assert type(build_search_backend()) is EmbeddedSearchBackend
