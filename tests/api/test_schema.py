"""The OpenAPI schema: committed, served, up to date, and honoured by every response (schemathesis)."""

import json
from pathlib import Path

import pytest
from django.test import override_settings

from cms.api.openapi import build_schema, render

from .helpers import ApiClient

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "cms" / "api" / "openapi.json"
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


def test_committed_schema_is_current():
    """Fails when models or endpoints change without regenerating ``cms/api/openapi.json``
    (``python -m cms.api.openapi``)."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(build_schema())


@pytest.mark.django_db
def test_served_schema_is_the_committed_file():
    response = ApiClient().get("/api/v2/schema/")
    assert response.status_code == 200
    assert response.json() == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.mark.django_db(transaction=False)
@override_settings(SHUYUAN_API=NO_LIMITS, SHUYUAN_SEARCH=IN_MEMORY_SEARCH, SHUYUAN_SEARCH_RATE_LIMIT=None)
def test_schemathesis_finds_no_server_errors_or_schema_violations():
    """Generated requests to every operation: no 5xx, and every response matches the schema.

    Search runs on an index of the test site: generated parameters (and, for search, data that breaks
    the schema), then requests that find results, so hits and facets are checked against their types.
    """
    schemathesis = pytest.importorskip("schemathesis")
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from search import indexing
    from tests.factories import build_site

    site = build_site()
    indexing.rebuild()
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v2/schema/", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"GET /api/v2/pages/", "GET /api/v2/pages/{id}/", "GET /api/v2/search/", "POST /api/v2/auth/token/"} <= labels
    calls = []
    search_calls = []

    def explore(operation, mode=GenerationMode.POSITIVE, examples=8):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            status = case.call_and_validate(checks=checks).status_code
            calls.append(status)
            if operation.label == "GET /api/v2/search/":
                search_calls.append(status)

        run()

    for operation in operations:
        explore(operation)
    assert len(calls) > 50
    assert 200 in calls and 400 in calls

    search = next(op for op in operations if op.label == "GET /api/v2/search/")
    explore(search, examples=40)
    explore(search, GenerationMode.NEGATIVE, examples=25)
    assert {200, 400} <= set(search_calls), search_calls
    assert 500 not in search_calls and 503 not in search_calls
    article, material, red = site.articles[0], site.materials[0], site.red_sites[0]
    found = []
    for query in (
        {"q": article.title},
        {"q": material.title, "kind": ["material"], "page_size": 50},
        {"q": "学习", "sort": "date", "locale": "zh-hans", "page": 1, "page_size": 1},
        {"q": red.title, "province": [red.province], "kind": ["red_exhibition", "article"]},
        {"q": material.title, "topic": [t.name for t in material.topics.all()], "year": [str(material.issue_date.year)]},
        {"q": article.title, "date_from": "2000-01-01", "date_to": "2100-12-31", "page": 200, "page_size": 50},
        {"q": "  "},
    ):
        response = search.Case(query=query).call_and_validate(checks=checks)
        assert response.status_code == 200, (query, response.text[:300])
        found.append(len(response.json()["results"]))
    assert all(found[:5]) and found[5:] == [0, 0], found  # page 200: past the last result; "  ": empty page
