"""Engines for the contract suite: embedded always, Elasticsearch when ELASTICSEARCH_URL is set; each
also with semantic re-ranking on (the real model), since re-ranking must keep every promise too."""

from __future__ import annotations

import os
import uuid

import pytest

from search.backends.embedded import EmbeddedSearchBackend
from search.text import Analyzer

ENGINES = ["embedded", "elasticsearch", "embedded+rerank", "elasticsearch+rerank"]


@pytest.fixture(scope="session")
def embedder():
    from search.semantic import E5Embedder

    reason = E5Embedder.available()
    if reason:
        pytest.skip(f"semantic re-ranking model unavailable: {reason}")
    return E5Embedder()


def with_reranker(engine, embedder, **options):
    """The engine wrapped by a re-ranker (vectors in memory) whose vectors follow every write, as
    search.indexing keeps them in step with the real index."""
    from search.backends.reranked import RerankedSearchBackend
    from search.semantic import MemoryVectorStore, Reranker

    reranker = Reranker(embedder, MemoryVectorStore(), **options)
    backend = RerankedSearchBackend(engine, reranker)
    index, delete, rebuild = backend.index, backend.delete, backend.rebuild

    def _index(docs):
        docs = list(docs)
        n = index(docs)
        reranker.embed(docs)
        return n

    def _delete(ids):
        ids = list(ids)
        delete(ids)
        reranker.forget(ids)

    def _rebuild(docs, progress=None):
        docs = list(docs)
        n = rebuild(docs, progress=progress)
        reranker.prune({d.id for d in docs})
        reranker.embed(docs)
        return n

    backend.index, backend.delete, backend.rebuild = _index, _delete, _rebuild
    return backend


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return Analyzer(custom_words=["三会一课", "两学一做", "主题党日"], synonyms=[["党员大会", "全体党员会议"]])


def make_engine(name: str, tmp_path, analyzer: Analyzer):
    if name == "embedded":
        return EmbeddedSearchBackend({"PATH": str(tmp_path / "index")}, analyzer=analyzer)
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is not set: no Elasticsearch server to run the contract suite against "
                    "(the requests the engine sends are still checked in test_elasticsearch_requests.py)")
    from search.backends.elasticsearch import ElasticsearchSearchBackend
    from tests.search.es_fake import validating_node_class

    return ElasticsearchSearchBackend(
        {"URLS": [url], "INDEX": f"shuyuan-test-{uuid.uuid4().hex[:8]}", "ANALYZER": os.environ.get("ELASTICSEARCH_ANALYZER", "whitespace"),
         "REFRESH": True,
         # every request is checked against Elastic's published API specification before it is sent
         "CLIENT_OPTIONS": {"node_class": validating_node_class()}},
        analyzer=analyzer,
    )


def pytest_terminal_summary(terminalreporter):
    """How many Elasticsearch requests (and distinct bodies) the specification checked this session."""
    from tests.search import es_fake

    validator = es_fake._VALIDATOR
    if validator is not None and validator.checked:
        terminalreporter.write_line(
            f"Elasticsearch API specification: {validator.checked} requests checked, "
            f"{len(validator.distinct)} distinct (method, path, body), strictly"
        )


def _cleanup(engine) -> None:
    """Delete the test's indices by name: servers refuse wildcard deletes by default
    (``action.destructive_requires_name``, true since Elasticsearch 8)."""
    if getattr(engine, "client", None) is not None:
        names = engine.indices()
        if names:
            engine.client.indices.delete(index=",".join(names), ignore_unavailable=True)


@pytest.fixture
def cluster_node():
    """The recording node in front of a modelled Elasticsearch 8 cluster; the test fails if the API
    specification refused any body it sent."""
    from tests.search.es_fake import Cluster, RecordingNode

    RecordingNode.requests, RecordingNode.refused, RecordingNode.server_version = [], [], 8
    RecordingNode.responder = Cluster()
    yield RecordingNode
    refused = list(RecordingNode.refused)
    RecordingNode.requests, RecordingNode.refused, RecordingNode.responder = [], [], None
    assert not refused, refused[0][1]


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path, analyzer):
    name, _, rerank = request.param.partition("+")
    backend = make_engine(name, tmp_path, analyzer)
    engine = backend
    if rerank:
        # a short MIN_CHARS so that the suite's short queries go through the re-ranked path too
        backend = with_reranker(engine, request.getfixturevalue("embedder"), min_chars=2)
    yield backend
    _cleanup(engine)
