"""The study records' endpoints honour their part of the OpenAPI schema (schemathesis, every check),
before the lead regenerates cms/api/openapi.json: the schema is built here with ``build_schema``, which
merges every part's ``openapi_paths``/``openapi_components``."""

import pytest
from django.test import override_settings

from cms.api.openapi import build_schema
from tests.api.test_schema import NO_LIMITS, _as_the_test_client_calls_it

STUDY = ("/api/v2/study/beacon/", "/api/v2/study/me/")


@pytest.mark.django_db(transaction=False)
@override_settings(SHUYUAN_API=NO_LIMITS)
def test_schemathesis_finds_nothing_on_the_study_endpoints():
    schemathesis = pytest.importorskip("schemathesis")
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import CHECKS
    from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: F401 - registers it

    from cms import visibility
    from members.records.models import ReadingRecord
    from tests.api.helpers import make_user, token_for
    from tests.factories import build_site

    site = build_site(n_articles=1)
    member = make_user("schema-member", visibility.members_group())
    headers = {"Authorization": f"Bearer {token_for(member)}"}
    raw = build_schema()
    raw["paths"] = {path: item for path, item in raw["paths"].items() if path in STUDY}
    app = _as_the_test_client_calls_it(get_wsgi_application())
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = app  # as schemathesis.openapi.from_wsgi does after loading the served file
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == {"POST /api/v2/study/beacon/", "GET /api/v2/study/me/"}
    statuses: dict[str, list[int]] = {}

    def explore(operation, mode, examples, extra=None):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case):
            checks = CHECKS.get_all()
            if extra and mode == GenerationMode.NEGATIVE:
                # the member's headers replace one the case may have broken on purpose: such a case is no
                # longer negative data, so its acceptance is no finding
                checks = [c for c in checks if c.__name__ not in ("negative_data_rejection", "missing_required_header")]
            response = case.call_and_validate(checks=checks, headers=extra)
            statuses.setdefault(f"{operation.label} {mode.value} {bool(extra)}", []).append(
                response.status_code
            )

        try:
            run()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE, operation.label

    for operation in operations:
        for extra in (None, headers):
            explore(operation, GenerationMode.POSITIVE, 30, extra)
            explore(operation, GenerationMode.NEGATIVE, 20, extra)
    every = [code for codes in statuses.values() for code in codes]
    assert not [code for code in every if code >= 500]
    assert 200 in statuses["GET /api/v2/study/me/ positive True"]
    assert set(statuses["POST /api/v2/study/beacon/ positive False"]) == {401}
    # a generated page id hardly ever names the test site's material: refused, never recorded
    assert {400, 403} & set(statuses["POST /api/v2/study/beacon/ positive True"])
    assert not ReadingRecord.objects.exclude(page__in=site.materials + [site.members_material]).exists()
