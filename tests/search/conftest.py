"""Engines for the contract suite: embedded always, Elasticsearch when ELASTICSEARCH_URL is set."""

from __future__ import annotations

import os
import uuid

import pytest

from search.backends.embedded import EmbeddedSearchBackend
from search.text import Analyzer

ENGINES = ["embedded", "elasticsearch"]


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

    return ElasticsearchSearchBackend(
        {"URLS": [url], "INDEX": f"shuyuan-test-{uuid.uuid4().hex[:8]}", "ANALYZER": os.environ.get("ELASTICSEARCH_ANALYZER", "whitespace"),
         "REFRESH": True},
        analyzer=analyzer,
    )


def _cleanup(engine) -> None:
    client = getattr(engine, "client", None)
    if client is not None:
        client.indices.delete(index=f"{engine.alias}-*", ignore_unavailable=True, allow_no_indices=True)


@pytest.fixture(params=ENGINES)
def engine(request, tmp_path, analyzer):
    backend = make_engine(request.param, tmp_path, analyzer)
    yield backend
    _cleanup(backend)
