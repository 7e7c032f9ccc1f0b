"""The OpenAPI schema: committed, served, up to date, and honoured by every response (schemathesis)."""

import json
from pathlib import Path

import pytest
from django.test import override_settings

from cms.api.openapi import build_schema, render

from .helpers import ApiClient

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "cms" / "api" / "openapi.json"
NO_LIMITS = {"RATE_LIMITS": {"anon": None, "user": None, "auth": None}}


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
@override_settings(SHUYUAN_API=NO_LIMITS)
def test_schemathesis_finds_no_server_errors_or_schema_violations():
    """Generated requests to every operation: no 5xx, and every response matches the schema."""
    schemathesis = pytest.importorskip("schemathesis")
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from tests.factories import build_site

    build_site()
    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v2/schema/", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {"GET /api/v2/pages/", "GET /api/v2/pages/{id}/", "GET /api/v2/search/", "POST /api/v2/auth/token/"} <= labels
    calls = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            calls.append(case.call_and_validate(checks=checks).status_code)

        run()
    assert len(calls) > 50
    assert 200 in calls and 400 in calls
