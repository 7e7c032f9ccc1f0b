"""Golden responses of the surveys API (``members.surveys.api``): the definition a public and a
members-only survey give each caller, the refusals, an accepted submission. ``UPDATE_GOLDEN=1`` rewrites
them (review the diff); a missing file fails."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest

from cms.visibility import Audience
from members.surveys.models import MailboxPage
from tests.api.helpers import ApiClient, make_user, token_for
from tests.api.test_golden import Normaliser

from .test_surveys import _search, build_tree, in_memory_search, make_survey  # noqa: F401 - fixtures

GOLDEN = Path(__file__).with_name("golden")
REGENERATE = "UPDATE_GOLDEN=1 .venv/bin/pytest tests/members/test_surveys_api.py"
FIXED = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def compare(name: str, actual) -> None:
    path = GOLDEN / f"surveys-{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if not path.exists():
        pytest.fail(f"{name}: golden file {path} is missing; review the response and write it with: {REGENERATE}")
    assert actual == json.loads(path.read_text(encoding="utf-8")), f"{name}: response differs from {path.name} (if intended: {REGENERATE})"


@pytest.fixture(name="tree")
def _tree(db, settings):
    return build_tree(settings)


@pytest.fixture
def pages(tree):
    # fixed times, so the goldens do not move with the clock
    tree.golden = make_survey(tree.home, "golden", title="年度满意度调查", opens=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), closes=FIXED)
    tree.gone = make_survey(tree.home, "gone", title="去年的调查", opens=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                            closes=dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    tree.members_golden = make_survey(tree.home, "members-golden", title="会员调查", audience=Audience.MEMBERS)
    return tree


def normalise(tree, response):
    site = {"golden": tree.golden, "gone": tree.gone, "members": tree.members_golden, "mailbox": tree.mailbox,
            "images": [], "documents": []}
    data = Normaliser(site)(response.json())
    text = json.dumps(data, ensure_ascii=False)
    for page in site.values():
        if isinstance(page, list):
            continue
        text = re.sub(rf"/api/v2/surveys/{page.pk}/", f"/api/v2/surveys/<page:{page.slug}>/", text)
    return {"status": response.status_code, "body": json.loads(text)}


def test_goldens(pages):
    tree = pages
    anonymous, member = ApiClient(), ApiClient(token_for(tree.member))
    plain = ApiClient(token_for(make_user("plain-golden")))
    names = [f["name"] for f in tree.golden.form_spec()["fields"]]
    checks = {
        # refusals first
        "members-only-anonymous": anonymous.get(f"/api/v2/surveys/{tree.members_golden.pk}/"),
        "members-only-non-member": plain.get(f"/api/v2/surveys/{tree.members_golden.pk}/"),
        "closed-submit": anonymous.post(f"/api/v2/surveys/{tree.gone.pk}/submissions/",
                                        {"answers": {names[0]: "满意"}}, content_type="application/json"),
        "missing-required": anonymous.post(f"/api/v2/surveys/{tree.golden.pk}/submissions/",
                                           {"answers": {names[2]: "建议"}}, content_type="application/json"),
        "honeypot": anonymous.post(f"/api/v2/surveys/{tree.golden.pk}/submissions/",
                                   {"answers": {names[0]: "满意", "website": "x"}}, content_type="application/json"),
        "not-a-form": anonymous.get(f"/api/v2/surveys/{tree.home.pk}/"),
        # answers
        "definition": anonymous.get(f"/api/v2/surveys/{tree.golden.pk}/"),
        "definition-closed": anonymous.get(f"/api/v2/surveys/{tree.gone.pk}/"),
        "members-only-member": member.get(f"/api/v2/surveys/{tree.members_golden.pk}/"),
        "mailbox": anonymous.get(f"/api/v2/surveys/{tree.mailbox.pk}/"),
        "submit": anonymous.post(f"/api/v2/surveys/{tree.golden.pk}/submissions/",
                                 {"answers": {names[0]: "满意", names[1]: ["新闻"]}}, content_type="application/json"),
        "letter": anonymous.post(f"/api/v2/surveys/{tree.mailbox.pk}/submissions/",
                                 {"answers": {"subject": "建议", "body": "内容", "consent": True}}, content_type="application/json"),
    }
    assert isinstance(tree.mailbox, MailboxPage)
    for name, response in checks.items():
        compare(name, normalise(tree, response))
    assert checks["members-only-anonymous"].status_code == 404
    assert checks["submit"].status_code == 201


def test_the_schema_describes_the_endpoints():
    from members.surveys.api import openapi_components, openapi_paths, urlpatterns

    paths = openapi_paths()
    assert set(paths) == {"/api/v2/surveys/{id}/", "/api/v2/surveys/{id}/submissions/"}
    assert {"400", "409", "413", "429"} <= set(paths["/api/v2/surveys/{id}/submissions/"]["post"]["responses"])
    refs = re.findall(r"#/components/schemas/(\w+)", json.dumps(paths) + json.dumps(openapi_components()))
    assert set(refs) <= set(openapi_components())
    assert len(urlpatterns) == 2
