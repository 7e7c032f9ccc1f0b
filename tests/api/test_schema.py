"""The OpenAPI schema: committed, served, up to date, and honoured by every response (schemathesis).

Schemathesis runs in-process with every check it has (``--checks all``): no 5xx; every status,
content type, header and body as documented; every request the schema allows is accepted (no 400),
and every request it forbids is refused; undeclared methods get a 405 with ``Allow``.
"""

import json
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings

from cms.api.openapi import build_schema, render

from .helpers import ApiClient

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "cms" / "api" / "openapi.json"
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}
IN_MEMORY_SEARCH = {"default": {"BACKEND": "search.backends.embedded", "OPTIONS": {"IN_MEMORY": True}}}


def _as_the_test_client_calls_it(app):
    """The WSGI application without Django's closing of the database connection at the start and end of
    each request, as Django's test client calls it. Inside the test's transaction that close ends the
    transaction: a no-op on SQLite's in-memory test database, the end of the connection on PostgreSQL."""

    def call(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return call


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
def test_schemathesis_finds_nothing_with_every_check():
    """Generated requests to every operation, valid and invalid, anonymous and as a member.

    Failed sign-ins lock the token endpoint (django-axes) as they would for a real client sending
    random passwords: its documented 429 is then what the checks see, and it must be JSON too. Search
    runs on an index of the test site, so hits and facets are checked against their types.
    """
    schemathesis = pytest.importorskip("schemathesis")
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import CHECKS
    from schemathesis.specs.openapi.checks import negative_data_rejection  # importing registers them

    from cms import visibility
    from search import indexing
    from tests.factories import build_site

    from .helpers import make_user, token_for

    site = build_site()
    indexing.rebuild()
    member_token = token_for(make_user("schema-member", visibility.members_group()))
    app = _as_the_test_client_calls_it(get_wsgi_application())
    schema = schemathesis.openapi.from_wsgi("/api/v2/schema/", app)
    checks = CHECKS.get_all()
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"GET /api/v2/pages/", "GET /api/v2/pages/{id}/", "GET /api/v2/search/", "POST /api/v2/auth/token/"} <= labels
    statuses: dict[str, list[int]] = {}

    def wire_ambiguous(operation) -> bool:
        """Query parameters whose invalid variants can be valid on the wire: a one-item array and a
        scalar, an empty object and an empty value look the same in a query string. Generated outside
        schemathesis's runner, such cases carry no mutation record for its negative check to see
        through, so that one check is left to the CLI run against the app (README); all others run."""
        params = operation.definition.raw.get("parameters", [])
        return any("anyOf" in p["schema"] or p["schema"].get("type") == "array" for p in params if p["in"] == "query")

    def explore(operation, mode, examples, headers=None):
        excluded = [negative_data_rejection] if mode == GenerationMode.NEGATIVE and wire_ambiguous(operation) else []

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = case.call_and_validate(checks=checks, headers=headers, excluded_checks=excluded)
            statuses.setdefault(operation.label, []).append(response.status_code)

        try:
            run()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE, operation.label  # nothing to negate (no parameters)

    member = {"Authorization": f"Bearer {member_token}"}
    for operation in operations:
        explore(operation, GenerationMode.POSITIVE, 25)
        explore(operation, GenerationMode.NEGATIVE, 15)
        if operation.method.upper() == "GET":
            explore(operation, GenerationMode.POSITIVE, 8, headers=member)
    every = [code for codes in statuses.values() for code in codes]
    assert len(every) > 500
    assert {200, 400} <= set(every)
    assert not [code for code in every if code >= 500]
    # Valid page listings are answered, whatever filters were generated.
    assert set(statuses["GET /api/v2/pages/"]) & {200}

    # Undeclared methods (schemathesis's CLI tries them; strategies don't): a JSON 405 naming the others.
    client = ApiClient(enforce_csrf_checks=True)
    for path, item in json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["paths"].items():
        url = path.replace("{id}", "1")
        for method in {"put", "patch", "delete", "trace", "post"} - set(item):
            response = client.generic(method.upper(), url)
            assert response.status_code == 405, (method, url, response.content[:200])
            assert set(response.json()) == {"message"}
            assert {m.upper() for m in item} <= {m.strip() for m in response["Allow"].split(",")}, (method, url)

    search = next(op for op in operations if op.label == "GET /api/v2/search/")
    explore(search, GenerationMode.POSITIVE, 40)
    assert {200, 400} <= set(statuses[search.label]), statuses[search.label]
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
